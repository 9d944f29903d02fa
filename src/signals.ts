import { InterruptedError } from "./errors.js";

/**
 * Runs `task` with SIGINT and SIGTERM turned into an abort whose reason is an InterruptedError,
 * so that every helper holding a process can stop it before the command returns 130 or 143.
 */
export async function withInterrupts<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: "SIGINT" | "SIGTERM") => () => {
    if (!controller.signal.aborted) controller.abort(new InterruptedError(signal));
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await task(controller.signal);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}

/** Resolves (never rejects) when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
