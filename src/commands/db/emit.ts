import path from "node:path";
import { InvalidArgumentError } from "commander";
import { ChunkedWriter, writeFileAtomically } from "../../d1/sink.js";
import { usageError } from "../../errors.js";
import type { Output } from "../../output/output.js";
import { withInterrupts } from "../../signals.js";

export function formatOption<T extends string>(formats: readonly T[]) {
  return (value: string): T => {
    if (!(formats as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`Choose one of ${formats.join(", ")}.`);
    }
    return value as T;
  };
}

/** `--json` asks for one JSON document: the json format, and no other. */
export function chosenFormat<T extends string>(
  format: T | undefined,
  json: boolean | undefined,
  fallback: T,
): T | "json" {
  if (json && format && format !== "json") {
    throw usageError("usage", `--json prints one JSON document; it cannot go with --format ${format}.`, {
      hint: "Drop --json, or use --format json.",
    });
  }
  return format ?? (json ? "json" : fallback);
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * Runs a streaming producer against stdout, or against `-o FILE` written atomically; shows
 * progress on a terminal once it has run for a second. A reader that closes stdout early
 * (`| head`) ends the run quietly; Ctrl-C stops it (and removes the unfinished -o file).
 */
export async function emit<T>(
  out: Output,
  outputFile: string | undefined,
  cwd: string,
  produce: (writer: ChunkedWriter, onRows: (rows: number, table?: string) => void) => Promise<T>,
): Promise<T | undefined> {
  const started = Date.now();
  const onRows = (rows: number, table?: string) => {
    if (Date.now() - started > 1000)
      out.progress(`${rows.toLocaleString("en-US")} rows${table ? ` (${table})` : ""}`);
  };
  try {
    return await withInterrupts(async (signal) => {
      if (outputFile) {
        return await writeFileAtomically(path.resolve(cwd, outputFile), (stream) =>
          produce(new ChunkedWriter(stream, signal), onRows),
        );
      }
      return await produce(new ChunkedWriter(out.stdout, signal), onRows);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return undefined;
    throw error;
  } finally {
    out.clearProgress();
  }
}
