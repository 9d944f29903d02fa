import type { TargetReport } from "../probe/check.js";
import type { CheckResult } from "../probe/types.js";
import type { Output } from "./output.js";

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  blocked: number;
}

export function totals(reports: readonly TargetReport[]): Totals {
  const all = reports.flatMap((report) => report.checks);
  return {
    passed: all.filter((check) => check.status === "pass").length,
    failed: all.filter((check) => check.status === "fail").length,
    skipped: all.filter((check) => check.status === "skip").length,
    blocked: reports.filter((report) => report.status === "blocked").length,
  };
}

/** The --json document: a stable contract (README, "cfprobe check --json"). */
export function checkReportJson(reports: readonly TargetReport[]) {
  return {
    ok: reports.every((report) => report.status === "passed"),
    summary: totals(reports),
    targets: reports.map((report) => ({
      target: report.target,
      status: report.status,
      url: report.url ?? null,
      ...(report.runtime ? { runtime: report.runtime } : {}),
      suite: report.suite,
      durationMs: report.durationMs,
      ...(report.cause ? { cause: report.cause } : {}),
      checks: report.checks,
    })),
  };
}

const format = (value: unknown) =>
  typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value, null, 0);

/** One line a check (status mark, name, duration), in the colours of `style`. */
export function checkLine(style: Output["style"], check: CheckResult): string {
  const mark =
    check.status === "pass" ? style.green("✓") : check.status === "fail" ? style.red("✗") : style.yellow("-");
  return `${mark} ${check.name} ${style.dim(`(${check.durationMs} ms)`)}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The detail under a failed or skipped check: why, then per subject what was expected and found. */
export function checkDetail(out: Output, check: CheckResult): string[] {
  if (check.status === "pass") return [];
  const { style } = out;
  const lines: string[] = [];
  if (check.message) lines.push(`    ${check.message}`);
  if (check.status === "fail") {
    const { expected, actual } = check;
    if (isRecord(expected) && isRecord(actual)) {
      for (const subject of Object.keys(expected)) {
        const wanted = expected[subject];
        const [first, ...rest] = Array.isArray(wanted) ? wanted.map(String) : [format(wanted)];
        lines.push(`    ${style.green("expected")} ${subject}: ${first}`);
        const indent = " ".repeat(`    expected ${subject}: `.length);
        for (const more of rest) lines.push(`${indent}${more}`);
        lines.push(`    ${style.red("actual  ")} ${subject}: ${format(actual[subject])}`);
      }
    } else {
      if (expected !== undefined) lines.push(`    ${style.green("expected")} ${format(expected)}`);
      if (actual !== undefined) lines.push(`    ${style.red("actual  ")} ${format(actual)}`);
    }
  }
  for (const [kind, file] of Object.entries(check.artifacts ?? {})) lines.push(`    ${kind}: ${file}`);
  return lines;
}

/** The human report on stdout: per target a header, its checks, and a closing count line. */
export function renderCheckReport(out: Output, reports: readonly TargetReport[]): void {
  const { style } = out;
  for (const report of reports) {
    const where = `${report.url ? ` ${style.dim(report.url)}` : ""}${report.runtime === "pyodide" ? style.dim(" on Pyodide") : ""}`;
    const head =
      report.status === "passed"
        ? style.green("passed")
        : report.status === "failed"
          ? style.red("failed")
          : style.yellow("blocked");
    out.result(
      `${style.bold(report.target)} ${head}${where} ${style.dim(`(${(report.durationMs / 1000).toFixed(1)} s)`)}`,
    );
    for (const check of report.checks) {
      out.result(`  ${checkLine(style, check)}`);
      for (const line of checkDetail(out, check)) out.result(`  ${line}`);
    }
    if (report.cause) {
      out.result(`  ${style.yellow("cause:")} ${report.cause.summary}`);
      if (report.cause.hint) out.result(`  ${style.cyan("next:")}  ${report.cause.hint}`);
    }
  }
  const { passed, failed, skipped, blocked } = totals(reports);
  if (blocked > 0) out.result(`${blocked} target${blocked === 1 ? "" : "s"} blocked`);
  out.result(`checks: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
}
