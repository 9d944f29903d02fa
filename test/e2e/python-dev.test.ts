import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processesMentioning, ROOT, runCli } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workerdBinary(): string {
  const fromRoot = createRequire(path.join(ROOT, "package.json"));
  const fromWrangler = createRequire(fromRoot.resolve("wrangler/package.json"));
  const fromMiniflare = createRequire(fromWrangler.resolve("miniflare/package.json"));
  return (fromMiniflare("workerd") as { default: string }).default;
}

describe("cfprobe dev py with a filled Pyodide cache", () => {
  it("makes workerd read the bundle from cfprobe's cache instead of the internet", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-pydev-e2e-"));
    dirs.push(dir);
    const worker = path.join(dir, "worker");
    cpSync(path.join(ROOT, "workers", "py-worker"), worker, {
      recursive: true,
      filter: (source) => !source.includes(".wrangler"),
    });
    const wrapperTmp = path.join(dir, "tmp");
    mkdirSync(wrapperTmp);
    const env = {
      CFPROBE_PYODIDE_CACHE: path.join(dir, "cache"),
      XDG_CACHE_HOME: path.join(dir, "xdg"),
      TMPDIR: wrapperTmp,
    };

    const listed = await runCli(["python", "fetch", worker, "--print-urls", "--json"], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const { workerdVersion, files } = JSON.parse(listed.stdout) as {
      workerdVersion: string;
      files: Array<{ kind: string; cachePath: string }>;
    };
    const bundle = files.find((file) => file.kind === "bundle");
    expect(bundle).toBeDefined();
    const placeholder = path.join(dir, "cache", workerdVersion, bundle?.cachePath ?? "");
    mkdirSync(path.dirname(placeholder), { recursive: true });
    writeFileSync(placeholder, "placeholder: not a Pyodide bundle\n");

    const binary = workerdBinary();
    const before = statSync(binary);
    const result = await runCli(
      ["dev", worker, "--port", "0", "--persist-to", path.join(dir, "state"), "--timeout", "60", "--json"],
      { env },
    );
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(4);
    expect(output).not.toMatch(/DNS lookup failed/);
    const doc = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
    expect(doc.error.data.cause).toMatchObject({ kind: "pyodide-bundle" });
    expect(doc.error.data.cause.evidence).toMatch(/capnp/);

    // The wrapper was made for this run only, and node_modules was left alone.
    expect(readdirSync(wrapperTmp).filter((name) => name.startsWith("cfprobe-workerd-"))).toEqual([]);
    const after = statSync(binary);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect(existsSync(placeholder)).toBe(true);
    expect(processesMentioning(worker)).toEqual([]);
  });
});
