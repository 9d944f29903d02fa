import type { ProbeResult } from "../../net/probes.js";
import type { Check, HostReport, TrialOutcome, Verdict } from "./types.js";

export interface VerdictInput {
  checks: Check[];
  trial: TrialOutcome;
  hosts: HostReport[];
  /** The proxy HTTPS requests would use, redacted; undefined when none is configured. */
  proxy?: string;
  cacheComplete: boolean;
  /** The target as the user named it, for the commands in `fix`. */
  targetLabel: string;
}

const FETCH_FIX = "cfprobe python fetch";
const CARRY_FIX =
  "or, on a machine with internet: `cfprobe python fetch --out pyodide-files`, carry the folder here, then `cfprobe python import pyodide-files/*`";

/**
 * One sentence and the commands that fix it. The live trial says whether the worker starts; the
 * probes say why not. Without a trial the probes (and the cache) predict it.
 */
export function decideVerdict(input: VerdictInput): { ok: boolean; verdict: Verdict } {
  const failed = (id: string) => input.checks.find((check) => check.id === id && check.status === "fail");
  const config = ["config-flag", "config-date", "config-entry"].map(failed).find(Boolean);
  if (config) {
    return no(
      "config",
      `The worker's config is not a Python worker wrangler can start: ${config.title} ${config.detail}.`,
      [config.hint ?? "Fix the wrangler config."],
    );
  }
  const ca = failed("ca-extra");
  if (ca)
    return no("ca", `NODE_EXTRA_CA_CERTS is unusable: ${ca.detail}.`, [
      ca.hint ?? "Unset NODE_EXTRA_CA_CERTS.",
    ]);

  const { trial } = input;
  if (trial.status === "started") {
    return { ok: true, verdict: { cause: "ok", summary: "The Python worker starts here.", fix: [] } };
  }
  if (trial.status === "skipped" && input.cacheComplete) {
    return {
      ok: true,
      verdict: { cause: "ok", summary: "cfprobe's cache holds every Pyodide file workerd needs.", fix: [] },
    };
  }
  if (trial.status !== "skipped") {
    const kind = trial.cause.kind;
    if (kind === "pyodide-bundle") {
      return no("bundle", trial.cause.summary, [
        `${FETCH_FIX}   # downloads it again, checking its integrity`,
      ]);
    }
    if (kind === "address-in-use" || kind === "script-error" || kind === "config") {
      return no(kind, trial.cause.summary, [
        trial.cause.hint ?? `cfprobe dev ${input.targetLabel} --verbose`,
      ]);
    }
  }
  return networkVerdict(input);
}

