import type { TargetReport } from "../probe/check.js";

const escapeXml = (text: string) =>
  text
    // XML 1.0 cannot carry most control characters at all, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * JUnit XML as CI systems read it: one <testsuite> per target, one <testcase> per check. A blocked
 * target is one errored test case, so CI shows why nothing ran.
 */
export function renderJunit(reports: readonly TargetReport[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = reports.flatMap((report) => report.checks);
  const failures = all.filter((check) => check.status === "fail").length;
  const skipped = all.filter((check) => check.status === "skip").length;
  const errors = reports.filter((report) => report.status === "blocked").length;
  const totalMs = reports.reduce((sum, report) => sum + report.durationMs, 0);
  lines.push(
    `<testsuites name="cfprobe check" tests="${all.length + errors}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(totalMs)}">`,
  );
  for (const report of reports) {
    const name = escapeXml(report.target);
    const caseFailures = report.checks.filter((check) => check.status === "fail").length;
    const caseSkipped = report.checks.filter((check) => check.status === "skip").length;
    const blocked = report.status === "blocked" ? 1 : 0;
    lines.push(
      `  <testsuite name="${name}" tests="${report.checks.length + blocked}" failures="${caseFailures}" errors="${blocked}" skipped="${caseSkipped}" time="${seconds(report.durationMs)}">`,
    );
    if (report.cause && blocked) {
      lines.push(`    <testcase classname="${name}" name="worker starts" time="0">`);
      lines.push(
        `      <error message="${escapeXml(report.cause.summary)}" type="${escapeXml(report.cause.kind)}">`,
      );
      lines.push(escapeXml([report.cause.hint ?? "", ...(report.log ?? [])].join("\n")));
      lines.push("      </error>");
      lines.push("    </testcase>");
    }
    for (const check of report.checks) {
      const open = `    <testcase classname="${name}" name="${escapeXml(check.name)}" time="${seconds(check.durationMs)}"`;
      if (check.status === "pass") {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      if (check.status === "skip") {
        lines.push(`      <skipped message="${escapeXml(check.message ?? "skipped")}"/>`);
      } else {
        const body = [
          check.expected !== undefined ? `expected: ${JSON.stringify(check.expected)}` : "",
          check.actual !== undefined ? `actual: ${JSON.stringify(check.actual)}` : "",
        ].filter(Boolean);
        lines.push(
          `      <failure message="${escapeXml(check.message ?? "failed")}">${escapeXml(body.join("\n"))}</failure>`,
        );
      }
      lines.push("    </testcase>");
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}
