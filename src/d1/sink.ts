import { once } from "node:events";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { usageError } from "../errors.js";

/** Gathers small pieces of output and writes them in 64 KiB chunks, waiting when the reader is slow. */
export class ChunkedWriter {
  private pieces: string[] = [];
  private size = 0;
  private chunks = 0;

  /** Aborting `signal` (Ctrl-C) makes the next flush throw its reason. */
  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly signal?: AbortSignal,
  ) {}

  /** Queues text; true when a chunk is full and the caller should `await flush()`. */
  push(text: string): boolean {
    this.pieces.push(text);
    this.size += text.length;
    return this.size >= 65_536;
  }

  /** Queues text and awaits the reader only when a chunk is full, so memory stays bounded. */
  async write(text: string): Promise<void> {
    if (this.push(text)) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.pieces.join("");
    this.pieces = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await drained(this.stream);
    // Writes to a pipe or terminal are synchronous: let signal handlers run now and then.
    else if (++this.chunks % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (this.signal?.aborted) throw this.signal.reason;
  }
}

/** Resolves on 'drain'; rejects if the stream fails first (for example EPIPE when `| head` exits). */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off("drain", onDrain);
      stream.off("error", done);
      stream.off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(Object.assign(new Error("output closed"), { code: "EPIPE" }));
    stream.on("drain", onDrain);
    stream.on("error", done);
    stream.on("close", onClose);
  });
}

/**
 * Runs `produce` against a file that appears only when it succeeds: it writes a temporary file
 * beside the target and renames it over the target at the end; on any error the temporary file
 * is removed and the target is left as it was.
 */
export async function writeFileAtomically<T>(
  target: string,
  produce: (stream: NodeJS.WritableStream) => Promise<T>,
): Promise<T> {
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`,
  );
  // A deep buffer lets the dump keep producing while the disk catches up.
  const stream = createWriteStream(temporary, { flags: "wx", highWaterMark: 256 * 1024 });
  try {
    await once(stream, "open").catch((error: Error) => {
      throw usageError("output-unwritable", `Cannot write ${target}: ${error.message}`, {
        hint: "Check that its folder exists and is writable, or leave out -o to print on stdout.",
      });
    });
    const result = await produce(stream);
    stream.end();
    await once(stream, "finish");
    renameSync(temporary, target);
    return result;
  } catch (error) {
    // Writes still queued fail once the stream is destroyed; that is expected here.
    stream.on("error", () => {});
    stream.destroy();
    rmSync(temporary, { force: true });
    throw error;
  }
}
