import type { ProbeResult } from "../../net/probes.js";
import type { FailureCause } from "../../wrangler/classify.js";
import type { PyodideFile, RequiredPyodideFiles } from "../files.js";

export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** One finding. Results are data: the human report and --json render the same values. */
export interface Check {
  id: string;
  /** The heading it is shown under, e.g. "Worker config" or "Network: <host>". */
  group: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it, ideally a command. */
  hint?: string;
  /** Set when the probe behind this check ran out of time. */
  timedOut?: boolean;
  durationMs?: number;
}

/** A file workerd downloads when a Python worker starts (derived in src/python/files.ts). */
export type RequiredFile = PyodideFile;

export type RequiredFiles = Pick<RequiredPyodideFiles, "workerdVersion" | "pyodideVersion" | "files">;

/** What the network probes found for one host workerd must reach. */
export interface HostReport {
  host: string;
  /** 443 unless the URLs name another port (a mirror). */
  port: number;
  /** The URL the HTTPS probes request (the bundle's, when the host serves it). */
  url: string;
  dns: ProbeResult;
  tcp?: ProbeResult;
  tls?: ProbeResult;
  /** HEAD of one of its URLs, directly, once TLS works: the HTTP answer workerd would get. */
  https?: ProbeResult;
  /** HEAD of one of its URLs through the proxy, when a proxy applies to it. */
  viaProxy?: ProbeResult & { proxy: string };
}

export type TrialOutcome =
  | { status: "skipped"; reason?: string }
  | { status: "started"; durationMs: number }
  | { status: "failed" | "timeout"; durationMs: number; cause: FailureCause; logTail: string[] };

export interface Verdict {
  /** Stable id: ok, config, ca-key, dns, connect, tls, http, bundle, package, workerd-ignores-proxy, proxy-failed, ... */
  cause: string;
  /** One sentence a user can act on. */
  summary: string;
  /** The commands (or steps) that fix it, in order. */
  fix: string[];
}

export interface Diagnosis {
  ok: boolean;
  verdict: Verdict;
  checks: Check[];
  target: { label: string; config: string };
  workerdVersion?: string;
  pyodideVersion?: string;
  urls: RequiredFile[];
  /** Probes that ran out of time, e.g. "tcp pyodide-capnp-bin.edgeworker.net:443". */
  timedOut: string[];
  durationMs: number;
}
