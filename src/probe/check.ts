import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { request } from "undici";
import { CfprobeError } from "../errors.js";
import type { WorkerTarget } from "../project/target.js";
import { type RuntimeChoice, startWorkerOn } from "../runtime.js";
import type { FailureCause } from "../wrangler/classify.js";
import type { RunningWorker } from "../wrangler/supervisor.js";
import { SharedChromium } from "./browser/chromium.js";
import { findChromium } from "./browser/run.js";
import { runSuite, type WorkerSession } from "./run.js";
import { type Suite, usesBrowser } from "./suite.js";
import type { CheckResult } from "./types.js";

export type TargetStatus = "passed" | "failed" | "blocked";

/** The result for one target; the human report, --json and JUnit render this value. */
export interface TargetReport {
  target: string;
  status: TargetStatus;
  url?: string;
  /** The runtime that served the worker: workerd (under wrangler dev) or pyodide. */
  runtime?: "workerd" | "pyodide";
  suite: string;
  /** Why the target was blocked, or how the worker crashed. */
  cause?: Pick<FailureCause, "kind" | "summary" | "hint">;
  /** The last lines of the worker's log when it could not start or crashed. */
  log?: string[];
  checks: CheckResult[];
  durationMs: number;
}

export interface CheckTargetOptions {
  /** Keep state here instead of a fresh temporary folder (which is removed afterwards). */
  persistTo?: string;
  timeoutMs: number;
  artifactsDir: string;
  requireBrowser: boolean;
  verbose: boolean;
  chromium?: string;
  signal: AbortSignal;
  /** workerd (default), pyodide, or auto (decided at the first start, kept for restarts). */
  runtime?: RuntimeChoice;
  onNotice?: (message: string) => void;
  onLog?: (line: string) => void;
  onCheck?: (result: CheckResult) => void;
}

/**
 * Starts the target on a free port, runs the suite against it (restarting it when a step asks),
 * stops it, and reports. A target that cannot start is `blocked` with the classified cause.
 */
export async function checkTarget(
  target: WorkerTarget,
  suite: Suite,
  options: CheckTargetOptions,
): Promise<TargetReport> {
  const started = performance.now();
  const temporary = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(path.join(tmpdir(), "cfprobe-check-"));
  const base = { target: target.label, suite: suite.file };
  const finish = (report: Omit<TargetReport, "target" | "suite" | "durationMs">): TargetReport => ({
    ...base,
    ...report,
    durationMs: Math.round(performance.now() - started),
  });
  const start = (port: number, runtime = options.runtime) =>
    startWorkerOn(target, {
      port,
      persistTo,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      onLog: options.onLog,
      runtime,
      verbose: options.verbose,
      onNotice: options.onNotice,
    });

  // Chromium starts while the worker does (both take about a second), when the suite needs one.
  const browsers = new SharedChromium();
  if (usesBrowser(suite)) {
    const chromium = findChromium(process.env, options.chromium);
    if (chromium.found) {
      browsers.get(chromium.executable, { signal: options.signal, timeoutMs: 30_000 }).catch(() => {});
    }
  }
  let worker: RunningWorker | undefined;
  try {
    try {
      worker = await start(0);
    } catch (error) {
      const blocked = asStartFailure(error);
      if (!blocked) throw error;
      return finish({ status: "blocked", cause: blocked.cause, log: blocked.log, checks: [] });
    }

    let announceCrash: (description: string) => void = () => {};
    const crashed = new Promise<string>((resolve) => {
      announceCrash = resolve;
    });
    let current: RunningWorker = worker;
    let restarting = false;
    const watch = (running: RunningWorker) => {
      void running.exited.then((exit) => {
        if (restarting || running !== current) return;
        announceCrash(
          exit.signal ? `wrangler was killed by ${exit.signal}` : `wrangler exited with code ${exit.code}`,
        );
      });
    };
    watch(current);

    const session: WorkerSession = {
      baseUrl: () => current.url,
      crashed,
      database: { target, persistTo },
      restart: async () => {
        restarting = true;
        try {
          await current.stop();
          current = await start(current.port, current.runtime ?? "workerd");
          worker = current;
        } catch (error) {
          announceCrash(`it did not come back after a restart: ${(error as Error).message}`);
          throw error;
        } finally {
          restarting = false;
        }
        watch(current);
      },
    };
    const run = await runSuite(suite, session, {
      artifactsDir: options.artifactsDir,
      signal: options.signal,
      requireBrowser: options.requireBrowser,
      verbose: options.verbose,
      chromium: options.chromium,
      browsers,
      onCheck: options.onCheck,
    });
    const failed = run.crash !== undefined || run.checks.some((check) => check.status === "fail");
    return finish({
      status: failed ? "failed" : "passed",
      url: current.url,
      runtime: current.runtime ?? "workerd",
      checks: run.checks,
      ...(run.crash
        ? {
            cause: { kind: "unknown", summary: `The worker crashed during the suite: ${run.crash}.` },
            log: current.logTail(),
          }
        : {}),
    });
  } finally {
    await Promise.all([worker?.stop(), browsers.close()]);
    if (temporary) rmSync(persistTo, { recursive: true, force: true });
  }
}

/** Runs a suite against a worker that is already running (local or deployed); never starts one. */
export async function checkUrl(
  url: string,
  suite: Suite,
  options: Omit<CheckTargetOptions, "timeoutMs" | "onLog"> & { target?: WorkerTarget },
): Promise<TargetReport> {
  const started = performance.now();
  const baseUrl = url.replace(/\/+$/, "");
  const report = (rest: Omit<TargetReport, "target" | "suite" | "durationMs" | "url">): TargetReport => ({
    target: options.target?.label ?? baseUrl,
    url: baseUrl,
    suite: suite.file,
    ...rest,
    durationMs: Math.round(performance.now() - started),
  });
  const reachable = await answers(baseUrl, options.signal);
  if (reachable !== true) {
    return report({
      status: "blocked",
      cause: {
        kind: "unknown",
        summary: `Nothing answered at ${baseUrl} (${reachable}).`,
        hint: "Start the worker first (for example `cfprobe dev js`), or check the URL given to --url.",
      },
      checks: [],
    });
  }
  const session: WorkerSession = {
    baseUrl: () => baseUrl,
    crashed: new Promise(() => {}),
    ...(options.persistTo && options.target
      ? { database: { target: options.target, persistTo: options.persistTo } }
      : {}),
  };
  const run = await runSuite(suite, session, options);
  return report({
    status: run.checks.some((check) => check.status === "fail") ? "failed" : "passed",
    checks: run.checks,
  });
}

async function answers(url: string, signal: AbortSignal): Promise<true | string> {
  try {
    const response = await request(url, {
      headersTimeout: 5000,
      bodyTimeout: 5000,
      signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
    });
    await response.body.dump();
    return true;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    return (error as Error).name === "TimeoutError" ? "no answer within 5 s" : (error as Error).message;
  }
}

function asStartFailure(error: unknown): { cause: TargetReport["cause"]; log: string[] } | undefined {
  if (!(error instanceof CfprobeError)) return undefined;
  if (error.code !== "worker-start-failed" && error.code !== "worker-start-timeout") return undefined;
  const cause = (error.data?.cause as FailureCause | undefined) ?? {
    kind: "unknown",
    summary: error.message,
  };
  return {
    cause: { kind: cause.kind, summary: cause.summary, ...(error.hint ? { hint: error.hint } : {}) },
    log: error.details,
  };
}
