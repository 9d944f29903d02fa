import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CfprobeError } from "../src/errors.js";
import { DEFAULT_SUITE, loadSuite, parseSuite } from "../src/probe/suite.js";

const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-suite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const invalid = (value: unknown) => {
  try {
    parseSuite(value, "/x/suite.json");
  } catch (error) {
    expect(error).toBeInstanceOf(CfprobeError);
    expect((error as CfprobeError).exitCode).toBe(2);
    return (error as CfprobeError).message;
  }
  throw new Error("expected the suite to be rejected");
};

describe("suites", () => {
  it("loads the default suite with every step kind it uses", () => {
    const suite = loadSuite(DEFAULT_SUITE);
    expect(suite.checks.length).toBeGreaterThanOrEqual(9);
    const kinds = new Set(suite.checks.flatMap((check) => check.steps.map((step) => step.kind)));
    expect([...kinds].sort()).toEqual(expect.arrayContaining(["db", "request", "restart"]));
    const first = suite.checks[0]?.steps[0];
    expect(first?.kind === "request" && first.request.method).toBe("GET");
    expect(first?.kind === "request" && first.request.timeout).toBe(10);
  });

  it("reads YAML too", () => {
    const file = path.join(dir, "s.yaml");
    writeFileSync(
      file,
      "checks:\n  - name: root answers\n    steps:\n      - request: { path: / }\n        expect: { status: 200 }\n",
    );
    expect(loadSuite(file).checks[0]?.name).toBe("root answers");
  });

  it("names the file and the path of a bad field", () => {
    const message = invalid({ checks: [{ name: "a", steps: [{ request: { path: "no-slash" } }] }] });
    expect(message).toBe('/x/suite.json: checks[0].steps[0].request.path: must start with "/"');
    expect(invalid({ checks: [{ name: "a", steps: [{ request: { path: "/", body: 1 } }] }] })).toContain(
      "checks[0].steps[0].request",
    );
    expect(invalid({ checks: [] })).toContain("checks");
    expect(
      invalid({ checks: [{ name: "a", steps: [{ restart: true, request: { path: "/" } }] }] }),
    ).toContain("must have exactly one of request, restart, db, browser (it has request and restart)");
    expect(invalid({ checks: [{ name: "a", steps: [{ wait: 1 }] }] })).toContain("must have exactly one of");
    expect(
      invalid({
        checks: [{ name: "a", steps: [{ request: { path: "/" }, capture: { n: { regex: "(" } } }] }],
      }),
    ).toContain("capture.n.regex: is not a valid regular expression");
    expect(
      invalid({ checks: [{ name: "a", steps: [{ request: { path: "/", form: {}, text: "x" } }] }] }),
    ).toContain("at most one body");
  });

  it("explains unreadable and unparsable files", () => {
    expect(() => loadSuite(path.join(dir, "missing.json"))).toThrow(/Cannot read the suite/);
    const broken = path.join(dir, "broken.json");
    writeFileSync(broken, "{ nope");
    expect(() => loadSuite(broken)).toThrow(/is not valid JSON/);
    const brokenYaml = path.join(dir, "broken.yaml");
    writeFileSync(brokenYaml, "checks: [\n");
    expect(() => loadSuite(brokenYaml)).toThrow(/is not valid YAML/);
  });
});
