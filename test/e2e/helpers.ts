import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { afterEach } from "vitest";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "bin", "cfprobe.js");

/**
 * An empty Pyodide cache for this test process, so that a cache the machine's user filled with
 * `cfprobe python fetch` cannot change what the tests see.
 */
let emptyPyodideCache: string | undefined;
function isolatedPyodideCache(): string {
  emptyPyodideCache ??= mkdtempSync(path.join(tmpdir(), "cfprobe-test-pyodide-cache-"));
  return emptyPyodideCache;
}

/** Environment for the CLI under test: no colours, and nothing inherited that changes behaviour. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { NO_COLOR: "1", CFPROBE_PYODIDE_CACHE: isolatedPyodideCache(), ...extra };
}

/** Runs the built CLI to completion (bounded) and returns its output and exit code. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
) {
  const result = await execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    input: options.input,
    stdin: options.input === undefined ? "ignore" : undefined,
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr, timedOut: result.timedOut };
}

/** A long-running CLI (cfprobe dev): lines of stdout arrive as they are printed. */
export interface LiveCli {
  child: ResultPromise;
  pid: number;
  stdoutLines: string[];
  stderr: () => string;
  /** Resolves with the first stdout line matching, or rejects after `timeoutMs` with the logs. */
  waitForLine(test: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code; kills it with SIGKILL if it does not exit within `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | undefined>;
}

export function startCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): LiveCli {
  const child = execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
    reject: false,
    stdin: "ignore",
    buffer: false,
  });
  const stdoutLines: string[] = [];
  let stderr = "";
  const waiters: Array<() => void> = [];
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  if (child.stdout) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      stdoutLines.push(line);
      for (const wake of waiters.splice(0)) wake();
    });
  }
  let exitCode: number | undefined | null = null;
  const done = child.then((result) => {
    exitCode = result.exitCode;
    for (const wake of waiters.splice(0)) wake();
    return result.exitCode;
  });
  return {
    child,
    pid: child.pid ?? -1,
    stdoutLines,
    stderr: () => stderr,
    async waitForLine(test, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = stdoutLines.find((line) => test.test(line));
        if (found) return found;
        if (exitCode !== null)
          throw new Error(`cfprobe exited (${exitCode}) before printing ${test}.\n${stderr}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`No stdout line matched ${test} within ${timeoutMs} ms.\n${stderr}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 500));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async exit(timeoutMs = 30_000) {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      try {
        return await done;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Every living descendant of `pid` (by walking /proc parent links), for leak checks. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {}
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Living processes whose command line mentions `text` (for example a temp persist folder). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(text)) found.push(Number(entry));
    } catch {}
  }
  return found;
}

/** Living processes in a process group. */
export function groupMembers(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) found.push(Number(entry));
    } catch {}
  }
  return found;
}

/** Whether a TCP port on 127.0.0.1 can be bound (that is, nothing listens there). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Holds a port (like another program would) until close() is called. */
export async function occupyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Stops a process group left by a failed test, so one failure does not cascade. */
export function killGroup(pgid: number) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {}
}

/** A bounded GET/POST against a worker; fails fast instead of hanging a test. */
export async function http(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** The wrangler process cfprobe started (wrangler-dist/cli.js) whose command line mentions `text`. */
export function wranglerMentioning(text: string): number | undefined {
  return processesMentioning(text).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("wrangler-dist/cli.js");
    } catch {
      return false;
    }
  });
}

/**
 * Cleanups for the tests of one file: `defer` registers one, `tempDir` makes a folder that is
 * removed; all run after each test, last first, whether it passed or not.
 */
export function withCleanups() {
  const pending: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of pending.splice(0).reverse()) await cleanup();
  });
  const defer = (cleanup: () => unknown) => {
    pending.push(cleanup);
  };
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), `cfprobe-${prefix}-`));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  return { defer, tempDir };
}

/** The line `cfprobe dev --json` prints for each worker once it answers. */
export interface ReadyLine {
  target: string;
  url: string;
  port: number;
  pid: number;
  persistTo: string;
  runtime?: string;
}

/**
 * Starts `cfprobe dev … --json` and waits for its first worker; `defer` (from withCleanups) gets a
 * cleanup that kills the CLI and every worker group it reported, should the test not stop them.
 */
export async function startDev(args: string[], defer: (cleanup: () => unknown) => void, timeoutMs = 60_000) {
  const cli = startCli(["dev", ...args, "--json"]);
  defer(async () => {
    if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    for (const line of cli.stdoutLines) {
      const ready = JSON.parse(line) as Partial<ReadyLine>;
      if (ready.pid) killGroup(ready.pid);
    }
  });
  const ready = JSON.parse(await cli.waitForLine(/"url"/, timeoutMs)) as ReadyLine;
  return { cli, ready };
}
