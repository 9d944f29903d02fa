import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveTarget } from "../src/project/target.js";
import { MANIFEST_ENV, requiredPyodideFiles, sriFromHex, stdlibPackages } from "../src/python/files.js";
import { bundleName, readWorkerdPythonData } from "../src/python/workerd-data.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-files-test-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function pythonWorker(date: string, flags = ["python_workers"]) {
  const dir = tempDir();
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    `name = "t"\nmain = "src/entry.py"\ncompatibility_date = "${date}"\ncompatibility_flags = ${JSON.stringify(flags)}\n`,
  );
  return resolveTarget(dir);
}

/** A little Cap'n Proto writer: an inline-composite list of structs whose pointers are all Text. */
function capnpList(dataWords: number, elements: Array<{ data: bigint[]; texts: Array<string | null> }>) {
  const pointerWords = elements[0]?.texts.length ?? 0;
  const stride = dataWords + pointerWords;
  const head = 8 * (1 + elements.length * stride);
  const bodies: Buffer[] = [];
  const words = Buffer.alloc(head);
  words.writeUInt32LE(elements.length << 2, 0);
  words.writeUInt32LE(dataWords | (pointerWords << 16), 4);
  let tail = head;
  elements.forEach((element, index) => {
    const base = 8 + index * stride * 8;
    element.data.forEach((value, word) => {
      words.writeBigInt64LE(value, base + word * 8);
    });
    element.texts.forEach((text, slot) => {
      if (text === null) return;
      const at = base + (dataWords + slot) * 8;
      const bytes = Buffer.from(`${text}\0`);
      const padded = Buffer.alloc(Math.ceil(bytes.length / 8) * 8);
      bytes.copy(padded);
      words.writeInt32LE((((tail - at - 8) / 8) << 2) | 1, at);
      words.writeUInt32LE((bytes.length << 3) | 2, at + 4);
      bodies.push(padded);
      tail += padded.length;
    });
  });
  return Buffer.concat([words, ...bodies]);
}

const LOCK = JSON.stringify({
  info: { version: "0.28.2" },
  packages: {
    hashlib: {
      name: "hashlib",
      file_name: "hashlib.tar.gz",
      sha256: "aa",
      package_type: "cpython_module",
      depends: ["libopenssl"],
    },
    libopenssl: {
      name: "libopenssl",
      file_name: "libopenssl.tar.gz",
      sha256: "bb",
      package_type: "shared_library",
      depends: [],
    },
    "pydoc-data": {
      name: "pydoc_data",
      file_name: "pydoc_data.tar.gz",
      sha256: "cc",
      package_type: "cpython_module",
      depends: [],
    },
    numpy: { name: "numpy", file_name: "numpy.tar.gz", sha256: "dd", package_type: "package", depends: [] },
  },
});

describe("stdlibPackages (workerd's choice of preloaded packages)", () => {
  it("takes every cpython_module with its dependencies, in lock order", () => {
    expect(stdlibPackages(LOCK, "20250808").map((pkg) => pkg.fileName)).toEqual([
      "hashlib.tar.gz",
      "libopenssl.tar.gz",
      "pydoc_data.tar.gz",
    ]);
  });

  it("leaves dependencies out for the oldest packages version, as workerd does", () => {
    expect(stdlibPackages(LOCK, "20240829.4").map((pkg) => pkg.fileName)).toEqual([
      "hashlib.tar.gz",
      "pydoc_data.tar.gz",
    ]);
  });
});

describe("readWorkerdPythonData", () => {
  it("finds the release table and the package locks in a binary", () => {
    const release = (backport: bigint, pyodide: string, flag: string) => ({
      data: [backport],
      texts: [pyodide, "2025-01-16", "20250808", "ab12", null, flag, pyodide],
    });
    const binary = Buffer.concat([
      Buffer.alloc(64, 0xff),
      capnpList(0, [{ data: [], texts: ["20250808", LOCK] }]),
      Buffer.alloc(24),
      capnpList(1, [
        release(9n, "0.28.2", "pythonWorkers20250116"),
        release(3n, "dev", "pythonWorkersDevPyodide"),
      ]),
    ]);
    const data = readWorkerdPythonData(binary);
    expect(data.locks).toEqual({ "20250808": LOCK });
    expect(data.releases.map(bundleName)).toEqual(["0.28.2_2025-01-16_9", "dev"]);
    expect(data.releases[0]).toMatchObject({ packages: "20250808", flagName: "pythonWorkers20250116" });
    expect(data.releases[0]?.integrity).toBeUndefined();
  });

  it("reads the bundle integrity when the struct has that field", () => {
    const binary = capnpList(1, [
      {
        data: [15n],
        texts: [
          "0.28.2",
          "2025-01-16",
          "20250808",
          "ab",
          null,
          "pythonWorkers20250116",
          "0.28.2",
          "sha256-AAAA",
        ],
      },
    ]);
    expect(readWorkerdPythonData(binary).releases[0]?.integrity).toBe("sha256-AAAA");
  });
});

