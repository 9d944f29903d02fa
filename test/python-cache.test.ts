import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { pyodideCacheRoot, userCacheDir } from "../src/python/cache/location.js";
import { adoptWorkerdDownloads, writeAtomically } from "../src/python/cache/store.js";
import { sriFromHex } from "../src/python/files.js";
import { createWorkerdWrapper } from "../src/python/wrapper.js";
import { classifyStartupFailure } from "../src/wrangler/classify.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-cache-test-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("cache location", () => {
  it("uses --cache-dir, then CFPROBE_PYODIDE_CACHE, then XDG_CACHE_HOME, then ~/.cache", () => {
    expect(
      pyodideCacheRoot("1.2", { cacheDir: "rel", cwd: "/w", env: { CFPROBE_PYODIDE_CACHE: "/e" } }),
    ).toBe("/w/rel/1.2");
    expect(pyodideCacheRoot("1.2", { env: { CFPROBE_PYODIDE_CACHE: "/e", XDG_CACHE_HOME: "/x" } })).toBe(
      "/e/1.2",
    );
    expect(pyodideCacheRoot("1.2", { env: { XDG_CACHE_HOME: "/x", HOME: "/h" } })).toBe(
      "/x/cfprobe/pyodide/1.2",
    );
    expect(pyodideCacheRoot("1.2", { env: { HOME: "/h" } })).toBe("/h/.cache/cfprobe/pyodide/1.2");
    expect(userCacheDir({ XDG_CACHE_HOME: "relative", HOME: "/h" })).toBe("/h/.cache/cfprobe");
  });
});

describe("writeAtomically", () => {
  it("renames into place only after the check passes", async () => {
    const dir = tempDir();
    const target = path.join(dir, "sub", "file.bin");
    await writeAtomically(target, Readable.from([Buffer.from("hello")]));
    expect(readFileSync(target, "utf8")).toBe("hello");

    await expect(
      writeAtomically(target, Readable.from([Buffer.from("other")]), async () => {
        throw new Error("bad");
      }),
    ).rejects.toThrow("bad");
    expect(readFileSync(target, "utf8")).toBe("hello");
    expect(readdirSync(path.dirname(target))).toEqual(["file.bin"]);
  });

  it("removes the partial file when the source fails midway", async () => {
    const dir = tempDir();
    async function* broken() {
      yield Buffer.from("half");
      throw new Error("connection reset");
    }
    await expect(writeAtomically(path.join(dir, "f"), broken())).rejects.toThrow("connection reset");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("the workerd wrapper", () => {
  it("adds both cache flags right after `serve`, passes other commands through, and is removable", () => {
    const dir = tempDir();
    const fake = path.join(dir, "fake workerd");
    writeFileSync(fake, '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n');
    chmodSync(fake, 0o755);
    const bundleDir = path.join(dir, "it's cache");
    const wrapper = createWorkerdWrapper({
      workerd: fake,
      bundleDir,
      packageDir: path.join(bundleDir, "python-package-bucket", "20250808"),
    });
    const run = (...args: string[]) =>
      execFileSync(wrapper.path, args, { encoding: "utf8" }).trim().split("\n");
    expect(run("serve", "--binary", "-")).toEqual([
      "serve",
      `--pyodide-bundle-disk-cache-dir=${bundleDir}`,
      `--pyodide-package-disk-cache-dir=${bundleDir}/python-package-bucket/20250808`,
      "--binary",
      "-",
    ]);
    expect(run("--version")).toEqual(["--version"]);
    expect(existsSync(path.join(bundleDir, "python-package-bucket", "20250808"))).toBe(true);
    wrapper.remove();
    expect(existsSync(wrapper.path)).toBe(false);
    wrapper.remove();
  });
});

describe("classifying an unreadable cached bundle", () => {
  it("recognises workerd's real Cap'n Proto messages", () => {
    for (const line of [
      "*** Fatal uncaught kj::Exception: capnp/serialize.c++:72: failed: expected array.size() >= offset [4 >= 833664569]; Message ends prematurely in segment table.",
      "*** Fatal uncaught kj::Exception: capnp/message.c++:101: failed: expected segment != nullptr && segment->checkObject(segment->getStartPtr(), ONE * WORDS); Message did not contain a root pointer.",
    ]) {
      expect(classifyStartupFailure(["⎔ Starting local server...", line]).kind).toBe("pyodide-bundle");
    }
  });
});

describe("adoptWorkerdDownloads", () => {
  it("moves packages workerd saved under its nested bucket path to where it reads them, if valid", () => {
    const root = tempDir();
    const nested = path.join(root, "python-package-bucket/1/python-package-bucket/1");
    mkdirSync(nested, { recursive: true });
    writeFileSync(path.join(nested, "good.tar.gz"), "good");
    writeFileSync(path.join(nested, "bad.tar.gz"), "bad");
    const hex = (text: string) => createHash("sha256").update(text).digest("hex");
    const file = (name: string, integrity: string) => ({
      kind: "package" as const,
      name,
      url: `https://h/python-package-bucket/1/${name}`,
      integrity,
      cachePath: `python-package-bucket/1/${name}`,
    });
    const adopted = adoptWorkerdDownloads(root, [
      file("good.tar.gz", sriFromHex(hex("good"))),
      file("bad.tar.gz", sriFromHex(hex("not bad"))),
    ]);
    expect(adopted).toEqual([path.join(root, "python-package-bucket/1/good.tar.gz")]);
    expect(readFileSync(adopted[0] ?? "", "utf8")).toBe("good");
    expect(existsSync(path.join(root, "python-package-bucket/1/bad.tar.gz"))).toBe(false);
  });
});
