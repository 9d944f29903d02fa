import { expect, it } from "vitest";
import { processesMentioning, runCli } from "./helpers.js";

interface CheckJson {
  ok: boolean;
  targets: Array<{ target: string; status: string; checks: Array<{ name: string; status: string }> }>;
}

it("cfprobe check js py --runtime pyodide passes the default suite offline, py on Pyodide", async () => {
  const result = await runCli(["check", "js", "py", "--runtime", "pyodide", "--json"], {
    timeoutMs: 170_000,
  });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as CheckJson;
  expect(report.targets.map((target) => [target.target, target.status])).toEqual([
    ["js", "passed"],
    ["py", "passed"],
  ]);
  const py = report.targets.find((target) => target.target === "py")!;
  expect(py.checks.length).toBeGreaterThan(5);
  expect(py.checks.every((check) => check.status === "pass")).toBe(true);
  expect(processesMentioning("cfprobe-check-")).toEqual([]);
});
