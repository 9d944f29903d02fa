import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connectTcp, headDirect, headThroughProxy, resolveHost, tlsHandshake } from "../src/net/probes.js";
import {
  bypassesProxy,
  displayProxy,
  proxyFor,
  readProxyEnv,
  redactCredentials,
  redactText,
} from "../src/net/proxy-env.js";
import { inspectExtraCaCerts } from "../src/net/trust.js";
import { startHttpsTarget } from "./support/proxy-https-target.js";
import { refusingProxyUrl, startSilentListener, startTestProxy } from "./support/proxy-servers.js";

const HOST = "pyodide-capnp-bin.edgeworker.net";
const URL_ = `https://${HOST}/pyodide_0.28.2_2025-01-16_9.capnp.bin`;
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

describe("proxy environment", () => {
  it("reads lower case first, falls back from HTTPS to HTTP, and parses NO_PROXY", () => {
    const proxies = readProxyEnv({
      HTTP_PROXY: "http://upper:3128",
      http_proxy: "http://lower:3128",
      NO_PROXY: "localhost, .internal.example,10.0.0.1:8080",
    });
    expect(proxies.http?.host).toBe("lower:3128");
    expect(proxies.https?.host).toBe("lower:3128");
    expect(proxies.noProxy).toEqual(["localhost", ".internal.example", "10.0.0.1:8080"]);
    expect(proxies.variables.map((variable) => variable.name)).toEqual([
      "http_proxy",
      "HTTP_PROXY",
      "NO_PROXY",
    ]);
  });

  it("accepts a proxy without scheme and reports one that is not a URL", () => {
    expect(readProxyEnv({ HTTPS_PROXY: "proxy.corp:8080" }).https?.href).toBe("http://proxy.corp:8080/");
    const bad = readProxyEnv({ HTTPS_PROXY: "socks5://proxy:1080" });
    expect(bad.https).toBeUndefined();
    expect(bad.invalid.map((variable) => variable.name)).toEqual(["HTTPS_PROXY"]);
  });

  it("bypasses by exact host, domain suffix, wildcard and port", () => {
    const target = new URL(URL_);
    expect(bypassesProxy(target, ["edgeworker.net"])).toBe(true);
    expect(bypassesProxy(target, [".edgeworker.net"])).toBe(true);
    expect(bypassesProxy(target, ["*.edgeworker.net"])).toBe(true);
    expect(bypassesProxy(target, ["*"])).toBe(true);
    expect(bypassesProxy(target, [`${HOST}:443`])).toBe(true);
    expect(bypassesProxy(target, [`${HOST}:8443`])).toBe(false);
    expect(bypassesProxy(target, ["worker.net"])).toBe(false);
    expect(bypassesProxy(target, ["other.example"])).toBe(false);
    const proxies = readProxyEnv({ HTTPS_PROXY: "http://p:1", NO_PROXY: "edgeworker.net" });
    expect(proxyFor(target, proxies)).toBeUndefined();
    expect(proxyFor(new URL("https://example.com/"), proxies)?.host).toBe("p:1");
  });

  it("never lets user or password through", () => {
    const proxies = readProxyEnv({ HTTPS_PROXY: "http://alice:s%3Acret@proxy.corp:3128/" });
    expect(proxies.variables[0]?.redacted).toBe("http://***@proxy.corp:3128/");
    expect(displayProxy(proxies.https!)).toBe("http://***@proxy.corp:3128");
    expect(redactCredentials("via https://u:p@h:1 and http://h:2")).toBe(
      "via https://***@h:1 and http://h:2",
    );
    const leaked = "error: Proxy-Authorization for alice:s%3Acret, decoded s:cret";
    const clean = redactText(leaked, proxies.secrets);
    expect(clean).not.toContain("s%3Acret");
    expect(clean).not.toContain("s:cret");
  });
});

