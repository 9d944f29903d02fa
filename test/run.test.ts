import http from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkReportJson, renderCheckReport } from "../src/output/check-report.js";
import { renderJunit } from "../src/output/junit.js";
import { Output } from "../src/output/output.js";
import type { TargetReport } from "../src/probe/check.js";
import { runSuite, type WorkerSession } from "../src/probe/run.js";
import { parseSuite } from "../src/probe/suite.js";

// A real HTTP server on loopback: the runner's request step is exercised end to end.
let count = 0;
let server: http.Server;
let baseUrl = "";
beforeAll(async () => {
  server = http.createServer((request, response) => {
    if (request.url === "/counter") {
      count += 1;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ count }));
    } else if (request.url === "/echo" && request.method === "POST") {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        response.setHeader("x-type", request.headers["content-type"] ?? "");
        response.end(body);
      });
    } else if (request.url === "/hang") {
      // Never answers: the step's own timeout must end it.
    } else {
      response.statusCode = 404;
      response.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const options = () => ({
  artifactsDir: "/tmp/unused",
  signal: new AbortController().signal,
  requireBrowser: false,
  verbose: false,
});
const session = (crashed: Promise<string> = new Promise(() => {})): WorkerSession => ({
  baseUrl: () => baseUrl,
  crashed,
});

describe("runSuite", () => {
  it("captures values and uses them with arithmetic in later checks", async () => {
    const suite = parseSuite(
      {
        checks: [
          { name: "first", steps: [{ request: { path: "/counter" }, capture: { n: { json: "count" } } }] },
          {
            name: "second",
            steps: [{ request: { path: "/counter" }, expect: { json: { count: "${n + 1}" } } }],
          },
          {
            name: "form body",
            steps: [
              {
                request: { method: "POST", path: "/echo", form: { a: "1 2", b: "${n}" } },
                expect: { body: "a=1+2&b=1", headers: { "x-type": { contains: "urlencoded" } } },
              },
            ],
          },
        ],
      },
      "inline",
    );
    count = 0;
    const run = await runSuite(suite, session(), options());
    expect(run.checks.map((check) => [check.name, check.status])).toEqual([
      ["first", "pass"],
      ["second", "pass"],
      ["form body", "pass"],
    ]);
  });

  it("fails a check at its first failing step, with expected and actual", async () => {
    const suite = parseSuite(
      {
        checks: [
          {
            name: "wrong status",
            steps: [
              { request: { path: "/missing" }, expect: { status: 200 } },
              { request: { path: "/counter" }, capture: { never: { json: "count" } } },
            ],
          },
          { name: "unknown variable", steps: [{ request: { path: "/x/${never}" } }] },
          { name: "bounded", steps: [{ request: { path: "/hang", timeout: 0.3 } }] },
        ],
      },
      "inline",
    );
    const run = await runSuite(suite, session(), options());
    const [status, variable, bounded] = run.checks;
    expect(status).toMatchObject({
      status: "fail",
      expected: { status: 200 },
      actual: { status: "404 not found" },
    });
    expect(variable).toMatchObject({ status: "fail" });
    expect(variable?.message).toContain('Unknown variable "never"');
    expect(bounded).toMatchObject({ status: "fail", actual: "no answer within 0.3 s" });
  });

  it("skips restart steps without a restartable worker, and skips everything after a crash", async () => {
    const suite = parseSuite(
      {
        checks: [
          { name: "restart", steps: [{ restart: true }] },
          { name: "after", steps: [{ request: { path: "/counter" } }] },
        ],
      },
      "inline",
    );
    const skipped = await runSuite(suite, session(), options());
    expect(skipped.checks.map((check) => check.status)).toEqual(["skip", "pass"]);

    const crashed = await runSuite(suite, session(Promise.resolve("wrangler exited with code 1")), options());
    expect(crashed.crash).toBe("wrangler exited with code 1");
    expect(crashed.checks.every((check) => check.status === "skip")).toBe(true);
  });
});

const reports: TargetReport[] = [
  {
    target: "js",
    status: "failed",
    url: "http://127.0.0.1:1",
    suite: "default.json",
    durationMs: 1234,
    checks: [
      { name: "a <passes>", status: "pass", durationMs: 3 },
      {
        name: "b fails",
        status: "fail",
        durationMs: 4,
        message: "GET /: status not as expected.",
        expected: { status: 200 },
        actual: { status: 404 },
      },
      { name: "c skipped", status: "skip", durationMs: 0, message: "no browser" },
    ],
  },
  {
    target: "py",
    status: "blocked",
    suite: "default.json",
    durationMs: 900,
    cause: {
      kind: "pyodide-dns",
      summary: "workerd could not resolve x & y",
      hint: "cfprobe diagnose-python",
    },
    log: ["line \u0001 with control"],
    checks: [],
  },
];

describe("reports", () => {
  it("renders JUnit XML that parses, with the right counts", () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      renderJunit(reports),
    );
    expect(xml.testsuites).toMatchObject({ tests: "4", failures: "1", errors: "1", skipped: "1" });
    const [js, py] = xml.testsuites.testsuite;
    expect(js).toMatchObject({ name: "js", tests: "3", failures: "1", skipped: "1" });
    expect(js.testcase[0].name).toBe("a <passes>");
    expect(js.testcase[1].failure.message).toBe("GET /: status not as expected.");
    expect(py.testcase.error.type).toBe("pyodide-dns");
  });

  it("renders the human report ending with the counts line", () => {
    const stdout = new PassThrough();
    let text = "";
    stdout.on("data", (chunk) => {
      text += chunk;
    });
    const out = new Output(
      { stdout, stderr: new PassThrough(), env: { NO_COLOR: "1" } },
      { json: false, quiet: false, verbose: false },
    );
    renderCheckReport(out, reports);
    const lines = text.trim().split("\n");
    expect(lines.at(-1)).toBe("checks: 1 passed, 1 failed, 1 skipped");
    expect(text).toContain("✗ b fails (4 ms)");
    expect(text).toContain("expected status: 200");
    expect(text).toContain("actual   status: 404");
    expect(text).toContain("py blocked");
    expect(text).toContain("next:  cfprobe diagnose-python");
  });

  it("builds the JSON contract", () => {
    const json = checkReportJson(reports);
    expect(json.ok).toBe(false);
    expect(json.summary).toEqual({ passed: 1, failed: 1, skipped: 1, blocked: 1 });
    expect(json.targets[1]).toMatchObject({
      target: "py",
      status: "blocked",
      url: null,
      cause: { kind: "pyodide-dns" },
    });
  });
});
