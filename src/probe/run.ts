import { CfprobeError } from "../errors.js";
import { SharedChromium } from "./browser/chromium.js";
import { runBrowserStep } from "./browser/run.js";
import { runDbStep } from "./steps/db.js";
import { runRequestStep } from "./steps/request.js";
import type { Check, Step, Suite } from "./suite.js";
import { substitute, TemplateError } from "./template.js";
import type { CheckResult, StepContext, StepOutcome } from "./types.js";

/** What the runner needs from whoever owns the worker: its URL now, and how to restart it. */
export interface WorkerSession {
  baseUrl(): string;
  /** Absent when probing a worker cfprobe did not start (--url): restart steps are skipped. */
  restart?(signal: AbortSignal): Promise<void>;
  /** Resolves with a description if the worker stops by itself. */
  crashed: Promise<string>;
  /** For db steps. */
  database?: StepContext["database"];
}

export interface SuiteRun {
  checks: CheckResult[];
  /** Set when the worker crashed during the run. */
  crash?: string;
}

export interface RunOptions {
  artifactsDir: string;
  signal: AbortSignal;
  requireBrowser: boolean;
  verbose: boolean;
  /** Chromium to use for browser steps (else CFPROBE_CHROMIUM, then PATH). */
  chromium?: string;
  /** Called as each check finishes, for live progress. */
  onCheck?: (result: CheckResult) => void;
  /** A Chromium the caller owns (and closes), perhaps already starting; else the run has its own. */
  browsers?: SharedChromium;
}

/**
 * Runs the checks in order. Variables captured by a step are visible to every later step of the
 * suite; a check stops at its first failing step. If the worker crashes, the running check fails
 * with the crash and the rest are skipped.
 */
export async function runSuite(suite: Suite, session: WorkerSession, options: RunOptions): Promise<SuiteRun> {
  const vars = new Map<string, string | number>();
  const checks: CheckResult[] = [];
  let crash: string | undefined;
  void session.crashed.then((description) => {
    crash ??= description;
  });
  const browsers = options.browsers ?? new SharedChromium();
  try {
    for (const check of suite.checks) {
      if (options.signal.aborted) throw options.signal.reason;
      checks.push(await runOneCheck(check));
    }
  } finally {
    if (!options.browsers) await browsers.close();
  }
  return { checks, ...(crash ? { crash } : {}) };

  async function runOneCheck(check: Check): Promise<CheckResult> {
    const started = performance.now();
    const outcome: StepOutcome = crash
      ? { status: "skip", message: `Not run: the worker crashed earlier (${crash}).` }
      : await runCheck(check, session, vars, { ...options, browsers });
    const result: CheckResult = {
      name: check.name,
      status: outcome.status,
      durationMs: Math.round(performance.now() - started),
      ...(outcome.message ? { message: outcome.message } : {}),
      ...(outcome.expected !== undefined ? { expected: outcome.expected } : {}),
      ...(outcome.actual !== undefined ? { actual: outcome.actual } : {}),
      ...(outcome.artifacts ? { artifacts: outcome.artifacts } : {}),
    };
    options.onCheck?.(result);
    return result;
  }
}

async function runCheck(
  check: Check,
  session: WorkerSession,
  vars: Map<string, string | number>,
  options: RunOptions & { browsers: SharedChromium },
): Promise<StepOutcome> {
  for (const [index, step] of check.steps.entries()) {
    // A crash aborts the running step (a browser step would otherwise wait out its timeout).
    const crash = new AbortController();
    const context: StepContext = {
      baseUrl: session.baseUrl(),
      vars,
      artifactsDir: options.artifactsDir,
      browsers: options.browsers,
      signal: AbortSignal.any([options.signal, crash.signal]),
      options: {
        requireBrowser: options.requireBrowser,
        verbose: options.verbose,
        chromium: options.chromium,
      },
      ...(session.database ? { database: session.database } : {}),
    };
    const crashed = session.crashed.then((description): StepOutcome => {
      crash.abort(new Error(description));
      return { status: "fail", message: `The worker crashed during step ${index + 1}: ${description}` };
    });
    const running = runStep(step, session, context);
    // After a crash the step ends by rejecting with the crash; the race has already answered.
    running.catch(() => {});
    const outcome = await Promise.race([running, crashed]);
    if (outcome.status !== "pass") return outcome;
  }
  return { status: "pass" };
}

async function runStep(step: Step, session: WorkerSession, ctx: StepContext): Promise<StepOutcome> {
  try {
    switch (step.kind) {
      case "request": {
        const { capture, ...rest } = step;
        // Capture definitions are names and paths, not templates.
        return await runRequestStep({ ...(substitute(rest, ctx.vars) as typeof rest), capture }, ctx);
      }
      case "restart":
        if (!session.restart) {
          return { status: "skip", message: "Restart steps need a worker cfprobe started (not --url)." };
        }
        await session.restart(ctx.signal);
        return { status: "pass" };
      case "db":
        return await runDbStep(substitute(step, ctx.vars) as typeof step, ctx);
      case "browser":
        return await runBrowserStep(substitute(step, ctx.vars) as typeof step, ctx);
    }
  } catch (error) {
    if (error instanceof TemplateError) return { status: "fail", message: error.message };
    if (error instanceof CfprobeError && error.code !== "interrupted") {
      return { status: "fail", message: error.message, ...(error.hint ? { actual: error.hint } : {}) };
    }
    throw error;
  }
}
