import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { startHttpsTarget } from "../support/proxy-https-target.js";
import { startTestProxy } from "../support/proxy-servers.js";
import { processesMentioning, ROOT, runCli, startCli, withCleanups } from "./helpers.js";

const HOST = "pyodide-capnp-bin.edgeworker.net";
const NO_PROXY_ENV = {
  HTTP_PROXY: "",
  HTTPS_PROXY: "",
  http_proxy: "",
  https_proxy: "",
  NO_PROXY: "",
  no_proxy: "",
};

const { defer, tempDir } = withCleanups();

/** A private copy of the Python worker: the trial's run records never meet another test's. */
function pyWorkerCopy() {
  const dir = tempDir("pyw");
  cpSync(path.join(ROOT, "workers", "py-worker"), dir, {
    recursive: true,
    filter: (source) => !source.includes(".wrangler"),
  });
  return dir;
}

/** An empty Pyodide cache, so what another test downloaded does not change the verdict. */
function emptyCacheEnv() {
  return { CFPROBE_PYODIDE_CACHE: tempDir("cache") };
}

/** A stand-in for workerd that never answers (MINIFLARE_WORKERD_PATH), with a sleep we can find. */
function hangingWorkerd() {
  const fake = path.join(tempDir("hang"), "hanging-workerd");
  const sleeper = `sleep ${300 + Math.random()}`.slice(0, 16);
  writeFileSync(fake, `#!/bin/sh\n${sleeper}\n`, { mode: 0o755 });
  return { fake, sleeper };
}

interface Report {
  ok: boolean;
  verdict: { cause: string; summary: string; fix: string[] };
  checks: Array<{ id: string; status: string; detail: string; timedOut?: boolean }>;
  urls: Array<{ kind: string; url: string; name: string; cachePath: string }>;
  timedOut: string[];
  durationMs: number;
}

