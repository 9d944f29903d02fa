import {
  connectTcp,
  formatSeconds,
  headDirect,
  headThroughProxy,
  type ProbeResult,
  resolveHost,
  tlsHandshake,
} from "../../net/probes.js";
import { displayProxy, type ProxyEnv, proxyFor } from "../../net/proxy-env.js";
import type { Check, CheckStatus, HostReport, RequiredFile } from "./types.js";

/** Each probe's own bound; the command's deadline cuts them shorter when it comes first. */
const PROBE_TIMEOUT_MS = { dns: 3000, tcp: 4000, tls: 4000, https: 5000, proxy: 6000 } as const;

export interface Deadline {
  signal: AbortSignal;
  /** Milliseconds left before the command must report. */
  remaining(): number;
}

export interface NetworkContext {
  proxies: ProxyEnv;
  /** Trusted roots as workerd sees them (system store + NODE_EXTRA_CA_CERTS). */
  ca?: string[];
  deadline: Deadline;
}

/**
 * For every host workerd downloads from: DNS, direct TCP to 443, a TLS handshake, each only when
 * the step before it passed; and, in parallel, HTTPS through the proxy when one applies.
 */
export async function probeHosts(files: RequiredFile[], context: NetworkContext): Promise<HostReport[]> {
  const byHost = new Map<string, RequiredFile>();
  for (const file of files) {
    const host = new URL(file.url).hostname;
    if (!byHost.has(host) || file.kind === "bundle") byHost.set(host, file);
  }
  return Promise.all([...byHost].map(([host, file]) => probeHost(host, file.url, context)));
}

async function probeHost(host: string, url: string, context: NetworkContext): Promise<HostReport> {
  const { deadline } = context;
  const bound = (ms: number) => ({
    timeoutMs: Math.max(1, Math.min(ms, deadline.remaining())),
    signal: deadline.signal,
  });
  const proxy = proxyFor(new URL(url), context.proxies);
  const port = Number(new URL(url).port || 443);
  const viaProxy = proxy
    ? headThroughProxy(url, proxy, { ...bound(PROBE_TIMEOUT_MS.proxy), ca: context.ca }).then((result) => ({
        ...result,
        proxy: displayProxy(proxy),
      }))
    : undefined;
  const direct = (async () => {
    const dns = await resolveHost(host, bound(PROBE_TIMEOUT_MS.dns));
    if (dns.status !== "ok") return { dns };
    const tcp = await connectTcp(host, port, bound(PROBE_TIMEOUT_MS.tcp));
    if (tcp.status !== "ok") return { dns, tcp };
    const tls = await tlsHandshake(host, port, { ...bound(PROBE_TIMEOUT_MS.tls), ca: context.ca });
    if (tls.status !== "ok") return { dns, tcp, tls };
    const https = await headDirect(url, { ...bound(PROBE_TIMEOUT_MS.https), ca: context.ca });
    return { dns, tcp, tls, https };
  })();
  const [steps, proxied] = await Promise.all([direct, viaProxy]);
  return { host, port, url, ...steps, ...(proxied ? { viaProxy: proxied } : {}) };
}

/** The checks a host report is shown as. */
export function hostChecks(report: HostReport, proxies: ProxyEnv): Check[] {
  const group = `Network: ${report.host}`;
  const check = (
    id: string,
    title: string,
    probe: ProbeResult | undefined,
    skipped: string,
    failStatus: CheckStatus = "fail",
  ): Check => {
    if (!probe) return { id: `${id}:${report.host}`, group, title, status: "skip", detail: skipped };
    return {
      id: `${id}:${report.host}`,
      group,
      title,
      status: probe.status === "ok" ? "pass" : failStatus,
      detail: probe.status === "timeout" ? `timed out (${probe.detail})` : probe.detail,
      durationMs: probe.durationMs,
      ...(probe.status === "timeout" ? { timedOut: true } : {}),
    };
  };
  const checks = [
    check("dns", "DNS resolution", report.dns, ""),
    check("tcp", `direct TCP to port ${report.port}`, report.tcp, "skipped: no address"),
    check("tls", "TLS handshake (system trust store)", report.tls, "skipped: no connection"),
    check(
      "https",
      `direct HTTPS HEAD /${new URL(report.url).pathname.split("/").pop()}`,
      report.https,
      "skipped: no TLS",
    ),
  ];
  if (report.viaProxy) {
    const proxied = check("proxy", `HTTPS through ${report.viaProxy.proxy}`, report.viaProxy, "");
    if (report.viaProxy.httpStatus === 407) {
      proxied.hint = "Put the proxy's user and password in HTTPS_PROXY: http://<user>:<password>@host:port.";
    }
    checks.push(proxied);
  } else {
    checks.push({
      id: `proxy:${report.host}`,
      group,
      title: "HTTPS through a proxy",
      status: "skip",
      detail: proxies.https ? "NO_PROXY excludes this host" : "no proxy configured",
    });
  }
  return checks;
}

/** "tcp pyodide-capnp-bin.edgeworker.net:443 (4.0 s)" for each probe that ran out of time. */
export function timedOutProbes(reports: HostReport[]): string[] {
  const names: string[] = [];
  for (const report of reports) {
    const steps: Array<[string, ProbeResult | undefined]> = [
      [`dns ${report.host}`, report.dns],
      [`tcp ${report.host}:${report.port}`, report.tcp],
      [`tls ${report.host}:${report.port}`, report.tls],
      [`https ${report.url}`, report.https],
      [`https via proxy ${report.viaProxy?.proxy ?? ""} to ${report.host}`, report.viaProxy],
    ];
    for (const [name, probe] of steps) {
      if (probe?.status === "timeout") names.push(`${name} (${formatSeconds(probe.durationMs)})`);
    }
  }
  return names;
}
