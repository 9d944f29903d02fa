import { createHash, randomBytes } from "node:crypto";
import {
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
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  makeTestCa,
  PYODIDE_HOST,
  startConnectProxy,
  startHttpsServer,
  type TestCa,
  type TestHttpsServer,
  type TestProxy,
} from "../support/pyodide-host.js";
import { runCli, startCli } from "./helpers.js";

const sri = (bytes: Buffer) => `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
const BUNDLE = randomBytes(200_000);
const PACKAGE = randomBytes(50_000);
const WORKERD = "test-workerd";

let ca: TestCa;
let server: TestHttpsServer;
let proxy: TestProxy;
let authProxy: TestProxy;
const temporary: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-fetch-e2e-"));
  temporary.push(dir);
  return dir;
}

beforeAll(async () => {
  ca = makeTestCa();
  server = await startHttpsServer(ca);
  proxy = await startConnectProxy({ routes: { [PYODIDE_HOST]: server.port } });
  authProxy = await startConnectProxy({
    routes: { [PYODIDE_HOST]: server.port },
    credentials: { user: "alice", password: "other-secret" },
  });
});

afterAll(async () => {
  await Promise.all([server?.close(), proxy?.close(), authProxy?.close()]);
  ca?.remove();
});

afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
  server.routes.clear();
});

/** A manifest (CFPROBE_PYODIDE_MANIFEST) naming test content under the real host name. */
function manifest(dir: string, overrides: { bundleIntegrity?: string; bundlePath?: string } = {}) {
  const bundlePath = overrides.bundlePath ?? "/pyodide_test_1.capnp.bin";
  server.routes.set(bundlePath, { kind: "ok", body: BUNDLE });
  server.routes.set("/python-package-bucket/1/ssl-test.tar.gz", { kind: "ok", body: PACKAGE });
  const file = path.join(dir, "manifest.json");
  writeFileSync(
    file,
    JSON.stringify({
      workerdVersion: WORKERD,
      pyodideVersion: "0.28.2",
      bundleName: "test_1",
      packagesVersion: "1",
      files: [
        {
          kind: "bundle",
          name: "pyodide_test_1.capnp.bin",
          url: `https://${PYODIDE_HOST}${bundlePath}`,
          integrity: overrides.bundleIntegrity ?? sri(BUNDLE),
          cachePath: "pyodide_test_1.capnp.bin",
        },
        {
          kind: "package",
          name: "ssl-test.tar.gz",
          url: `https://${PYODIDE_HOST}/python-package-bucket/1/ssl-test.tar.gz`,
          integrity: sri(PACKAGE),
          cachePath: "python-package-bucket/1/ssl-test.tar.gz",
        },
      ],
    }),
  );
  return file;
}