describe("cfprobe diagnose-python", () => {
  it("offline: names DNS and the host, within the bound, exit 1, and leaves no process behind", async () => {
    const worker = pyWorkerCopy();
    const human = await runCli(["diagnose-python", worker], { env: { ...NO_PROXY_ENV, ...emptyCacheEnv() } });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      `✗ workerd must reach ${HOST} directly; this machine cannot resolve it and has no proxy configured.`,
    );
    expect(human.stdout).toMatch(
      /\[✗\] Live trial\n {4}✗ wrangler dev with the Python worker: workerd could not resolve/,
    );
    expect(human.stdout).toContain("$ cfprobe python fetch");

    const json = await runCli(["diagnose-python", worker, "--json"], {
      env: { ...NO_PROXY_ENV, ...emptyCacheEnv() },
    });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.verdict.cause).toBe("dns");
    expect(report.verdict.summary).toContain(HOST);
    expect(report.durationMs).toBeLessThanOrEqual(15_000);
    expect(report.urls.find((file) => file.kind === "bundle")?.url).toMatch(
      new RegExp(`^https://${HOST.replaceAll(".", "\\.")}/pyodide_.+\\.capnp\\.bin$`),
    );
    const byId = Object.fromEntries(report.checks.map((check) => [check.id, check]));
    expect(byId[`dns:${HOST}`]?.status).toBe("fail");
    expect(byId.trial).toMatchObject({ status: "fail", detail: expect.stringContaining(HOST) });
    expect(processesMentioning(worker)).toEqual([]);
  });

  it("never prints the proxy's user and password, and says workerd ignores the proxy that works", async () => {
    const target = await startHttpsTarget(HOST);
    defer(() => target.close());
    const proxy = await startTestProxy({
      mode: "auth",
      credentials: "alice:s3cr3t-pass",
      route: () => ({ host: "127.0.0.1", port: target.port }),
    });
    defer(() => proxy.close());
    const caFile = path.join(tempDir("ca"), "ca.pem");
    writeFileSync(caFile, target.ca);
    const env = { ...NO_PROXY_ENV, ...emptyCacheEnv(), HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: caFile };
    const worker = pyWorkerCopy();

    const human = await runCli(["diagnose-python", worker, "--verbose"], { env });
    const json = await runCli(["diagnose-python", worker, "--json", "--verbose"], { env });
    for (const run of [human, json]) {
      expect(run.code).toBe(1);
      for (const stream of [run.stdout, run.stderr]) {
        expect(stream).not.toContain("s3cr3t-pass");
        expect(stream).not.toContain("alice:");
      }
    }
    expect(human.stderr).toContain("[trial]");
    const report = JSON.parse(json.stdout) as Report;
    expect(report.verdict.cause).toBe("workerd-ignores-proxy");
    expect(report.verdict.summary).toContain(`Your proxy http://***@127.0.0.1:${proxy.port} reaches ${HOST}`);
    expect(report.verdict.fix[0]).toBe("cfprobe python fetch");
    expect(human.stdout).toContain("HTTPS_PROXY=http://***@127.0.0.1:");
    expect(proxy.connects).toContain(`${HOST}:443`);
    expect(target.requests.some((request) => request.startsWith("HEAD /pyodide_"))).toBe(true);
  });

  it("says the proxy wants credentials (407)", async () => {
    const proxy = await startTestProxy({ mode: "auth", credentials: "alice:right" });
    defer(() => proxy.close());
    const url = proxy.url.replace("alice:right", "alice:wrong");
    const run = await runCli(["diagnose-python", pyWorkerCopy(), "--no-trial", "--json"], {
      env: { ...NO_PROXY_ENV, ...emptyCacheEnv(), HTTPS_PROXY: url },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain("wrong");
    const report = JSON.parse(run.stdout) as Report;
    expect(report.verdict.summary).toContain("HTTP 407");
    expect(report.verdict.fix[0]).toContain("http://<user>:<password>@proxy:port");
  });

  it("finishes within --timeout when every connection hangs, naming the probes that timed out", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen({ host: "127.0.0.1", port: 0 }, resolve));
    defer(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as net.AddressInfo).port;
    const proxy = await startTestProxy({ mode: "hanging" });
    defer(() => proxy.close());
    const manifest = path.join(tempDir("manifest"), "manifest.json");
    writeFileSync(
      manifest,
      JSON.stringify({
        workerdVersion: "1.20260426.1",
        pyodideVersion: "0.28.2",
        bundleName: "0.28.2_2025-01-16_9",
        packagesVersion: "20250808",
        files: [
          {
            kind: "bundle",
            name: "pyodide_0.28.2_2025-01-16_9.capnp.bin",
            url: `https://127.0.0.1:${port}/pyodide_0.28.2_2025-01-16_9.capnp.bin`,
            cachePath: "pyodide_0.28.2_2025-01-16_9.capnp.bin",
          },
        ],
      }),
    );
    const run = await runCli(["diagnose-python", pyWorkerCopy(), "--no-trial", "--timeout", "3", "--json"], {
      env: {
        ...NO_PROXY_ENV,
        ...emptyCacheEnv(),
        HTTPS_PROXY: proxy.url,
        CFPROBE_PYODIDE_MANIFEST: manifest,
      },
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.durationMs).toBeLessThanOrEqual(3000);
    expect(report.timedOut).toEqual([
      expect.stringMatching(new RegExp(`^tls 127\\.0\\.0\\.1:${port} `)),
      expect.stringMatching(/^https via proxy http:\/\/127\.0\.0\.1:\d+ to 127\.0\.0\.1 /),
    ]);
    expect(report.checks.filter((check) => check.timedOut).map((check) => check.id)).toEqual([
      "tls:127.0.0.1",
      "proxy:127.0.0.1",
    ]);
  });

  it("stops a trial whose workerd hangs, within --timeout, and says the trial timed out", async () => {
    const { fake, sleeper } = hangingWorkerd();
    const worker = pyWorkerCopy();
    const run = await runCli(["diagnose-python", worker, "--timeout", "8", "--json"], {
      env: { ...NO_PROXY_ENV, ...emptyCacheEnv(), MINIFLARE_WORKERD_PATH: fake },
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.durationMs).toBeLessThanOrEqual(8000);
    expect(report.timedOut).toEqual([expect.stringMatching(/^live trial \(/)]);
    expect(report.checks.find((check) => check.id === "trial")).toMatchObject({
      status: "fail",
      timedOut: true,
    });
    expect(processesMentioning(fake)).toEqual([]);
    expect(processesMentioning(sleeper)).toEqual([]);
    expect(processesMentioning(worker)).toEqual([]);
  });

  it("Ctrl-C during the trial stops wrangler and workerd and exits 130", async () => {
    const { fake, sleeper } = hangingWorkerd();
    const worker = pyWorkerCopy();
    const cli = startCli(["diagnose-python", worker, "--timeout", "60", "--verbose"], {
      env: { ...NO_PROXY_ENV, ...emptyCacheEnv(), MINIFLARE_WORKERD_PATH: fake },
    });
    defer(() => cli.exit(1000));
    const deadline = Date.now() + 30_000;
    while (processesMentioning(fake).length === 0 && Date.now() < deadline) await sleep(100);
    expect(processesMentioning(fake).length).toBeGreaterThan(0);
    cli.child.kill("SIGINT");
    expect(await cli.exit()).toBe(130);
    expect(processesMentioning(fake)).toEqual([]);
    expect(processesMentioning(sleeper)).toEqual([]);
    expect(processesMentioning(worker)).toEqual([]);
  });

  it("a cached bundle that is not a bundle: the cache check and the trial both say so", async () => {
    const worker = pyWorkerCopy();
    const env = { ...NO_PROXY_ENV, ...emptyCacheEnv() };
    const first = JSON.parse(
      (await runCli(["diagnose-python", worker, "--no-trial", "--json"], { env })).stdout,
    ) as Report & { workerdVersion: string };
    const bundle = first.urls.find((file) => file.kind === "bundle");
    const placeholder = path.join(env.CFPROBE_PYODIDE_CACHE, first.workerdVersion, bundle?.cachePath ?? "");
    mkdirSync(path.dirname(placeholder), { recursive: true });
    writeFileSync(placeholder, "placeholder: not a Pyodide bundle\n");

    const run = await runCli(["diagnose-python", worker, "--json"], { env });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    const byId = Object.fromEntries(report.checks.map((check) => [check.id, check]));
    expect(byId.cache).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(`mismatch: ${bundle?.name}`),
    });
    expect(byId.trial?.detail).not.toMatch(/resolve/);
    expect(report.verdict.cause).toBe("bundle");
    expect(report.verdict.fix[0]).toMatch(/^cfprobe python fetch/);
    expect(processesMentioning(worker)).toEqual([]);
  });

  it("exit 0 when the (mirror) host answers directly; exit 1 naming the status when it answers 404", async () => {
    for (const [status, code, cause] of [
      [200, 0, "ok"],
      [404, 1, "http"],
    ] as const) {
      const target = await startHttpsTarget("localhost", status);
      defer(() => target.close());
      const dir = tempDir("mirror");
      writeFileSync(path.join(dir, "ca.pem"), target.ca);
      writeFileSync(
        path.join(dir, "manifest.json"),
        JSON.stringify({
          workerdVersion: "1.20260426.1",
          pyodideVersion: "0.28.2",
          bundleName: "0.28.2_2025-01-16_9",
          packagesVersion: "20250808",
          files: [
            {
              kind: "bundle",
              name: "pyodide_0.28.2_2025-01-16_9.capnp.bin",
              url: `https://localhost:${target.port}/pyodide_0.28.2_2025-01-16_9.capnp.bin`,
              cachePath: "pyodide_0.28.2_2025-01-16_9.capnp.bin",
            },
          ],
        }),
      );
      const run = await runCli(["diagnose-python", pyWorkerCopy(), "--no-trial", "--json"], {
        env: {
          ...NO_PROXY_ENV,
          ...emptyCacheEnv(),
          CFPROBE_PYODIDE_MANIFEST: path.join(dir, "manifest.json"),
          NODE_EXTRA_CA_CERTS: path.join(dir, "ca.pem"),
        },
      });
      expect(run.code, run.stderr).toBe(code);
      const report = JSON.parse(run.stdout) as Report;
      expect(report.verdict.cause).toBe(cause);
      expect(report.checks.find((check) => check.id === "https:localhost")?.detail).toBe(`HTTP ${status}`);
      expect(target.requests).toEqual(["HEAD /pyodide_0.28.2_2025-01-16_9.capnp.bin"]);
    }
  });

  it("refuses a JavaScript worker and a bad --timeout with exit 2", async () => {
    const js = await runCli(["diagnose-python", "js", "--json"]);
    expect(js.code).toBe(2);
    expect(JSON.parse(js.stdout)).toMatchObject({ ok: false, error: { code: "not-python-worker" } });
    const bad = await runCli(["diagnose-python", "--timeout", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--timeout must be a positive number of seconds");
  });
});
