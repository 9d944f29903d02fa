import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CfprobeError } from "../src/errors.js";
import { readWorkerConfig } from "../src/project/config.js";
import { PACKAGE_ROOT, resolveTarget } from "../src/project/target.js";

const fixture = (name: string) => path.join(PACKAGE_ROOT, "fixtures", "configs", name);

describe("readWorkerConfig", () => {
  it("reads the top level of a TOML config", () => {
    const config = readWorkerConfig(fixture("envs.toml"));
    expect(config).toMatchObject({
      name: "envs-worker",
      main: path.join(PACKAGE_ROOT, "fixtures", "configs", "src", "index.js"),
      compatibilityDate: "2025-01-01",
      compatibilityFlags: ["nodejs_compat"],
      vars: { GREETING: "hi" },
      environments: ["staging", "bare"],
      isPython: false,
    });
    expect(config.d1Databases).toEqual([
      expect.objectContaining({
        binding: "DB",
        databaseName: "main-db",
        databaseId: "11111111-1111-1111-1111-111111111111",
        previewDatabaseId: "preview-main",
      }),
    ]);
  });

  it("applies an environment as wrangler does: inherits main and flags, not bindings", () => {
    const staging = readWorkerConfig(fixture("envs.toml"), { env: "staging" });
    expect(staging).toMatchObject({
      name: "envs-worker-staging",
      compatibilityDate: "2025-06-01",
      compatibilityFlags: ["nodejs_compat"],
      vars: {},
      env: "staging",
    });
    expect(staging.d1Databases.map((db) => db.databaseName)).toEqual(["staging-db"]);
    expect(readWorkerConfig(fixture("envs.toml"), { env: "bare" }).d1Databases).toEqual([]);
  });

  it("names the environments when the one asked for does not exist", () => {
    expect(() => readWorkerConfig(fixture("envs.toml"), { env: "prod" })).toThrow(/no environment "prod"/);
    try {
      readWorkerConfig(fixture("envs.toml"), { env: "prod" });
    } catch (error) {
      expect((error as CfprobeError).hint).toContain("staging, bare");
      expect((error as CfprobeError).exitCode).toBe(2);
    }
  });

  it("reads JSONC with comments and trailing commas, and spots a Python worker", () => {
    const config = readWorkerConfig(fixture("wrangler.jsonc"));
    expect(config.isPython).toBe(true);
    expect(config.d1Databases[0]).toMatchObject({ binding: "DB", databaseName: "only-name" });
  });

  it("rejects a missing file, bad syntax and a malformed field with exit code 2", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-config-"));
    const write = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const cases = [
      [fixture("missing.toml"), /Cannot read the wrangler config/],
      [write("bad.toml", "name = "), /not valid TOML/],
      [write("bad.json", "{ name: "), /not a valid JSON config/],
      [
        write("flags.toml", 'compatibility_flags = "python_workers"'),
        /compatibility_flags must be a list of strings/,
      ],
      [write("d1.toml", "[[d1_databases]]\ndatabase_name = 'x'"), /d1_databases\[0\]\.binding must be/],
    ] as const;
    for (const [file, message] of cases) {
      expect(() => readWorkerConfig(file)).toThrow(message);
      expect(() => readWorkerConfig(file)).toThrowError(CfprobeError);
    }
    rmSync(dir, { recursive: true });
  });
});

describe("resolveTarget", () => {
  it("maps js and py to the bundled workers", () => {
    expect(resolveTarget("js")).toMatchObject({ label: "js", runtime: "javascript" });
    expect(resolveTarget("py")).toMatchObject({ label: "py", runtime: "python" });
    expect(resolveTarget("py").config.compatibilityFlags).toContain("python_workers");
  });

  it("accepts a worker folder or its config file", () => {
    const dir = path.join(PACKAGE_ROOT, "workers", "js-worker");
    expect(resolveTarget(dir).config.path).toBe(path.join(dir, "wrangler.toml"));
    expect(resolveTarget(path.join(dir, "wrangler.toml")).dir).toBe(dir);
  });

  it("explains unknown targets and folders without a config", () => {
    expect(() => resolveTarget("nope")).toThrow(/Unknown target "nope"/);
    expect(() => resolveTarget(path.join(PACKAGE_ROOT, "src"))).toThrow(/has no wrangler config/);
  });
});
