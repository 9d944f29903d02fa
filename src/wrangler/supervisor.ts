import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runtimeError } from "../errors.js";
import type { WorkerTarget } from "../project/target.js";
import { classifyStartupFailure, type FailureCause } from "./classify.js";
import { type ExitInfo, prepareStart, spawnNodeGroup, superviseGroup } from "./group.js";
import { findFreePort, LOOPBACK } from "./ports.js";
import type { ReclaimedRun } from "./records.js";

/** Quiet, offline-friendly wrangler (FACTS.md): no metrics, no error reports, no cf.json fetch. */
export const WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
} as const;

export interface StartOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default: `<worker>/.wrangler/state`, as wrangler. */
  persistTo?: string;
  /** How long to wait for the first HTTP answer. */
  timeoutMs?: number;
  /** Extra environment for wrangler (for example MINIFLARE_WORKERD_PATH). */
  env?: Record<string, string>;
  /** Every line wrangler or workerd prints, ANSI codes removed. */
  onLog?: (line: string) => void;
  /** Called before starting when processes left by a killed cfprobe run were stopped. */
  onReclaimed?: (runs: ReclaimedRun[]) => void;
  /** Aborting stops the start and everything it spawned. */
  signal?: AbortSignal;
}

export type { ExitInfo } from "./group.js";

export interface RunningWorker {
  target: WorkerTarget;
  url: string;
  port: number;
  /** wrangler's pid (or the Pyodide runtime's), also the process group of everything it started. */
  pid: number;
  /** Which runtime serves it; absent means workerd under wrangler. */
  runtime?: "workerd" | "pyodide";
  persistTo: string;
  /** Resolves when wrangler exits, for whatever reason. */
  exited: Promise<ExitInfo>;
  /** The last lines of the log. */
  logTail(): string[];
  /** Stops the whole process group and waits until the port is free. Safe to call twice. */
  stop(): Promise<void>;
}

/** Failure to start, with the classified cause and the last lines of the log. */
export interface StartFailure {
  cause: FailureCause;
  logTail: string[];
  exit?: ExitInfo;
}

export { defaultPersistTo } from "../project/target.js";

/**
 * The node arguments that run the project's own wrangler. wrangler's bin script only checks the
 * Node version and starts `node --no-warnings --experimental-vm-modules wrangler-dist/cli.js` as a
 * second process; cfprobe starts that directly (one Node boot less per start, one process less to
 * supervise) and falls back to the bin script if a wrangler version lays itself out differently.
 */
export function wranglerNodeArgs(): string[] {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve("wrangler/package.json"));
  const cli = path.join(root, "wrangler-dist", "cli.js");
  if (existsSync(cli)) return ["--no-warnings", "--experimental-vm-modules", cli];
  return [path.join(root, "bin", "wrangler.js")];
}

/**
 * Starts `wrangler dev --local` for a worker in its own process group, waits until it answers
 * HTTP, and hands back a handle whose stop() ends every process it started.
 */
