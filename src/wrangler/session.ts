import { runtimeError, usageError } from "../errors.js";
import type { WorkerTarget } from "../project/target.js";
import { type RuntimeStartOptions, startWorkerOn } from "../runtime.js";
import { aborted } from "../signals.js";
import type { RunningWorker } from "./supervisor.js";

export const DEFAULT_PORTS = { javascript: 8787, python: 8788 } as const;

/**
 * Ports for several targets: --port applies to a single target (0 means "any free port" for
 * all); otherwise 8787 for JavaScript and 8788 for Python, moved up by one on a clash.
 */
export function planPorts(targets: readonly WorkerTarget[], requested?: number): number[] {
  if (requested === 0) return targets.map(() => 0);
  if (requested !== undefined) {
    if (targets.length > 1) {
      throw usageError("port-ambiguous", `--port ${requested} cannot serve ${targets.length} targets.`, {
        hint: "Start them without --port (8787 for js, 8788 for py) or with --port 0 for free ports.",
      });
    }
    return [requested];
  }
  const taken = new Set<number>();
  return targets.map((target) => {
    let port: number = DEFAULT_PORTS[target.runtime];
    while (taken.has(port)) port += 1;
    taken.add(port);
    return port;
  });
}

/**
 * Starts every target in parallel. If one fails, the others are stopped before the first failure
 * is thrown, so a failed start leaves nothing running.
 */
export async function startWorkers(
  targets: readonly WorkerTarget[],
  optionsFor: (target: WorkerTarget, index: number) => RuntimeStartOptions,
): Promise<RunningWorker[]> {
  const results = await Promise.allSettled(
    targets.map((target, index) => startWorkerOn(target, optionsFor(target, index))),
  );
  const started = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failure = results.find((result) => result.status === "rejected");
  if (failure) {
    await stopAll(started);
    throw failure.reason;
  }
  return started;
}

export async function stopAll(workers: readonly RunningWorker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.stop()));
}

/**
 * Keeps workers running until the signal aborts (then stops them and rethrows its reason) or one
 * of them exits by itself (then stops the rest and throws worker-crashed).
 */
export async function superviseUntilStopped(
  workers: readonly RunningWorker[],
  signal: AbortSignal,
): Promise<never> {
  const crash = Promise.race(workers.map((worker) => worker.exited.then((exit) => ({ worker, exit }))));
  const outcome = await Promise.race([crash, aborted(signal).then(() => undefined)]);
  await stopAll(workers);
  if (!outcome) throw signal.reason;
  const { worker, exit } = outcome;
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const who = worker.runtime === "pyodide" ? "the Pyodide runtime" : "wrangler";
  throw runtimeError("worker-crashed", `${worker.target.label}: ${who} ${how} while serving ${worker.url}.`, {
    hint: "The log above shows why; start it again with `cfprobe dev`.",
    details: worker.logTail(),
    data: { target: worker.target.label, runtime: worker.runtime ?? "workerd", exit },
  });
}
