import type { ChalkInstance } from "chalk";
import type { CheckStatus, Diagnosis } from "./types.js";

const ORDER: CheckStatus[] = ["fail", "warn", "pass", "skip"];
/** Fix steps that are shell commands get a prompt; sentences do not. */
const COMMAND = /^(cfprobe|export|npm|npx|uv|openssl|unset)\b/;

/**
 * The report in the manner of `flutter doctor`: one line per group with the worst mark of its
 * checks, the checks indented under it, then the verdict and the commands that fix it.
 */
export function renderDiagnosis(diagnosis: Diagnosis, style: ChalkInstance): string {
  const mark: Record<CheckStatus, string> = {
    pass: style.green("✓"),
    warn: style.yellow("!"),
    fail: style.red("✗"),
    skip: style.gray("-"),
  };
  const { label, config } = diagnosis.target;
  const lines = [`Python worker diagnosis for ${label === "." ? config : `${label} (${config})`}`, ""];
  const groups = new Map<string, Diagnosis["checks"]>();
  for (const check of diagnosis.checks) groups.set(check.group, [...(groups.get(check.group) ?? []), check]);
  for (const [group, checks] of groups) {
    const worst = ORDER.find((status) => checks.some((check) => check.status === status)) ?? "skip";
    lines.push(`[${mark[worst]}] ${style.bold(group)}`);
    for (const check of checks) {
      lines.push(`    ${mark[check.status]} ${check.title}: ${check.detail}`);
      if (check.hint && (check.status === "fail" || check.status === "warn")) {
        lines.push(`      ${style.cyan("→")} ${check.hint}`);
      }
    }
  }
  if (diagnosis.urls.length > 0) {
    lines.push("", style.bold("URLs workerd requests:"));
    for (const file of diagnosis.urls) lines.push(`    ${file.url}`);
  }
  if (diagnosis.timedOut.length > 0) {
    lines.push("", `${style.yellow("Timed out:")} ${diagnosis.timedOut.join("; ")}`);
  }
  lines.push(
    "",
    `${diagnosis.ok ? style.green("✓") : style.red("✗")} ${style.bold(diagnosis.verdict.summary)}`,
  );
  if (diagnosis.verdict.fix.length > 0) {
    lines.push("Fix:");
    for (const step of diagnosis.verdict.fix) lines.push(`    ${COMMAND.test(step) ? `$ ${step}` : step}`);
  }
  return lines.join("\n");
}
