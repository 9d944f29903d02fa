import { cpSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  groupMembers,
  http,
  killGroup,
  occupyPort,
  portIsFree,
  processesMentioning,
  type ReadyLine,
  ROOT,
  runCli,
  startCli,
  startDev,
  withCleanups,
} from "./helpers.js";

const { defer, tempDir } = withCleanups();

/** A private copy of the JS worker, so run records and state never touch another test's. */
function jsWorkerCopy() {
  const dir = tempDir("jsw");
  cpSync(path.join(ROOT, "workers", "js-worker"), dir, {
    recursive: true,
    filter: (source) => !source.includes(".wrangler"),
  });
  return dir;
}

async function counter(url: string) {
  const response = await http(`${url}/counter`);
  expect(response.status).toBe(200);
  return (JSON.parse(response.body) as { count: number }).count;
}

describe("cfprobe dev js", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("serves the worker and stops everything on %s", async (signal, expectedCode) => {
    const persist = tempDir("state");
    const { cli, ready } = await startDev(["js", "--port", "0", "--persist-to", persist], defer);
    expect(ready).toMatchObject({ target: "js", persistTo: persist });
    expect(ready.url).toBe(`http://127.0.0.1:${ready.port}`);

    const hello = await http(`${ready.url}/`);
    expect(hello.status).toBe(200);
    expect(hello.body).toContain("Hello from the JavaScript worker");
    const first = await counter(ready.url);
    expect(await counter(ready.url)).toBe(first + 1);
    expect(groupMembers(ready.pid).length).toBeGreaterThanOrEqual(2);

    cli.child.kill(signal);
    expect(await cli.exit()).toBe(expectedCode);
    expect(groupMembers(ready.pid)).toEqual([]);
    expect(processesMentioning(persist)).toEqual([]);
    expect(await portIsFree(ready.port)).toBe(true);
  });

  it("continues the count after a restart on the same --persist-to", async () => {
    const persist = tempDir("state");
    const first = await startDev(["js", "--port", "0", "--persist-to", persist], defer);
    await counter(first.ready.url);
    const before = await counter(first.ready.url);
    first.cli.child.kill("SIGINT");
    expect(await first.cli.exit()).toBe(130);

    const second = await startDev(["js", "--port", "0", "--persist-to", persist], defer);
    expect(await counter(second.ready.url)).toBe(before + 1);
    second.cli.child.kill("SIGINT");
    expect(await second.cli.exit()).toBe(130);
  });

  it("refuses a port that is taken, names it and its holder, and starts nothing", async () => {
    const holder = await occupyPort();
    defer(holder.close);
    const persist = tempDir("state");
    const result = await runCli(["dev", "js", "--port", String(holder.port), "--persist-to", persist]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `Port ${holder.port} on 127.0.0.1 is already in use by pid ${process.pid}`,
    );
    expect(result.stderr).toContain("--port");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(processesMentioning(persist)).toEqual([]);

    const json = await runCli(["dev", "js", "--port", String(holder.port), "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: "port-in-use" } });
  });

  it("stops the workerd children and exits 4 when wrangler dies under it", async () => {
    const persist = tempDir("state");
    const { cli, ready } = await startDev(["js", "--port", "0", "--persist-to", persist], defer);
    process.kill(ready.pid, "SIGKILL");
    expect(await cli.exit()).toBe(4);
    const error = JSON.parse(cli.stdoutLines.at(-1)!);
    expect(error).toMatchObject({
      ok: false,
      error: { code: "worker-crashed", data: { exit: { signal: "SIGKILL" } } },
    });
    expect(error.error.message).toContain("wrangler was killed by SIGKILL");
    expect(groupMembers(ready.pid)).toEqual([]);
    expect(await portIsFree(ready.port)).toBe(true);
  });

  it("after cfprobe itself is SIGKILLed, the next run stops what it left behind", async () => {
    const worker = jsWorkerCopy();
    const persist = tempDir("state");
    const first = await startDev([worker, "--port", "0", "--persist-to", persist], defer);
    first.cli.child.kill("SIGKILL");
    await first.cli.exit();
    expect(groupMembers(first.ready.pid).length).toBeGreaterThan(0);

    const second = await startDev([worker, "--port", "0", "--persist-to", persist], defer);
    expect(second.cli.stderr()).toMatch(/stopped \d+ process\(es\) left running by an earlier cfprobe/);
    expect(groupMembers(first.ready.pid)).toEqual([]);
    expect(await portIsFree(first.ready.port)).toBe(true);
    second.cli.child.kill("SIGINT");
    expect(await second.cli.exit()).toBe(130);
    expect(groupMembers(second.ready.pid)).toEqual([]);
  });
});

describe("cfprobe dev, several targets", () => {
  it("runs two workers side by side with prefixed logs and stops both", async () => {
    const cli = startCli(["dev", "js", "fixtures/workers/broken", "--port", "0", "--json"]);
    defer(() => cli.child.kill("SIGKILL"));
    await cli.waitForLine(/"target":"js"/);
    await cli.waitForLine(/"target":"fixtures\/workers\/broken"/);
    const ready = cli.stdoutLines.map((line) => JSON.parse(line) as ReadyLine);
    for (const worker of ready) defer(() => killGroup(worker.pid));
    expect(new Set(ready.map((worker) => worker.port)).size).toBe(2);
    for (const worker of ready) expect((await http(`${worker.url}/`)).status).toBe(200);
    expect(cli.stderr()).toMatch(/^\[js +\] /m);
    expect(cli.stderr()).toMatch(/^\[fixtures\/workers\/broken\] /m);

    cli.child.kill("SIGTERM");
    expect(await cli.exit()).toBe(143);
    for (const worker of ready) {
      expect(groupMembers(worker.pid)).toEqual([]);
      expect(await portIsFree(worker.port)).toBe(true);
    }
  });

  it("stops the started worker when another target fails to start", async () => {
    const persist = tempDir("state");
    const result = await runCli(["dev", "js", "py", "--port", "0", "--persist-to", persist, "--json"]);
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { data: { target: "py" } } });
    expect(processesMentioning(persist)).toEqual([]);
  });
});

