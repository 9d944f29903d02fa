/**
 * Exit codes are part of cfprobe's contract (README, "Exit codes"); only src/cli.ts turns an error
 * into one.
 */
export const ExitCode = {
  ok: 0,
  /** A check or a diagnosis failed, or a target was blocked. */
  failed: 1,
  /** Bad command line, config, suite or other input. */
  usage: 2,
  /** A required tool or piece of the environment is missing. */
  missing: 3,
  /** The worker runtime crashed, failed to start, or did not become ready in time. */
  runtime: 4,
  /** Stopped by SIGINT (Ctrl-C). */
  interrupted: 130,
  /** Stopped by SIGTERM. */
  terminated: 143,
  /** A bug in cfprobe (an error it did not expect). */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  /** What to do about it, ideally the exact command that fixes it. */
  hint?: string;
  /** Extra lines shown under the message (for example the last lines of a log). */
  details?: string[];
  /** Machine-readable extras for --json. */
  data?: Record<string, unknown>;
  cause?: unknown;
}

/** An error cfprobe expects and explains: it carries a stable code, an exit code and a hint. */
export class CfprobeError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly details: string[];
  readonly data?: Record<string, unknown>;

  constructor(code: string, message: string, exitCode: ExitCodeValue, extra: ErrorDetails = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "CfprobeError";
    this.code = code;
    this.exitCode = exitCode;
    this.hint = extra.hint;
    this.details = extra.details ?? [];
    this.data = extra.data;
  }
}

export const usageError = (code: string, message: string, extra?: ErrorDetails) =>
  new CfprobeError(code, message, ExitCode.usage, extra);

export const missingError = (code: string, message: string, extra?: ErrorDetails) =>
  new CfprobeError(code, message, ExitCode.missing, extra);

export const runtimeError = (code: string, message: string, extra?: ErrorDetails) =>
  new CfprobeError(code, message, ExitCode.runtime, extra);

/** Raised when the user interrupts a command; carries 130 or 143. */
export class InterruptedError extends CfprobeError {
  constructor(signal: "SIGINT" | "SIGTERM") {
    super(
      "interrupted",
      `Stopped by ${signal}.`,
      signal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated,
    );
  }
}

/** The JSON shape of an error, as printed by --json. */
export function errorToJson(error: CfprobeError) {
  return {
    code: error.code,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.details.length ? { details: error.details } : {}),
    ...(error.data ? { data: error.data } : {}),
  };
}
