import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { defaultPersistTo, type WorkerTarget } from "../project/target.js";
import { stripAnsi } from "./classify.js";
import { assertPortFree, findFreePort, LOOPBACK, waitUntilPortFree } from "./ports.js";
import { readProcStat, stopProcessGroup } from "./processes.js";
import { type ReclaimedRun, reclaimOrphanedRuns, removeRunRecord, writeRunRecord } from "./records.js";

/**
 * What every worker runtime cfprobe starts (wrangler dev, the Pyodide host) shares: the place it
 * will listen, and a child in a process group of its own that is logged, recorded for SIGKILL
 * recovery, and stopped as a whole.
 */

/** How many log lines a failure report keeps. */
export const LOG_TAIL = 30;

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export interface StartPlace {
  port: number;
  persistTo: string;
  url: string;
}

/**
 * Stops what a killed cfprobe left for this worker, then settles the port (0 picks a free one, a
 * fixed one must be free) and the persist folder (default `<worker>/.wrangler/state`, as wrangler).
 */
export async function prepareStart(
  target: WorkerTarget,
  options: { port: number; persistTo?: string; onReclaimed?: (runs: ReclaimedRun[]) => void },
): Promise<StartPlace> {
  const reclaimed = await reclaimOrphanedRuns(target.dir);
  if (reclaimed.length > 0) options.onReclaimed?.(reclaimed);
  const port = options.port === 0 ? await findFreePort() : options.port;
  if (options.port !== 0) await assertPortFree(port);
  const persistTo = path.resolve(options.persistTo ?? defaultPersistTo(target));
  return { port, persistTo, url: `http://${LOOPBACK}:${port}` };
}

/**
 * Spawns `node args…` in a process group of its own (so stop() can end it and everything it
 * starts) with stdout and stderr piped. node:child_process rather than execa: this runs before
 * every worker start, and execa's import alone costs about 90 ms. Returns undefined as pid when
 * the spawn failed; `error` then says why.
 */
export async function spawnNodeGroup(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; stdin: "ignore" | "pipe" },
): Promise<{ child: ChildProcess; pid: number } | { child: ChildProcess; pid: undefined; error: Error }> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: [options.stdin, "pipe", "pipe"],
  });
  if (child.pid !== undefined) return { child, pid: child.pid };
  const error = await new Promise<Error>((resolve) => child.once("error", resolve));
  return { child, pid: undefined, error };
}

export interface SupervisedGroup {
  exited: Promise<ExitInfo>;
  logTail(): string[];
  /** Stops the whole group, waits for every member and for the port; safe to call twice. */
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  workerDir: string;
  place: StartPlace;
  /** Every log line (ANSI removed) that `intercept` did not take. */
  onLog?: (line: string) => void;
  /** Takes protocol lines out of the log: return true when the line was consumed. */
  intercept?: (line: string) => boolean;
  /** Runs once the group has exited, before the port is awaited. */
  afterExit?: () => void;
}

/** `child` must have been spawned detached, so that its pid is the group of all it starts. */
export function superviseGroup(child: ChildProcess, pid: number, options: SuperviseOptions): SupervisedGroup {
  const tail: string[] = [];
  const onLine = (raw: string) => {
    const line = stripAnsi(raw);
    if (options.intercept?.(line)) return;
    tail.push(line);
    if (tail.length > LOG_TAIL) tail.shift();
    options.onLog?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
  }
  const exited = waitForExit(child);

  const { port, persistTo } = options.place;
  const recordFile = writeRunRecord(options.workerDir, {
    ownerPid: process.pid,
    ownerStartTime: readProcStat(process.pid)?.startTime ?? 0,
    pgid: pid,
    leaderStartTime: readProcStat(pid)?.startTime ?? 0,
    port,
    persistTo,
    startedAt: new Date().toISOString(),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await stopProcessGroup(pid);
      await exited;
      options.afterExit?.();
      await waitUntilPortFree(port, 5000);
      removeRunRecord(recordFile);
    })();
    return stopping;
  };
  return { exited, logTail: () => [...tail], stop };
}

/**
 * Resolves when the child itself exits ('exit', not 'close': 'close' also waits for stdout and
 * stderr, which an orphaned grandchild may hold open for ever).
 */
export function waitForExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}
