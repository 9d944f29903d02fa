import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveTarget } from "../src/project/target.js";
import { diagnosePython } from "../src/python/diagnose/run.js";
import type { RequiredFiles } from "../src/python/diagnose/types.js";
import { startSilentListener, startTestProxy } from "./support/proxy-servers.js";

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A silent listener for this test, closed afterwards. */
async function silentListener(): Promise<number> {
  const listener = await startSilentListener();
  cleanup.push(listener.close);
  return listener.port;
}

function filesAt(base: string): RequiredFiles {
  return {
    workerdVersion: "1.20260426.1",
    pyodideVersion: "0.28.2",
    files: [
      {
        kind: "bundle",
        name: "pyodide_x.capnp.bin",
        url: `${base}/pyodide_x.capnp.bin`,
        cachePath: "pyodide_x.capnp.bin",
      },
      {
        kind: "package",
        name: "ssl.tar.gz",
        url: `${base}/python-package-bucket/1/ssl.tar.gz`,
        cachePath: "ssl.tar.gz",
      },
    ],
  };
}

describe("diagnosePython", () => {
  it("finishes within its bound when every connection hangs, and says which probes timed out", async () => {
    const silent = await silentListener();
    const proxy = await startTestProxy({ mode: "hanging" });
    cleanup.push(() => proxy.close());
    const cacheRoot = mkdtempSync(path.join(os.tmpdir(), "cfprobe-cache-"));
    cleanup.push(() => rmSync(cacheRoot, { recursive: true, force: true }));

    const diagnosis = await diagnosePython(resolveTarget("py"), {
      timeoutMs: 1500,
      trial: false,
      env: { HTTPS_PROXY: proxy.url },
      signal: new AbortController().signal,
      requiredFiles: () => filesAt(`https://127.0.0.1:${silent}`),
      cacheRoot: () => cacheRoot,
    });

    expect(diagnosis.ok).toBe(false);
    expect(diagnosis.timedOut).toEqual([
      expect.stringMatching(new RegExp(`^tls 127\\.0\\.0\\.1:${silent} \\(`)),
      expect.stringMatching(
        new RegExp(`^https via proxy http://127\\.0\\.0\\.1:${proxy.port} to 127\\.0\\.0\\.1 \\(`),
      ),
    ]);
    const byId = Object.fromEntries(diagnosis.checks.map((check) => [check.id, check]));
    expect(byId["tcp:127.0.0.1"]).toMatchObject({ status: "pass" });
    expect(byId["tls:127.0.0.1"]).toMatchObject({ status: "fail", timedOut: true });
    expect(byId["proxy:127.0.0.1"]).toMatchObject({ status: "fail", timedOut: true });
    expect(byId.cache).toMatchObject({ status: "skip", detail: expect.stringContaining("0 of 2") });
    expect(diagnosis.verdict.cause).toBe("tls");
    expect(diagnosis.urls.map((file) => file.url)).toHaveLength(2);
    expect(proxy.connects).toEqual([]);
  });

  it("reports a file list it cannot derive as a failed check, not a crash", async () => {
    const diagnosis = await diagnosePython(resolveTarget("py"), {
      timeoutMs: 1500,
      trial: false,
      env: {},
      signal: new AbortController().signal,
      requiredFiles: () => {
        throw new Error("no workerd here");
      },
      cacheRoot: () => "/nonexistent",
    });
    expect(diagnosis.checks.find((check) => check.id === "pyodide-urls")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("no workerd here"),
    });
    expect(diagnosis.ok).toBe(false);
    expect(diagnosis.verdict.cause).toBe("unknown");
  });
});
