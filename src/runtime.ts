import { CfprobeError, usageError } from "./errors.js";
import type { WorkerTarget } from "./project/target.js";
import type { PyodideStartOptions } from "./python/runtime/index.js";
import { type RunningWorker, startWorker } from "./wrangler/supervisor.js";

/**
 * Which runtime serves a Python worker: workerd under wrangler dev, Pyodide in Node (fully
 * offline), or auto: workerd when it starts, else Pyodide with a notice saying why. JavaScript
 * workers always run on workerd, so `cfprobe check js py --runtime pyodide` checks both.
 * `cfprobe dev` and `cfprobe check` both start workers through here.
 */
export const RUNTIME_CHOICES = ["workerd", "pyodide", "auto"] as const;
export type RuntimeChoice = (typeof RUNTIME_CHOICES)[number];

export interface RuntimeStartOptions extends PyodideStartOptions {
  runtime?: RuntimeChoice;
  /** One-line notices for the user (stderr), e.g. why auto fell back to Pyodide. */
  onNotice?: (message: string) => void;
}

/**
 * How long --runtime auto gives workerd to answer before choosing Pyodide. Offline, workerd fails
 * within 2 s (DNS); behind a proxy that allows no direct TCP it would hang in connect() for minutes.
 */
export const AUTO_WORKERD_WINDOW_MS = 20_000;

/** How many times a start on a port cfprobe chose itself is tried when another process takes it. */
const FREE_PORT_ATTEMPTS = 3;

/**
 * Starts a worker on the chosen runtime. With port 0, cfprobe picks free ports itself; another
 * process can still take one before the runtime binds it (seen with tests and benchmarks running
 * side by side), so such a start is tried again on fresh ports.
 */
export async function startWorkerOn(
  target: WorkerTarget,
  options: RuntimeStartOptions,
): Promise<RunningWorker> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnRuntime(target, options);
    } catch (error) {
      const taken =
        error instanceof CfprobeError && (error.data?.cause as { kind?: string })?.kind === "address-in-use";
      if (!taken || options.port !== 0 || attempt >= FREE_PORT_ATTEMPTS || options.signal?.aborted)
        throw error;
      options.onNotice?.(`${target.label}: ${error.message} Trying again on other free ports.`);
    }
  }
}

async function startOnRuntime(target: WorkerTarget, options: RuntimeStartOptions): Promise<RunningWorker> {
  const runtime = options.runtime ?? "workerd";
  if (runtime === "workerd" || target.runtime === "javascript") {
    return startWorker(target, options);
  }
  // The Pyodide runtime is loaded only when a Python worker may need it.
  const { planPyodideRun, pyodideReleaseFor, startPyodideWorker } = await import("./python/runtime/index.js");
  if (runtime === "pyodide") return startPyodideWorker(target, options);

  // auto, Python worker: the Pyodide runtime must be able to take over, or the workerd error stands.
  let fallbackProblem: unknown;
  try {
    planPyodideRun(target, await pyodideReleaseFor(target, { ...process.env, ...options.env }));
  } catch (error) {
    fallbackProblem = error;
  }
  const windowMs = Math.min(options.timeoutMs ?? 60_000, AUTO_WORKERD_WINDOW_MS);
  // wrangler's log of an attempt that is abandoned is noise (a workerd stack trace): it is held back
  // until the attempt succeeds, and shown after a fallback only with --verbose.
  const held: string[] = [];
  let live = false;
  const onLog = (line: string) => (live ? options.onLog?.(line) : held.push(line));
  try {
    const worker = await startWorker(target, { ...options, timeoutMs: windowMs, onLog });
    for (const line of held.splice(0)) options.onLog?.(line);
    live = true;
    return worker;
  } catch (error) {
    const data = (error as { data?: { cause?: { kind?: string; summary?: string }; timedOut?: boolean } })
      .data;
    const kind = data?.cause?.kind ?? "";
    const workerdCannotStart = kind.startsWith("pyodide-") || data?.timedOut === true;
    if (!workerdCannotStart || fallbackProblem || options.signal?.aborted) {
      for (const line of held.splice(0)) options.onLog?.(line);
      throw error;
    }
    if (options.verbose) for (const line of held.splice(0)) options.onLog?.(line);
    const why = data?.timedOut
      ? `workerd did not answer within ${Math.round(windowMs / 1000)} s`
      : `workerd could not start it (${data?.cause?.summary?.replace(/\.$/, "") ?? kind})`;
    options.onNotice?.(
      `${target.label}: ${why}; running it on Pyodide in Node instead (--runtime auto). Use --runtime workerd to see workerd's error.`,
    );
    return startPyodideWorker(target, options);
  }
}

export function parseRuntime(value: string): RuntimeChoice {
  if ((RUNTIME_CHOICES as readonly string[]).includes(value)) return value as RuntimeChoice;
  throw usageError("runtime-unknown", `Unknown runtime "${value}".`, {
    hint: `Choose one of ${RUNTIME_CHOICES.join(", ")}.`,
  });
}