describe("requiredPyodideFiles on the installed workerd", () => {
  it("derives the bundle and stdlib packages of the bundled py worker (FACTS.md values)", async () => {
    const env = { XDG_CACHE_HOME: tempDir() };
    const result = await requiredPyodideFiles(resolveTarget("py"), { env });
    expect(result.workerdVersion).toBe("1.20260426.1");
    expect(result.pyodideVersion).toBe("0.28.2");
    expect(result.packagesVersion).toBe("20250808");
    const [bundle, ...packages] = result.files;
    expect(bundle).toEqual({
      kind: "bundle",
      name: "pyodide_0.28.2_2025-01-16_9.capnp.bin",
      url: "https://pyodide-capnp-bin.edgeworker.net/pyodide_0.28.2_2025-01-16_9.capnp.bin",
      integrity: "sha256-uauWhzzVDWY9UUDpMOCOYxVbSHS9oCnjFizu039PL6U=",
      cachePath: "pyodide_0.28.2_2025-01-16_9.capnp.bin",
    });
    expect(packages.map((file) => file.name.split("-")[0]).sort()).toEqual([
      "hashlib",
      "libopenssl",
      "lzma",
      "pydecimal",
      "pydoc_data",
      "sqlite3",
      "ssl",
    ]);
    for (const file of packages) {
      expect(file.url).toBe(`https://pyodide-capnp-bin.edgeworker.net/${file.cachePath}`);
      expect(file.cachePath).toBe(`python-package-bucket/20250808/${file.name}`);
      expect(file.integrity).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    }
    expect(existsSync(path.join(env.XDG_CACHE_HOME, "cfprobe", "derived", "workerd-1.20260426.1.json"))).toBe(
      true,
    );
    expect(await requiredPyodideFiles(resolveTarget("py"), { env })).toEqual(result);
  });

  it("follows the compatibility date to the older release, as workerd does", async () => {
    const env = { XDG_CACHE_HOME: tempDir() };
    const result = await requiredPyodideFiles(pythonWorker("2025-06-01"), { env });
    expect(result.bundleName).toBe("0.26.0a2_2024-03-01_78");
    expect(result.files[0]?.integrity).toBe("sha256-V1iAhkevGuXaTVQo+85FbC8CINU6F7F+H5uwnmfBHTU=");
    expect(result.files.map((file) => file.name)).toContain("ssl-1.0.0.tar.gz");
    expect(result.files.map((file) => file.name)).not.toContain("openssl-1.1.1n.tar.gz");
  });

  it("honours the explicit python_workers_20250116 flag before its date", async () => {
    const env = { XDG_CACHE_HOME: tempDir() };
    const target = pythonWorker("2025-06-01", ["python_workers", "python_workers_20250116"]);
    expect((await requiredPyodideFiles(target, { env })).bundleName).toBe("0.28.2_2025-01-16_9");
  });

  it("refuses a worker without the python_workers flag", async () => {
    await expect(requiredPyodideFiles(pythonWorker("2025-09-29", []), { env: {} })).rejects.toMatchObject({
      code: "not-python-worker",
    });
  });
});

describe("the manifest override", () => {
  it("replaces the derived list, validated", async () => {
    const dir = tempDir();
    const file = path.join(dir, "manifest.json");
    const manifest = {
      workerdVersion: "test",
      pyodideVersion: "0.28.2",
      bundleName: "x",
      packagesVersion: "1",
      files: [
        {
          kind: "bundle",
          name: "a.bin",
          url: "https://example.test/a.bin",
          integrity: sriFromHex("00"),
          cachePath: "a.bin",
        },
      ],
    };
    writeFileSync(file, JSON.stringify(manifest));
    expect(await requiredPyodideFiles(resolveTarget("py"), { env: { [MANIFEST_ENV]: file } })).toEqual({
      ...manifest,
      source: file,
    });
    writeFileSync(
      file,
      JSON.stringify({ ...manifest, files: [{ ...manifest.files[0], cachePath: "../x" }] }),
    );
    await expect(
      requiredPyodideFiles(resolveTarget("py"), { env: { [MANIFEST_ENV]: file } }),
    ).rejects.toMatchObject({
      code: "manifest-invalid",
    });
  });
});