function networkVerdict(input: VerdictInput): { ok: boolean; verdict: Verdict } {
  const cause =
    input.trial.status === "failed" || input.trial.status === "timeout" ? input.trial.cause : undefined;
  const report =
    input.hosts.find((host) => host.host === cause?.host) ?? input.hosts.find(blocked) ?? input.hosts[0];
  if (!report) {
    return no(
      cause?.kind.replace(/^pyodide-/, "") ?? "unknown",
      cause?.summary ?? "cfprobe could not tell which files workerd downloads, so it probed no host.",
      [cause?.hint ?? "npm ci   # reinstall the pinned wrangler and workerd"],
    );
  }
  const host = report.host;
  const proxyWorks = report.viaProxy?.status === "ok";
  const proxyNote = (reason: string) =>
    proxyWorks
      ? {
          cause: "workerd-ignores-proxy",
          summary: `Your proxy ${input.proxy} reaches ${host}, but workerd ignores proxies and ${reason}: run \`${FETCH_FIX}\``,
          fix: [FETCH_FIX, `cfprobe dev ${input.targetLabel}`],
        }
      : undefined;
  const proxyFailure =
    report.viaProxy && !proxyWorks
      ? `; the proxy ${input.proxy} fails too (${describe(report.viaProxy)})`
      : "";
  const withoutProxy = input.proxy ? proxyFailure : " and has no proxy configured";
  const offlineFix = [
    ...(report.viaProxy && !proxyWorks
      ? [
          report.viaProxy.httpStatus === 407
            ? "export HTTPS_PROXY=http://<user>:<password>@proxy:port   # the proxy wants credentials"
            : "check HTTPS_PROXY: the proxy must accept CONNECT to port 443",
        ]
      : input.proxy
        ? []
        : ["export HTTPS_PROXY=http://proxy:port   # if this network has a proxy"]),
    FETCH_FIX,
    CARRY_FIX,
  ];

  if (cause?.kind === "pyodide-dns" || report.dns.status !== "ok") {
    const dnsTimedOut = report.dns.status === "timeout";
    const reason = dnsTimedOut ? "DNS lookups of it time out here" : "this machine cannot resolve it";
    return (
      proxyVerdict(proxyNote(reason)) ??
      no("dns", `workerd must reach ${host} directly; ${reason}${withoutProxy}.`, offlineFix)
    );
  }
  if (cause?.kind === "pyodide-connect" || (report.tcp && report.tcp.status !== "ok")) {
    const probed = report.tcp && report.tcp.status !== "ok" ? report.tcp.detail : cause?.summary;
    const how =
      report.tcp?.status === "timeout"
        ? `connections to it on port ${report.port} time out (workerd would hang)`
        : `it refuses connections on port ${report.port} (${probed})`;
    const reason = `this machine resolves it but ${how}`;
    return (
      proxyVerdict(proxyNote(reason)) ??
      no("connect", `workerd must reach ${host} directly; ${reason}${withoutProxy}.`, offlineFix)
    );
  }
  if (cause?.kind === "pyodide-tls" || (report.tls && report.tls.status !== "ok")) {
    const detail = report.tls && report.tls.status !== "ok" ? describe(report.tls) : (cause?.summary ?? "");
    return no(
      "tls",
      `The TLS handshake with ${host} fails with the system trust store (${detail}): something intercepts TLS.`,
      [
        "export NODE_EXTRA_CA_CERTS=/path/to/corporate-ca.pem   # certificates only, no key",
        `cfprobe diagnose-python ${input.targetLabel}`,
      ],
    );
  }
  if ((!cause || cause.kind === "unknown") && report.https && report.https.status !== "ok") {
    return no(
      report.https.httpStatus ? "http" : "https",
      `${host} answers ${describe(report.https)} for ${report.url}: workerd needs HTTP 200 there.`,
      ["npm ci   # reinstall the pinned wrangler and workerd", FETCH_FIX],
    );
  }
  if (cause?.kind === "pyodide-http" || cause?.kind === "pyodide-package") {
    return no(
      cause.kind === "pyodide-http" ? "http" : "package",
      `${cause.summary} This machine reaches ${host}; the file may not exist for this workerd version.`,
      ["npm ci   # reinstall the pinned wrangler and workerd", FETCH_FIX],
    );
  }
  if (input.trial.status === "skipped") {
    return {
      ok: true,
      verdict: {
        cause: "ok",
        summary: `This machine reaches ${host} directly (DNS, TCP, TLS and HTTPS); workerd should be able to download Pyodide.`,
        fix: [],
      },
    };
  }
  return no(
    input.trial.status === "timeout" ? "timeout" : "unknown",
    `${cause?.summary ?? "The worker did not start."} The probes found nothing wrong with ${host}.`,
    [`cfprobe dev ${input.targetLabel} --verbose   # shows wrangler's whole log`],
  );
}

function proxyVerdict(verdict: { cause: string; summary: string; fix: string[] } | undefined) {
  return verdict ? { ok: false, verdict } : undefined;
}

function blocked(report: HostReport): boolean {
  return [report.dns, report.tcp, report.tls, report.https].some((probe) => probe && probe.status !== "ok");
}

function describe(probe: ProbeResult): string {
  return probe.status === "timeout" ? `timed out: ${probe.detail}` : probe.detail;
}

function no(cause: string, summary: string, fix: string[]) {
  return { ok: false, verdict: { cause, summary, fix } };
}
