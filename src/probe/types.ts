import type { WorkerTarget } from "../project/target.js";
import type { SharedChromium } from "./browser/chromium.js";

/**
 * The contract between the suite runner (src/probe/run.ts) and each step kind. Results are data:
 * the human report, --json and JUnit all render the same CheckResult values.
 */

export type CheckStatus = "pass" | "fail" | "skip";

/** What one step found. `expected`/`actual` are shown for a failure (bodies truncated). */
export interface StepOutcome {
  status: CheckStatus;
  /** Why it failed or was skipped, in one sentence. */
  message?: string;
  expected?: unknown;
  actual?: unknown;
  /** Files a step saved for the user (for example a screenshot and the page HTML). */
  artifacts?: Record<string, string>;
}

/** What a step can use while it runs. */
export interface StepContext {
  /** The worker under test, without a trailing slash, e.g. http://127.0.0.1:8787. */
  baseUrl: string;
  /** Variables captured by earlier steps of the suite (`${name}` in later steps). */
  vars: Map<string, string | number>;
  /** Where a step may save artifacts; created on demand. */
  artifactsDir: string;
  /** Aborts when the run is interrupted or the worker crashed. */
  signal: AbortSignal;
  /** Where the worker under test keeps its local D1 data (absent for --url without --persist-to). */
  database?: { target: WorkerTarget; persistTo: string };
  /** One Chromium shared by the browser steps of a run (each launches its own without it). */
  browsers?: SharedChromium;
  /** Options of the command that concern steps. */
  options: { requireBrowser: boolean; verbose: boolean; chromium?: string };
}

export interface CheckResult {
  name: string;
  status: CheckStatus;
  durationMs: number;
  message?: string;
  expected?: unknown;
  actual?: unknown;
  artifacts?: Record<string, string>;
}
