import path from "node:path";
import { fileURLToPath } from "node:url";
import { runtimeError } from "../../errors.js";
import type { WorkerTarget } from "../../project/target.js";
import type { FailureCause, FailureKind } from "../../wrangler/classify.js";
import { prepareStart, spawnNodeGroup, superviseGroup } from "../../wrangler/group.js";
import { type RunningWorker, type StartOptions, waitUntilReady } from "../../wrangler/supervisor.js";
import { planPyodideRun, pyodideReleaseFor } from "./plan.js";
import { FATAL_PREFIX, PLAN_ENV } from "./protocol.js";

export { BUNDLED_PYODIDE, planPyodideRun, pyodideReleaseFor } from "./plan.js";

export interface PyodideStartOptions extends StartOptions {
  /** Put Python tracebacks in 500 responses too (they always go to the log). */
  verbose?: boolean;
}

/** How the runtime's own fatal start errors map onto the causes every start failure reports. */
const FATAL_KINDS: Record<string, FailureKind> = {
  "pyodide-import-failed": "script-error",
  "pyodide-listen-failed": "address-in-use",
};

const HOST_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "host.js");

/**
 * Runs a Python worker on Pyodide in a Node process of its own (in its own process group, so a
 * Python crash or hang cannot take cfprobe down and stop() ends it and Miniflare's workerd),
 * with the same contract as startWorker: ready once it answers HTTP, nothing left after stop().
 */
export async function startPyodideWorker(
  target: WorkerTarget,
  options: PyodideStartOptions,
): Promise<RunningWorker> {
  const plan = planPyodideRun(target, await pyodideReleaseFor(target, { ...process.env, ...options.env }));
  const place = await prepareStart(target, options);
  const { port, persistTo, url } = place;

  const args = [HOST_SCRIPT, "--port", String(port), "--persist-to", persistTo];
  if (options.verbose) args.push("--verbose");
  const spawned = await spawnNodeGroup(args, {
    cwd: target.dir,
    env: { ...options.env, [PLAN_ENV]: JSON.stringify(plan) },
    // Held open by cfprobe: the runtime exits when it closes, even if cfprobe was SIGKILLed.
    stdin: "pipe",
  });
  if (spawned.pid === undefined) {
    throw runtimeError(
      "pyodide-spawn-failed",
      `Could not start the Pyodide runtime: ${spawned.error.message}.`,
      {
        hint: "Reinstall cfprobe's dependencies with `npm ci`.",
      },
    );
  }
  const { child, pid } = spawned;
  // The pipe must not keep cfprobe's event loop alive once the worker is stopped.
  child.stdin?.on("error", () => {});

  let fatal: { code: string; message: string; hint?: string } | undefined;
  const { exited, logTail, stop } = superviseGroup(child, pid, {
    workerDir: target.dir,
    place,
    onLog: options.onLog,
    intercept: (line) => {
      if (!line.startsWith(FATAL_PREFIX)) return false;
      fatal = JSON.parse(line.slice(FATAL_PREFIX.length));
      return true;
    },
    afterExit: () => child.stdin?.destroy(),
  });

  const timeoutMs = options.timeoutMs ?? 60_000;
  const outcome = await waitUntilReady(url, exited, timeoutMs, options.signal);
  if (outcome.kind !== "ready") {
    await stop();
    if (outcome.kind === "aborted") throw options.signal?.reason ?? new Error("aborted");
    const lines = logTail();
    const cause: FailureCause = fatal
      ? { kind: FATAL_KINDS[fatal.code] ?? "unknown", summary: fatal.message, hint: fatal.hint }
      : {
          kind: "unknown",
          summary:
            outcome.kind === "timeout"
              ? `The Pyodide runtime did not answer HTTP within ${Math.round(timeoutMs / 1000)} s.`
              : "The Pyodide runtime stopped before the worker answered; its log above says why.",
        };
    // The same codes and data.cause as a failed wrangler start, so `cfprobe check` reports it as blocked.
    throw runtimeError(
      outcome.kind === "timeout" ? "worker-start-timeout" : "worker-start-failed",
      `${target.label}: ${cause.summary}`,
      {
        hint:
          cause.hint ??
          "Fix the error the log shows (run with --verbose for all of it), then start it again.",
        details: lines,
        data: { target: target.label, runtime: "pyodide", cause, timedOut: outcome.kind === "timeout" },
      },
    );
  }

  return { target, url, port, pid, persistTo, exited, runtime: "pyodide", logTail, stop };
}
