import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../src/net/probes.js";
import type { Check, HostReport, TrialOutcome } from "../src/python/diagnose/types.js";
import { decideVerdict, type VerdictInput } from "../src/python/diagnose/verdict.js";

const HOST = "pyodide-capnp-bin.edgeworker.net";
const ok = (detail = "fine"): ProbeResult => ({ status: "ok", detail, durationMs: 5 });
const fail = (detail: string, code?: string, httpStatus?: number): ProbeResult => ({
  status: "fail",
  detail,
  durationMs: 5,
  code,
  httpStatus,
});
const timeout: ProbeResult = {
  status: "timeout",
  detail: "no answer within 4.0 s",
  durationMs: 4000,
  code: "timeout",
};

const BUNDLE_URL = `https://${HOST}/pyodide_0.28.2_2025-01-16_9.capnp.bin`;
const offline: HostReport = {
  host: HOST,
  port: 443,
  url: BUNDLE_URL,
  dns: fail("getaddrinfo ENOTFOUND", "ENOTFOUND"),
};
const dnsTrial: TrialOutcome = {
  status: "failed",
  durationMs: 1800,
  logTail: [],
  cause: { kind: "pyodide-dns", summary: `workerd could not resolve ${HOST}.`, host: HOST },
};

function input(overrides: Partial<VerdictInput>): VerdictInput {
  return {
    checks: [],
    trial: dnsTrial,
    hosts: [offline],
    cacheComplete: false,
    targetLabel: "py",
    ...overrides,
  };
}

describe("decideVerdict", () => {
  it("offline without a proxy: names DNS and the host, and how to carry the files over", () => {
    const { ok: started, verdict } = decideVerdict(input({}));
    expect(started).toBe(false);
    expect(verdict.cause).toBe("dns");
    expect(verdict.summary).toBe(
      `workerd must reach ${HOST} directly; this machine cannot resolve it and has no proxy configured.`,
    );
    expect(verdict.fix).toContain("cfprobe python fetch");
    expect(verdict.fix.join("\n")).toContain("--out");
  });

  it("a working proxy that workerd ignores: points to cfprobe python fetch", () => {
    const hosts = [
      { ...offline, viaProxy: { ...ok("HTTP 200"), httpStatus: 200, proxy: "http://***@proxy:3128" } },
    ];
    const { verdict } = decideVerdict(input({ hosts, proxy: "http://***@proxy:3128" }));
    expect(verdict.cause).toBe("workerd-ignores-proxy");
    expect(verdict.summary).toContain("Your proxy http://***@proxy:3128 reaches");
    expect(verdict.summary).toContain("workerd ignores proxies");
    expect(verdict.fix[0]).toBe("cfprobe python fetch");
  });

  it("a proxy that wants credentials: says 407 and how to give them", () => {
    const viaProxy = {
      ...fail("the proxy answered CONNECT with HTTP 407", "proxy-status", 407),
      proxy: "http://proxy:3128",
    };
    const { verdict } = decideVerdict(
      input({ hosts: [{ ...offline, viaProxy }], proxy: "http://proxy:3128" }),
    );
    expect(verdict.cause).toBe("dns");
    expect(verdict.summary).toContain(
      "the proxy http://proxy:3128 fails too (the proxy answered CONNECT with HTTP 407)",
    );
    expect(verdict.fix[0]).toContain("http://<user>:<password>@proxy:port");
  });

  it("DNS works but TCP hangs (a firewall): says workerd would hang", () => {
    const hosts = [{ host: HOST, port: 443, url: BUNDLE_URL, dns: ok("104.16.0.1"), tcp: timeout }];
    const trial: TrialOutcome = {
      status: "timeout",
      durationMs: 11_000,
      logTail: [],
      cause: { kind: "unknown", summary: "The worker did not answer HTTP within 11 s." },
    };
    const { ok: started, verdict } = decideVerdict(input({ hosts, trial }));
    expect(started).toBe(false);
    expect(verdict.cause).toBe("connect");
    expect(verdict.summary).toContain("time out (workerd would hang)");
  });

  it("a TLS failure: points to NODE_EXTRA_CA_CERTS", () => {
    const hosts = [
      {
        host: HOST,
        port: 443,
        url: BUNDLE_URL,
        dns: ok(),
        tcp: ok(),
        tls: fail("self-signed certificate in certificate chain"),
      },
    ];
    const trial: TrialOutcome = {
      status: "failed",
      durationMs: 2000,
      logTail: [],
      cause: { kind: "pyodide-tls", summary: "workerd's TLS handshake failed (certificate verify failed)." },
    };
    const { verdict } = decideVerdict(input({ hosts, trial }));
    expect(verdict.cause).toBe("tls");
    expect(verdict.fix[0]).toContain("NODE_EXTRA_CA_CERTS");
  });

  it("the host answers something else than 200 (a filtering middlebox): names the status", () => {
    const https = fail("HTTP 403", "http-status", 403);
    const hosts = [{ host: HOST, port: 443, url: BUNDLE_URL, dns: ok(), tcp: ok(), tls: ok(), https }];
    const { ok: started, verdict } = decideVerdict(input({ hosts, trial: { status: "skipped" } }));
    expect(started).toBe(false);
    expect(verdict.cause).toBe("http");
    expect(verdict.summary).toBe(`${HOST} answers HTTP 403 for ${BUNDLE_URL}: workerd needs HTTP 200 there.`);
  });

  it("an unreadable cached bundle: refill it", () => {
    const trial: TrialOutcome = {
      status: "failed",
      durationMs: 2000,
      logTail: [],
      cause: { kind: "pyodide-bundle", summary: "workerd could not read the Pyodide bundle." },
    };
    expect(decideVerdict(input({ trial })).verdict).toMatchObject({ cause: "bundle" });
  });

  it("the trial started: ok whatever the probes say", () => {
    const result = decideVerdict(input({ trial: { status: "started", durationMs: 3000 } }));
    expect(result).toMatchObject({ ok: true, verdict: { cause: "ok" } });
  });

  it("without a trial: a complete cache or a clean direct path predicts a start", () => {
    expect(decideVerdict(input({ trial: { status: "skipped" }, cacheComplete: true })).ok).toBe(true);
    const reachable = [
      { host: HOST, port: 443, url: BUNDLE_URL, dns: ok(), tcp: ok(), tls: ok(), https: ok("HTTP 200") },
    ];
    expect(decideVerdict(input({ trial: { status: "skipped" }, hosts: reachable })).ok).toBe(true);
    expect(decideVerdict(input({ trial: { status: "skipped" } })).verdict.cause).toBe("dns");
  });

  it("a broken config or CA file comes first", () => {
    const flag: Check = {
      id: "config-flag",
      group: "Worker config",
      title: "python_workers flag",
      status: "fail",
      detail: "missing",
      hint: 'Add compatibility_flags = ["python_workers"]',
    };
    expect(decideVerdict(input({ checks: [flag] })).verdict).toMatchObject({
      cause: "config",
      fix: [flag.hint],
    });
    const ca: Check = {
      ...flag,
      id: "ca-extra",
      title: "NODE_EXTRA_CA_CERTS",
      detail: "holds a PRIVATE KEY",
    };
    expect(decideVerdict(input({ checks: [ca] })).verdict.cause).toBe("ca");
  });
});
