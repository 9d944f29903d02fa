import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import {
  killGroup,
  portIsFree,
  processesMentioning,
  runCli,
  startCli,
  withCleanups,
  wranglerMentioning,
} from "./helpers.js";

const { defer, tempDir } = withCleanups();

interface JsonReport {
  ok: boolean;
  summary: { passed: number; failed: number; skipped: number; blocked: number };
  targets: Array<{
    target: string;
    status: string;
    url: string | null;
    cause?: { kind: string; summary: string; hint?: string };
    checks: Array<{ name: string; status: string; expected?: unknown; actual?: unknown; message?: string }>;
  }>;
}

const statusOf = (report: JsonReport, target = 0) =>
  Object.fromEntries(report.targets[target]?.checks.map((check) => [check.name, check.status]) ?? []);

describe("cfprobe check", () => {
  it("passes the default suite on the JS worker, including restart and the D1 cross-check", async () => {
    const junit = path.join(tempDir("junit"), "report.xml");
    // A private TMPDIR holds the run's Chromium profile, so "no browser left" sees only this run's.
    const tmp = tempDir("tmp");
    const result = await runCli(["check", "js", "--json", "--junit", junit, "--require-browser"], {
      env: { TMPDIR: tmp },
    });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.ok).toBe(true);
    expect(report.targets[0]).toMatchObject({ target: "js", status: "passed" });
    expect(Object.values(statusOf(report)).every((status) => status === "pass")).toBe(true);
    expect(Object.keys(statusOf(report))).toEqual(
      expect.arrayContaining([
        "counter survives a restart",
        "count in the D1 file equals what HTTP reported",
      ]),
    );
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      readFileSync(junit, "utf8"),
    );
    expect(xml.testsuites).toMatchObject({
      tests: String(report.summary.passed),
      failures: "0",
      errors: "0",
    });
    const url = report.targets[0]?.url ?? "";
    expect(await portIsFree(Number(new URL(url).port))).toBe(true);
    // The three browser checks shared one Chromium, stopped with its profile at the end of the run.
    expect(processesMentioning(`--user-data-dir=${tmp}`)).toEqual([]);
    expect(readdirSync(tmp).filter((name) => name.startsWith("cfprobe-chromium-"))).toEqual([]);
  });

  it("uses the Chromium given by --chromium, and fails browser steps without one when required", async () => {
    const result = await runCli([
      "check",
      "js",
      "--chromium",
      "/nonexistent/chromium",
      "--require-browser",
      "--json",
    ]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    const browserChecks = report.targets[0]?.checks.filter((check) => check.name.includes("browser")) ?? [];
    expect(browserChecks).toHaveLength(3);
    for (const check of browserChecks) {
      expect(check.status).toBe("fail");
      expect(check.message).toContain("--chromium points at /nonexistent/chromium");
    }
  });

  it("fails exactly the broken checks of a broken worker, with useful messages", async () => {
    const result = await runCli(["check", "fixtures/workers/broken", "--json", "--require-browser"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    const failed = report.targets[0]?.checks.filter((check) => check.status === "fail") ?? [];
    expect(failed.map((check) => check.name).sort()).toEqual([
      "HTML injection in both fields comes back escaped",
      "counter increments by exactly 1 per request",
      "injected script does not run in a browser",
    ]);
    const counter = failed.find((check) => check.name.startsWith("counter"));
    expect(counter?.actual).toEqual({ "json count": 4 });
    expect(counter?.expected).toEqual({ "json count": 3 });

    const human = await runCli(["check", "fixtures/workers/broken"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain("✗ counter increments by exactly 1 per request");
    expect(human.stdout).toContain("expected json count: 3");
    expect(human.stdout.trim().split("\n").at(-1)).toMatch(/^checks: \d+ passed, 3 failed$/);
  });

  it("reports the Python worker offline as blocked with the cause and the next command", async () => {
    const result = await runCli(["check", "py", "--json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.targets[0]).toMatchObject({
      target: "py",
      status: "blocked",
      cause: { kind: "pyodide-dns" },
      checks: [],
    });
    expect(report.targets[0]?.cause?.hint).toContain("cfprobe diagnose-python");
  });

  it("runs a suite against a worker started by cfprobe dev (--url), skipping restarts", async () => {
    const persist = tempDir("state");
    const dev = startCli(["dev", "js", "--port", "0", "--persist-to", persist, "--json"]);
    defer(async () => {
      dev.child.kill("SIGINT");
      await dev.exit();
    });
    const ready = JSON.parse(await dev.waitForLine(/"url"/)) as { url: string; pid: number };
    defer(() => killGroup(ready.pid));

    const result = await runCli(["check", "js", "--url", ready.url, "--persist-to", persist, "--json"]);
    expect(result.code, result.stdout).toBe(0);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.targets[0]?.url).toBe(ready.url);
    expect(statusOf(report)).toMatchObject({
      "counter survives a restart": "skip",
      "count in the D1 file equals what HTTP reported": "pass",
      "counter increments by exactly 1 per request": "pass",
    });

    const mismatch = await runCli([
      "check",
      "js",
      "--url",
      ready.url,
      "--persist-to",
      persist,
      "--suite",
      "fixtures/suites/db-mismatch.yaml",
      "--json",
    ]);
    expect(mismatch.code).toBe(1);
    const [absurd, unknown] = (JSON.parse(mismatch.stdout) as JsonReport).targets[0]?.checks ?? [];
    expect(absurd).toMatchObject({
      status: "fail",
      expected: { rows: [{ page: "counter", count: 999999 }] },
    });
    const actualRows = (absurd?.actual as { rows: Array<{ count: number }> } | undefined)?.rows ?? [];
    expect(actualRows[0]?.count).toBeGreaterThan(0);
    expect(unknown?.status).toBe("fail");
    expect(unknown?.message).toContain("NOPE");
  });

  it("says clearly when --url does not answer", async () => {
    const result = await runCli(["check", "--url", "http://127.0.0.1:9", "--json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.targets[0]?.status).toBe("blocked");
    expect(report.targets[0]?.cause?.summary).toContain("Nothing answered at http://127.0.0.1:9");
  });

  it("reports a worker that crashes mid-suite, and leaves nothing running", async () => {
    const persist = tempDir("state");
    const check = startCli([
      "check",
      "fixtures/workers/broken",
      "--suite",
      "fixtures/suites/slow.yaml",
      "--persist-to",
      persist,
      "--json",
    ]);
    defer(() => check.child.kill("SIGKILL"));
    // Wait (bounded) until wrangler runs, give the suite time to reach the slow request, then kill it.
    let wrangler: number | undefined;
    for (let i = 0; i < 200 && !wrangler; i += 1) {
      await sleep(100);
      wrangler = wranglerMentioning(persist);
    }
    expect(wrangler).toBeDefined();
    defer(() => killGroup(wrangler!));
    await sleep(4000);
    process.kill(wrangler!, "SIGKILL");
    expect(await check.exit(60_000)).toBe(1);
    const report = JSON.parse(check.stdoutLines.join("\n")) as JsonReport;
    expect(report.targets[0]?.status).toBe("failed");
    expect(report.targets[0]?.cause?.summary).toContain("crashed");
    expect(statusOf(report)).toMatchObject({
      "root answers": "pass",
      "slow route answers": "fail",
      "never reached": "skip",
    });
    expect(processesMentioning(persist)).toEqual([]);
  });

  it("stops everything and exits 130 on SIGINT in the middle of a check", async () => {
    const persist = tempDir("state");
    const check = startCli(["check", "js", "--persist-to", persist]);
    defer(() => check.child.kill("SIGKILL"));
    for (let i = 0; i < 200 && !wranglerMentioning(persist); i += 1) await sleep(50);
    expect(wranglerMentioning(persist)).toBeDefined();
    check.child.kill("SIGINT");
    expect(await check.exit(30_000)).toBe(130);
    expect(processesMentioning(persist)).toEqual([]);
  });

  it("rejects an invalid suite, naming the file and the field, with exit 2", async () => {
    const dir = tempDir("suite");
    const file = path.join(dir, "bad.json");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, JSON.stringify({ checks: [{ name: "x", steps: [{ request: { path: "nope" } }] }] }));
    const result = await runCli(["check", "js", "--suite", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: checks[0].steps[0].request.path: must start with "/"`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("rejects an unknown target with exit 2", async () => {
    const result = await runCli(["check", "nope", "--json"]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: "target-unknown" } });
  });
});
