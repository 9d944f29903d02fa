import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { emit } from "../src/commands/db/emit.js";
import { Output } from "../src/output/output.js";

function capture(isTTY: boolean) {
  let text = "";
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => text };
}

async function run(isTTY: boolean, quiet = false) {
  const stdout = capture(false);
  const stderr = capture(isTTY);
  const out = new Output(
    { stdout: stdout.stream, stderr: stderr.stream, env: { NO_COLOR: "1" } },
    { json: false, quiet, verbose: false },
  );
  await emit(out, undefined, process.cwd(), async (writer, onRows) => {
    onRows(8192, "early");
    // Progress appears only once a dump has run for more than a second.
    await sleep(1100);
    onRows(16384, "events");
    await writer.write("done\n");
    await writer.flush();
  });
  return { stdout: stdout.text(), stderr: stderr.text() };
}

describe("dump progress", () => {
  it("shows progress on a terminal after a second, and clears it", async () => {
    const { stdout, stderr } = await run(true);
    expect(stdout).toBe("done\n");
    expect(stderr).toContain("16,384 rows (events)");
    expect(stderr).not.toContain("early");
    expect(stderr.endsWith("\r\x1b[2K")).toBe(true);
  });

  it("stays silent when stderr is not a terminal or with --quiet", async () => {
    expect((await run(false)).stderr).toBe("");
    expect((await run(true, true)).stderr).toBe("");
  });
});
