import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CfprobeError } from "../src/errors.js";
import { resolveTarget } from "../src/project/target.js";
import {
  debianRequirements,
  markerHolds,
  parseRequirement,
  resolvePythonSources,
} from "../src/python/runtime/packages.js";
import { planPyodideRun, pyodideVersionFor } from "../src/python/runtime/plan.js";
import { parseRuntime } from "../src/runtime.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>) {
  const root = mkdtempSync(path.join(tmpdir(), "cfprobe-pyunit-"));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

describe("pyodideVersionFor", () => {
  const version = (date: string | undefined, flags: string[]) =>
    pyodideVersionFor({ compatibilityDate: date, compatibilityFlags: flags });

  it("follows workerd's choice of Pyodide release", () => {
    expect(version("2025-09-29", ["python_workers"])).toBe("0.28.2");
    expect(version("2025-09-28", ["python_workers"])).toBe("0.26.0a2");
    expect(version("2024-01-01", ["python_workers", "python_workers_20250116"])).toBe("0.28.2");
    expect(version("2026-01-01", ["python_workers", "no_python_workers_20250116"])).toBe("0.26.0a2");
    expect(version("2025-09-29", [])).toBeUndefined();
    expect(version("2026-06-01", ["python_workers", "python_workers_20260601"])).toMatch(/newer/);
  });
});

describe("requirements", () => {
  it("parses names and markers of PEP 508 lines", () => {
    expect(parseRequirement("anyio<5,>=3.4.0")).toEqual({ name: "anyio" });
    expect(parseRequirement("typing-extensions>=3.10.0; python_version < '3.10'")).toEqual({
      name: "typing-extensions",
      marker: "python_version < '3.10'",
    });
    expect(parseRequirement("  ")).toBeUndefined();
  });

  it("evaluates markers for Pyodide's Python 3.13 on emscripten", () => {
    expect(markerHolds(undefined)).toBe(true);
    expect(markerHolds("python_version < '3.10'")).toBe(false);
    expect(markerHolds('python_version >= "3.8"')).toBe(true);
    expect(markerHolds("extra == 'full'")).toBe(false);
    expect(markerHolds('sys_platform == "win32"')).toBe(false);
    expect(markerHolds('sys_platform != "win32"')).toBe(true);
  });

  it("reads Debian's dependencies, skipping alternatives Python itself satisfies", () => {
    const status = [
      "Package: python3-anyio\nStatus: install ok installed\nDepends: python3-idna, python3-sniffio, python3-typing-extensions | python3 (>> 3.8), python3:any",
      "Package: python3-sniffio\nDepends: python3:any",
    ].join("\n\n");
    expect(debianRequirements("anyio", status)).toEqual([{ name: "idna" }, { name: "sniffio" }]);
    expect(debianRequirements("sniffio", status)).toEqual([]);
    expect(debianRequirements("unknown", status)).toEqual([]);
  });
});

describe("resolvePythonSources", () => {
  it("takes vendored packages from python_modules and the rest, with dependencies, from site packages", () => {
    const site = tree({
      "web-1.0.dist-info/METADATA":
        "Name: web\nRequires-Dist: helper>=1\nRequires-Dist: extra-only; extra == 'x'\n",
      "web-1.0.dist-info/RECORD": "web/__init__.py,,\nweb-1.0.dist-info/METADATA,,\n",
      "web/__init__.py": "",
      "helper-2.0.egg-info/requires.txt": '\n[:python_version < "3.7"]\nold\n\n[test]\npytest\n',
      "helper-2.0.egg-info/top_level.txt": "helper\n",
      "helper.py": "",
    });
    const worker = tree({
      "pyproject.toml": '[project]\nname = "w"\ndependencies = ["web", "Vendored_Pkg"]\n',
      "python_modules/vendored_pkg/__init__.py": "",
      "src/entry.py": "",
    });
    const sources = resolvePythonSources(worker, path.join(worker, "src", "entry.py"), [site]);
    expect(sources.entryModule).toBe("entry");
    expect(sources.vendorDir).toBe(path.join(worker, "python_modules"));
    expect(sources.packages).toEqual([
      { distribution: "web", version: "1.0", modules: [{ name: "web", source: path.join(site, "web") }] },
      {
        distribution: "helper",
        version: "2.0",
        modules: [{ name: "helper", source: path.join(site, "helper.py") }],
      },
    ]);
  });

  it("names a dependency found nowhere", () => {
    const worker = tree({
      "pyproject.toml": '[project]\ndependencies = ["nowhere-pkg"]\n',
      "src/entry.py": "",
    });
    expect(() => resolvePythonSources(worker, path.join(worker, "src", "entry.py"), [])).toThrow(
      /"nowhere-pkg" \(required by pyproject.toml\)/,
    );
  });
});

describe("planPyodideRun", () => {
  const workerWith = (toml: string) =>
    resolveTarget(
      tree({
        "wrangler.toml": `name = "w"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n${toml}`,
        "src/entry.py": "",
      }),
    );
  const errorOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error as CfprobeError;
    }
    throw new Error("expected an error");
  };

  it("plans D1 by wrangler's name for the database, and vars", () => {
    const plan = planPyodideRun(
      workerWith(
        'compatibility_date = "2025-10-01"\n[vars]\nA = "1"\n[[d1_databases]]\nbinding = "DB"\ndatabase_id = "id-1"\n[[d1_databases]]\nbinding = "OTHER"\ndatabase_id = "id-2"\npreview_database_id = "p-2"\n',
      ),
    );
    expect(plan.d1).toEqual([
      { binding: "DB", id: "id-1" },
      { binding: "OTHER", id: "p-2" },
    ]);
    expect(plan.vars).toEqual({ A: "1" });
  });

  it("refuses settings that select another Pyodide, and bindings it cannot provide", () => {
    const old = errorOf(() => planPyodideRun(workerWith('compatibility_date = "2025-01-01"\n')));
    expect([old.code, old.exitCode]).toEqual(["pyodide-version-unsupported", 2]);
    expect(old.message).toContain("Pyodide 0.26.0a2");
    const kv = errorOf(() =>
      planPyodideRun(workerWith('compatibility_date = "2025-10-01"\n[[r2_buckets]]\nbinding = "FILES"\n')),
    );
    expect([kv.code, kv.message]).toEqual([
      "pyodide-binding-unsupported",
      expect.stringContaining("env.FILES (r2_buckets)"),
    ]);
  });
});

describe("parseRuntime", () => {
  it("accepts the three runtimes and names them when given another", () => {
    expect(["workerd", "pyodide", "auto"].map(parseRuntime)).toEqual(["workerd", "pyodide", "auto"]);
    expect(() => parseRuntime("node")).toThrow(/Unknown runtime "node"/);
  });
});