describe("probes", () => {
  it("resolves loopback and fails on a name that cannot exist", async () => {
    expect(await resolveHost("localhost", { timeoutMs: 5000 })).toMatchObject({ status: "ok" });
    const missing = await resolveHost("no-such-host.invalid", { timeoutMs: 5000 });
    expect(missing.status).toBe("fail");
    expect(missing.code).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it("tells a refused connection from one that hangs", async () => {
    const closedPort = Number(new URL(await refusingProxyUrl()).port);
    expect(await connectTcp("127.0.0.1", closedPort, { timeoutMs: 5000 })).toMatchObject({
      status: "fail",
      code: "ECONNREFUSED",
    });
    const silent = await silentListener();
    expect(await connectTcp("127.0.0.1", silent, { timeoutMs: 5000 })).toMatchObject({ status: "ok" });
    const handshake = await tlsHandshake("127.0.0.1", silent, { timeoutMs: 300 });
    expect(handshake).toMatchObject({ status: "timeout", code: "timeout" });
  });

  it("stops when the caller's signal aborts, before its own timeout", async () => {
    const silent = await silentListener();
    const controller = new AbortController();
    const pending = tlsHandshake("127.0.0.1", silent, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    expect((await pending).status).toBe("timeout");
  });

  it("verifies the certificate in the TLS handshake", async () => {
    const target = await startHttpsTarget("localhost");
    cleanup.push(() => target.close());
    expect(await tlsHandshake("localhost", target.port, { timeoutMs: 5000 })).toMatchObject({
      status: "fail",
    });
    expect(await tlsHandshake("localhost", target.port, { timeoutMs: 5000, ca: [target.ca] })).toMatchObject({
      status: "ok",
    });
  });
});

describe("direct HTTPS", () => {
  it("gets the status with the given roots, and fails without them", async () => {
    const target = await startHttpsTarget("localhost", 404);
    cleanup.push(() => target.close());
    const url = `https://localhost:${target.port}/pyodide_x.capnp.bin`;
    expect(await headDirect(url, { timeoutMs: 5000, ca: [target.ca] })).toMatchObject({
      status: "fail",
      code: "http-status",
      httpStatus: 404,
    });
    expect(target.requests).toEqual(["HEAD /pyodide_x.capnp.bin"]);
    const untrusted = await headDirect(url, { timeoutMs: 5000 });
    expect(untrusted.status).toBe("fail");
    expect(untrusted.httpStatus).toBeUndefined();
  });
});

describe("HTTPS through a CONNECT proxy", () => {
  async function routedTarget(status = 200) {
    const target = await startHttpsTarget(HOST, status);
    cleanup.push(() => target.close());
    return target;
  }

  it("reaches the host through a working proxy", async () => {
    const target = await routedTarget();
    const proxy = await startTestProxy({
      mode: "working",
      route: () => ({ host: "127.0.0.1", port: target.port }),
    });
    cleanup.push(() => proxy.close());
    const result = await headThroughProxy(URL_, new URL(proxy.url), { timeoutMs: 5000, ca: [target.ca] });
    expect(result).toMatchObject({ status: "ok", httpStatus: 200 });
    expect(proxy.connects).toEqual([`${HOST}:443`]);
    expect(target.requests).toEqual(["HEAD /pyodide_0.28.2_2025-01-16_9.capnp.bin"]);
  });

  it("reports the HTTP status the host answers", async () => {
    const target = await routedTarget(404);
    const proxy = await startTestProxy({
      mode: "working",
      route: () => ({ host: "127.0.0.1", port: target.port }),
    });
    cleanup.push(() => proxy.close());
    const result = await headThroughProxy(URL_, new URL(proxy.url), { timeoutMs: 5000, ca: [target.ca] });
    expect(result).toMatchObject({ status: "fail", httpStatus: 404, code: "http-status" });
  });

  it("says 407 when the proxy wants credentials, and passes when they are given", async () => {
    const target = await routedTarget();
    const proxy = await startTestProxy({
      mode: "auth",
      credentials: "alice:secret",
      route: () => ({ host: "127.0.0.1", port: target.port }),
    });
    cleanup.push(() => proxy.close());
    const anonymous = new URL(proxy.url);
    anonymous.username = "";
    anonymous.password = "";
    const refused = await headThroughProxy(URL_, anonymous, { timeoutMs: 5000, ca: [target.ca] });
    expect(refused).toMatchObject({ status: "fail", code: "proxy-status", httpStatus: 407 });
    expect(refused.detail).toContain("407");
    const admitted = await headThroughProxy(URL_, new URL(proxy.url), { timeoutMs: 5000, ca: [target.ca] });
    expect(admitted).toMatchObject({ status: "ok", httpStatus: 200 });
  });

  it("says the proxy refuses connections", async () => {
    const result = await headThroughProxy(URL_, new URL(await refusingProxyUrl()), { timeoutMs: 5000 });
    expect(result).toMatchObject({ status: "fail", code: "ECONNREFUSED" });
  });

  it("times out on a proxy that accepts and never answers", async () => {
    const proxy = await startTestProxy({ mode: "hanging" });
    cleanup.push(() => proxy.close());
    const result = await headThroughProxy(URL_, new URL(proxy.url), { timeoutMs: 300 });
    expect(result).toMatchObject({ status: "timeout" });
  });
});

describe("NODE_EXTRA_CA_CERTS", () => {
  it("accepts certificates only, and flags a private key, an unreadable file and junk", async () => {
    const target = await startHttpsTarget("localhost");
    cleanup.push(() => target.close());
    const dir = mkdtempSync(path.join(os.tmpdir(), "cfprobe-ca-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const good = path.join(dir, "good.pem");
    const withKey = path.join(dir, "with-key.pem");
    const junk = path.join(dir, "junk.pem");
    writeFileSync(good, target.ca);
    writeFileSync(withKey, `${target.ca}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`);
    writeFileSync(junk, "not a certificate\n");
    expect(inspectExtraCaCerts({}).status).toBe("unset");
    expect(inspectExtraCaCerts({ NODE_EXTRA_CA_CERTS: good })).toMatchObject({
      status: "ok",
      certificates: 1,
    });
    expect(inspectExtraCaCerts({ NODE_EXTRA_CA_CERTS: withKey })).toMatchObject({
      status: "has-private-key",
    });
    expect(inspectExtraCaCerts({ NODE_EXTRA_CA_CERTS: junk }).status).toBe("no-certificates");
    expect(inspectExtraCaCerts({ NODE_EXTRA_CA_CERTS: path.join(dir, "missing.pem") })).toMatchObject({
      status: "unreadable",
    });
  });
});