function env(dir: string, extra: Record<string, string> = {}) {
  return {
    CFPROBE_PYODIDE_MANIFEST: manifest(dir),
    CFPROBE_PYODIDE_CACHE: path.join(dir, "cache"),
    XDG_CACHE_HOME: path.join(dir, "xdg"),
    NODE_EXTRA_CA_CERTS: ca.caFile,
    HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`,
    https_proxy: "",
    HTTP_PROXY: "",
    http_proxy: "",
    NO_PROXY: "",
    no_proxy: "",
    ...extra,
  };
}

function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe("cfprobe python fetch through a CONNECT proxy", () => {
  it("downloads every file into the cache, verified, then finds them cached", async () => {
    const dir = tempDir();
    const connectsBefore = proxy.connects.length;
    const first = await runCli(["python", "fetch", "--json"], { env: env(dir) });
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout);
    const root = path.join(dir, "cache", WORKERD);
    expect(report).toMatchObject({ ok: true, workerdVersion: WORKERD, destination: root });
    expect(
      report.files.map((file: { status: string; verified: boolean }) => [file.status, file.verified]),
    ).toEqual([
      ["downloaded", true],
      ["downloaded", true],
    ]);
    expect(readFileSync(path.join(root, "pyodide_test_1.capnp.bin")).equals(BUNDLE)).toBe(true);
    expect(readFileSync(path.join(root, "python-package-bucket/1/ssl-test.tar.gz")).equals(PACKAGE)).toBe(
      true,
    );
    expect(proxy.connects.slice(connectsBefore)).toContain(`${PYODIDE_HOST}:443`);
    expect(listTree(root).filter((name) => name.includes("partial"))).toEqual([]);

    const second = await runCli(["python", "fetch", "--json"], { env: env(dir) });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).files.map((file: { status: string }) => file.status)).toEqual([
      "cached",
      "cached",
    ]);

    const ls = await runCli(["python", "cache", "ls", "--json"], { env: env(dir) });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout).current).toMatchObject({ workerdVersion: WORKERD, ready: true });
  });

  it("refuses content that does not match its integrity and leaves the cache untouched", async () => {
    const dir = tempDir();
    const root = path.join(dir, "cache", WORKERD);
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, "keep.txt"), "already here");
    const before = listTree(root);
    const result = await runCli(["python", "fetch", "--json"], {
      env: {
        ...env(dir),
        CFPROBE_PYODIDE_MANIFEST: manifest(dir, { bundleIntegrity: sri(Buffer.from("other")) }),
      },
    });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: "integrity-mismatch" });
    expect(listTree(root)).toEqual(before);
  });

  it("explains a proxy that demands authentication, without printing the credentials", async () => {
    const dir = tempDir();
    const proxyUrl = `http://alice:wrong-pass-123@127.0.0.1:${authProxy.port}`;
    const human = await runCli(["python", "fetch", "--attempts", "1"], {
      env: env(dir, { HTTPS_PROXY: proxyUrl }),
    });
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/requires authentication \(HTTP 407\)/);
    expect(human.stderr).toContain(`http://***@127.0.0.1:${authProxy.port}`);
    const json = await runCli(["python", "fetch", "--json"], { env: env(dir, { HTTPS_PROXY: proxyUrl }) });
    expect(JSON.parse(json.stdout).error.code).toBe("proxy-auth-required");
    for (const output of [human.stdout, human.stderr, json.stdout, json.stderr]) {
      expect(output).not.toContain("wrong-pass-123");
      expect(output).not.toContain("alice");
    }
    expect(listTree(path.join(dir, "cache"))).toEqual([]);
  });

  it("leaves no partial file when the connection is cut mid-download", async () => {
    const dir = tempDir();
    const vars = env(dir, {});
    vars.CFPROBE_PYODIDE_MANIFEST = manifest(dir, { bundlePath: "/cut.capnp.bin" });
    server.routes.set("/cut.capnp.bin", { kind: "cut", body: BUNDLE });
    const result = await runCli(["python", "fetch", "--attempts", "2", "--json"], { env: vars });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: "download-failed" });
    expect(result.stderr).toMatch(/try 2 of 2/);
    expect(server.requests.filter((url) => url === "/cut.capnp.bin")).toHaveLength(2);
    expect(listTree(path.join(dir, "cache")).filter((name) => name.includes("partial"))).toEqual([]);
    expect(existsSync(path.join(dir, "cache", WORKERD, "pyodide_test_1.capnp.bin"))).toBe(false);
  });

  it("stops on Ctrl-C mid-download with exit 130 and no partial file", async () => {
    const dir = tempDir();
    const vars = env(dir);
    vars.CFPROBE_PYODIDE_MANIFEST = manifest(dir, { bundlePath: "/stall.capnp.bin" });
    server.routes.set("/stall.capnp.bin", { kind: "stall", body: BUNDLE });
    const cli = startCli(["python", "fetch", "--json"], { env: vars });
    try {
      const root = path.join(dir, "cache", WORKERD);
      const deadline = Date.now() + 20_000;
      while (!listTree(root).some((name) => name.includes("partial")) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(
        listTree(root).some((name) => name.includes("partial")),
        cli.stderr(),
      ).toBe(true);
      cli.child.kill("SIGINT");
      expect(await cli.exit(20_000)).toBe(130);
      expect(listTree(root)).toEqual([]);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    }
  });

  it("honours NO_PROXY (the host is then resolved directly, which fails offline)", async () => {
    const dir = tempDir();
    const connectsBefore = proxy.connects.length;
    const result = await runCli(["python", "fetch", "--attempts", "1", "--json"], {
      env: env(dir, { NO_PROXY: `.edgeworker.net` }),
    });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.code).toBe("download-failed");
    expect(proxy.connects.length).toBe(connectsBefore);
  });

  it("carries files over: --out DIR on one side, import on the other", async () => {
    const dir = tempDir();
    const carry = path.join(dir, "carry");
    const out = await runCli(["python", "fetch", "--out", carry], { env: env(dir) });
    expect(out.code, out.stderr).toBe(0);
    expect(listTree(carry)).toEqual(["pyodide_test_1.capnp.bin", "ssl-test.tar.gz"]);
    expect(listTree(path.join(dir, "cache"))).toEqual([]);

    writeFileSync(path.join(dir, "ssl-test.tar.gz"), "tampered");
    const bad = await runCli(["python", "import", path.join(dir, "ssl-test.tar.gz"), "--json"], {
      env: env(dir),
    });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.code).toBe("integrity-mismatch");
    expect(listTree(path.join(dir, "cache"))).toEqual([]);

    const good = await runCli(["python", "import", carry, "--json"], { env: env(dir) });
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout).stillMissing).toEqual([]);
    const root = path.join(dir, "cache", WORKERD);
    expect(readFileSync(path.join(root, "python-package-bucket/1/ssl-test.tar.gz")).equals(PACKAGE)).toBe(
      true,
    );

    const cleared = await runCli(["python", "cache", "clear", "--json"], { env: env(dir) });
    expect(JSON.parse(cleared.stdout).removed).toMatchObject([{ workerdVersion: WORKERD }]);
    expect(existsSync(root)).toBe(false);
  });
});