describe("cfprobe dev, readiness", () => {
  it("calls a worker ready whose every answer is a 500, once that answer persists", async () => {
    const { cli, ready } = await startDev(["fixtures/workers/error-root", "--port", "0"], defer);
    expect((await http(`${ready.url}/`)).status).toBe(500);
    cli.child.kill("SIGINT");
    expect(await cli.exit()).toBe(130);
  });
});

describe("cfprobe dev, readiness timeout", () => {
  it("gives up after --timeout, says so, and stops everything", async () => {
    const persist = tempDir("state");
    const result = await runCli([
      "dev",
      "js",
      "--port",
      "0",
      "--timeout",
      "0.2",
      "--persist-to",
      persist,
      "--json",
    ]);
    expect(result.code).toBe(4);
    const doc = JSON.parse(result.stdout);
    expect(doc.error.code).toBe("worker-start-timeout");
    expect(doc.error.message).toContain("did not answer HTTP within 0 s");
    expect(processesMentioning(persist)).toEqual([]);
  });
});

describe("cfprobe dev py (no internet)", () => {
  it("reports the classified Pyodide download failure and leaves nothing running", async () => {
    const persist = tempDir("state");
    const result = await runCli(["dev", "py", "--port", "0", "--persist-to", persist, "--json"]);
    expect(result.code).toBe(4);
    const doc = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(doc).toMatchObject({
      ok: false,
      error: {
        code: "worker-start-failed",
        data: { cause: { kind: "pyodide-dns", host: "pyodide-capnp-bin.edgeworker.net" } },
      },
    });
    expect(doc.error.hint).toContain("cfprobe diagnose-python");
    expect(processesMentioning(persist)).toEqual([]);
  });
});

describe("cfprobe dev, bad input", () => {
  it("refuses a Node.js older than 20.3 with exit 3", async () => {
    const { execa } = await import("execa");
    const fake = "Object.defineProperty(process.versions, 'node', { value: '18.19.0' });";
    const result = await execa(
      process.execPath,
      [
        "--import",
        `data:text/javascript,${encodeURIComponent(fake)}`,
        path.join(ROOT, "bin", "cfprobe.js"),
        "--version",
      ],
      {
        reject: false,
      },
    );
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("cfprobe needs Node.js 20.3 or newer; this is 18.19.0");
  });

  it("names an unknown target and exits 2 without a stack trace", async () => {
    const result = await runCli(["dev", "no-such-worker"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown target "no-such-worker"');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
