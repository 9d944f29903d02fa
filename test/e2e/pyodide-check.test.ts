import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
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

it("reports a Python worker that fails to import on Pyodide as blocked, with the exception", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-pybroken-"));
  try {
    mkdirSync(path.join(dir, "src"));
    writeFileSync(
      path.join(dir, "wrangler.toml"),
      'name = "b"\nmain = "src/entry.py"\ncompatibility_date = "2025-09-29"\ncompatibility_flags = ["python_workers"]\n',
    );
    writeFileSync(path.join(dir, "src", "entry.py"), "import module_that_is_nowhere\n");
    const result = await runCli(["check", dir, "--runtime", "pyodide", "--json"]);
    expect(result.code).toBe(1);
    const [target] = (JSON.parse(result.stdout) as { targets: Array<{ status: string; cause: unknown }> })
      .targets;
    expect(target?.status).toBe("blocked");
    expect(target?.cause).toMatchObject({
      kind: "script-error",
      summary: expect.stringContaining("No module named 'module_that_is_nowhere'"),
    });
    expect(processesMentioning(dir)).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