export async function startWorker(target: WorkerTarget, options: StartOptions): Promise<RunningWorker> {
  const place = await prepareStart(target, options);
  const { port, persistTo, url } = place;
  // wrangler picks its inspector port (9229 and up) by probing, so two starts at the same moment
  // can pick the same one and one of them dies with "Address already in use": choose it here.
  const inspectorPort = await findFreePort();

  const args = [
    ...wranglerNodeArgs(),
    "dev",
    "--local",
    "--config",
    target.config.path,
    ...(target.config.env ? ["--env", target.config.env] : []),
    "--persist-to",
    persistTo,
    "--ip",
    LOOPBACK,
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--show-interactive-dev-session=false",
  ];
  // Python workers: a workerd wrapper that reads cfprobe's Pyodide cache, removed when wrangler exits.
  // Loaded only for them: everything imported before the spawn delays every worker's start.
  const runtime =
    target.runtime === "python"
      ? await (await import("../python/workerd-cache.js")).prepareWorkerRuntime(target, {
          ...process.env,
          ...options.env,
        })
      : { env: {}, cleanup: () => {} };
  const spawned = await spawnNodeGroup(args, {
    cwd: target.dir,
    env: { ...WRANGLER_ENV, ...options.env, ...runtime.env },
    stdin: "ignore",
  });
  if (spawned.pid === undefined) {
    runtime.cleanup();
    throw runtimeError("wrangler-spawn-failed", `Could not start wrangler: ${spawned.error.message}.`, {
      hint: "Reinstall cfprobe's dependencies with `npm ci`.",
    });
  }
  const { child, pid } = spawned;

  const { exited, logTail, stop } = superviseGroup(child, pid, {
    workerDir: target.dir,
    place,
    onLog: options.onLog,
  });
  void exited.then(runtime.cleanup);

  const outcome = await waitUntilReady(url, exited, options.timeoutMs ?? 60_000, options.signal);
  if (outcome.kind !== "ready") {
    await stop();
    const lines = logTail();
    if (outcome.kind === "aborted") throw options.signal?.reason ?? new Error("aborted");
    const classified = classifyStartupFailure(lines);
    const timeoutS = Math.round((options.timeoutMs ?? 60_000) / 1000);
    const cause: FailureCause =
      outcome.kind === "timeout" && classified.kind === "unknown"
        ? { ...classified, summary: `The worker did not answer HTTP within ${timeoutS} s.` }
        : classified;
    const failure: StartFailure = {
      cause,
      logTail: lines,
      ...(outcome.kind === "exited" ? { exit: outcome.exit } : {}),
    };
    throw runtimeError(
      outcome.kind === "exited" ? "worker-start-failed" : "worker-start-timeout",
      `${target.label}: ${cause.summary}`,
      {
        hint: cause.hint ?? "Run again with --verbose to see wrangler's whole log.",
        details: lines,
        data: {
          target: target.label,
          cause,
          exit: failure.exit ?? null,
          timedOut: outcome.kind === "timeout",
        },
      },
    );
  }

  return { target, url, port, pid, persistTo, exited, logTail, stop };
}

export type Readiness =
  | { kind: "ready" }
  | { kind: "exited"; exit: ExitInfo }
  | { kind: "timeout" }
  | { kind: "aborted" };

/** How long a worker may answer only 5xx before that counts as its real answer. */
const SERVER_ERROR_GRACE_MS = 1500;

/**
 * Ready means the worker answered an HTTP request: the "Ready on" log line appears before workerd
 * has loaded the script, and its wording changes between versions. A 5xx is not enough at once:
 * wrangler's proxy answers 500 when the runtime behind it is still dying (a Python worker that
 * cannot download Pyodide does exactly that), so 5xx counts only once it has lasted
 * SERVER_ERROR_GRACE_MS with wrangler still running; a worker whose `/` really fails is then ready.
 */
export async function waitUntilReady(
  url: string,
  exited: Promise<ExitInfo>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  let exit: ExitInfo | undefined;
  void exited.then((info) => {
    exit = info;
  });
  let firstServerError: number | undefined;
  // Imported here, after the spawn, so that loading it overlaps with wrangler's own start.
  const { request } = await import("undici");
  while (true) {
    if (exit) return { kind: "exited", exit };
    if (signal?.aborted) return { kind: "aborted" };
    if (Date.now() >= deadline) return { kind: "timeout" };
    try {
      const response = await request(url, {
        method: "GET",
        headersTimeout: 2000,
        bodyTimeout: 2000,
        signal,
      });
      await response.body.dump();
      if (response.statusCode < 500) return { kind: "ready" };
      firstServerError ??= Date.now();
      if (Date.now() - firstServerError >= SERVER_ERROR_GRACE_MS && !exit) return { kind: "ready" };
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
}
