import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CfprobeError } from "../../errors.js";
import type { WorkerTarget } from "../../project/target.js";
import type { FailureCause } from "../../wrangler/classify.js";
import { startWorker } from "../../wrangler/supervisor.js";
import type { Check, TrialOutcome } from "./types.js";

export interface TrialOptions {
  /** How long workerd gets to answer HTTP. */
  timeoutMs: number;
  /** Aborts the start (the command's deadline or Ctrl-C); everything started is stopped. */
  signal: AbortSignal;
  /** Extra environment for wrangler (for example the cache wiring). */
  env?: Record<string, string>;
  onLog?: (line: string) => void;
}

/**
 * Starts the worker under wrangler dev, the way `cfprobe dev` does, with a short bound and
 * throw-away local state, and reports whether workerd came up or how it failed.
 */
export async function runTrial(target: WorkerTarget, options: TrialOptions): Promise<TrialOutcome> {
  const started = Date.now();
  const persistTo = mkdtempSync(path.join(os.tmpdir(), "cfprobe-trial-"));
  try {
    const worker = await startWorker(target, {
      port: 0,
      persistTo,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      // wrangler's debug log of a throw-away run goes with it, not into ~/.config/.wrangler/logs.
      env: { WRANGLER_LOG_PATH: path.join(persistTo, "logs"), ...options.env },
      onLog: options.onLog,
    });
    await worker.stop();
    return { status: "started", durationMs: Date.now() - started };
  } catch (error) {
    const durationMs = Date.now() - started;
    if (error instanceof CfprobeError && error.data?.cause) {
      return {
        status: error.data.timedOut ? "timeout" : "failed",
        durationMs,
        cause: error.data.cause as FailureCause,
        logTail: error.details,
      };
    }
    if (options.signal.aborted && !(options.signal.reason instanceof CfprobeError)) {
      return {
        status: "timeout",
        durationMs,
        cause: { kind: "unknown", summary: "The trial was stopped at the command's time limit." },
        logTail: [],
      };
    }
    throw error;
  } finally {
    rmSync(persistTo, { recursive: true, force: true });
  }
}

export function trialCheck(trial: TrialOutcome): Check {
  const base = { id: "trial", group: "Live trial", title: "wrangler dev with the Python worker" };
  switch (trial.status) {
    case "skipped":
      return { ...base, status: "skip", detail: `skipped: ${trial.reason ?? "--no-trial"}` };
    case "started":
      return {
        ...base,
        status: "pass",
        detail: "workerd started and the worker answered HTTP",
        durationMs: trial.durationMs,
      };
    default:
      return {
        ...base,
        status: "fail",
        detail: trial.cause.summary,
        hint: trial.cause.evidence ? `workerd said: ${trial.cause.evidence.slice(0, 300)}` : undefined,
        durationMs: trial.durationMs,
        ...(trial.status === "timeout" ? { timedOut: true } : {}),
      };
  }
}
