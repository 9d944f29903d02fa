/**
 * The one place that turns what wrangler and workerd printed into a cause a user can act on.
 * `cfprobe dev`, `cfprobe check` and `cfprobe diagnose-python` all report through it.
 */

export type FailureKind =
  | "pyodide-dns"
  | "pyodide-connect"
  | "pyodide-tls"
  | "pyodide-http"
  | "pyodide-bundle"
  | "pyodide-package"
  | "address-in-use"
  | "config"
  | "script-error"
  | "unknown";

export interface FailureCause {
  kind: FailureKind;
  /** One sentence: what went wrong. */
  summary: string;
  /** What to do next, ideally a command. */
  hint?: string;
  /** Host workerd tried to reach, for network failures. */
  host?: string;
  /** The log line the classification rests on. */
  evidence?: string;
}

const PYODIDE_HINT =
  "workerd downloads Pyodide when a Python worker starts and ignores HTTP proxies. Run `cfprobe diagnose-python` for the cause and the fix.";

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

interface Rule {
  test: RegExp;
  classify: (match: RegExpExecArray, line: string) => FailureCause;
}

const isPyodideHost = (host: string) => /edgeworker\.net|pyodide|python-package/i.test(host);

const RULES: Rule[] = [
  {
    test: /DNS lookup failed\.?;\s*params\.host = ([^;\s]+)(?:.*gai_strerror\(status\) = (.*))?/,
    classify: ([, host = "", reason], line) => ({
      kind: isPyodideHost(host) ? "pyodide-dns" : "unknown",
      summary: `workerd could not resolve ${host}${reason ? ` (${reason.trim()})` : ""}${
        isPyodideHost(host) ? ": it needs that host to download the Pyodide runtime" : ""
      }.`,
      hint: isPyodideHost(host) ? PYODIDE_HINT : undefined,
      host,
      evidence: line,
    }),
  },
  {
    test: /connect\(\)?[^;]*?(Connection refused|Connection timed out|Network is unreachable|No route to host|timed out)/i,
    classify: ([, reason = ""], line) => ({
      kind: "pyodide-connect",
      summary: `workerd could not connect to download the Pyodide runtime (${reason}).`,
      hint: PYODIDE_HINT,
      host: hostIn(line),
      evidence: line,
    }),
  },
  {
    test: /(TLS peer's certificate is not trusted|certificate verify failed|OpenSSL error|tls_process_server_certificate|invalid peer certificate[^;]*)/i,
    classify: ([, reason = ""], line) => ({
      kind: "pyodide-tls",
      summary: `workerd's TLS handshake failed (${reason}).`,
      hint: "Give workerd a CA bundle with NODE_EXTRA_CA_CERTS (certificates only), or run `cfprobe diagnose-python`.",
      host: hostIn(line),
      evidence: line,
    }),
  },
  {
    test: /Failed to download package[^;]*; path = ([^;\s]+)(?:; res\.statusCode = (\d{3}))?/,
    classify: ([, path = "", status], line) => ({
      kind: "pyodide-package",
      summary: `workerd could not download the Python standard-library package ${path.split("/").pop()}${
        status ? ` (HTTP ${status})` : ""
      }.`,
      hint: PYODIDE_HINT,
      host: hostIn(line),
      evidence: line,
    }),
  },
  {
    // workerd: KJ_ASSERT(res.statusCode == 200, "Request for Pyodide bundle failed", url)
    test: /\[(\d{3}) == 200\]; Request for Pyodide bundle failed|(?:Failed to (?:load|download|fetch)[^;]*(?:Pyodide|bundle)[^;]*?)(?:status(?:Code)?\s*[=:]?\s*(\d{3}))/i,
    classify: ([, assertStatus, status = assertStatus ?? "?"], line) => ({
      kind: "pyodide-http",
      summary: `The Pyodide bundle download answered HTTP ${status}.`,
      hint: PYODIDE_HINT,
      host: hostIn(line),
      evidence: line,
    }),
  },
  {
    // workerd parses the bundle as a Cap'n Proto message; an unreadable one fails in capnp with
    // "Message ends prematurely in segment table" or "Message did not contain a root pointer".
    test: /(integrity|checksum).*(pyodide|bundle)|(pyodide|bundle).*(integrity|checksum|capnp|invalid|corrupt)|capnp\/(?:serialize|message|arena)\.c\+\+.*(Message ends prematurely|Message did not contain a root pointer|Message is too large|segment)/i,
    classify: (_match, line) => ({
      kind: "pyodide-bundle",
      summary: "workerd could not use the Pyodide bundle (unreadable, or its integrity does not match).",
      hint: "Refill the cache with `cfprobe python fetch`, or run `cfprobe diagnose-python`.",
      evidence: line,
    }),
  },
  {
    test: /(python-package-bucket|Failed to (?:load|download) package)/i,
    classify: (_match, line) => ({
      kind: "pyodide-package",
      summary: "workerd could not download a Python standard-library package.",
      hint: PYODIDE_HINT,
      host: hostIn(line),
      evidence: line,
    }),
  },
  {
    test: /Address already in use(?:.*?(?:toString\(\) = |\()([\w.:[\]]+:\d+))?/i,
    classify: ([, address], line) => ({
      kind: "address-in-use",
      summary: `Another process took ${address ?? "a port the worker needs"} before the worker could listen on it.`,
      hint: "Choose another port with --port (0 picks a free one).",
      evidence: line,
    }),
  },
  {
    test: /Uncaught (\w*Error.*)|SyntaxError: (.*)/,
    classify: ([, error, syntax], line) => ({
      kind: "script-error",
      summary: `The worker's code threw while starting: ${(error ?? syntax ?? "").trim()}`,
      hint: "Fix the error in the worker's code; the log above shows where.",
      evidence: line,
    }),
  },
  {
    test: /✘ \[ERROR\] (.*)/,
    classify: ([, message = ""], line) => ({
      kind: "config",
      summary: `wrangler refused to start: ${message.trim()}`,
      evidence: line,
    }),
  },
];

/** Classifies a failed start from the lines wrangler and workerd printed; first match wins. */
export function classifyStartupFailure(lines: readonly string[]): FailureCause {
  const clean = lines.map(stripAnsi);
  for (const rule of RULES) {
    for (const line of clean) {
      const match = rule.test.exec(line);
      if (match) return rule.classify(match, line.trim());
    }
  }
  return {
    kind: "unknown",
    summary: "wrangler stopped before the worker answered; its log above says why.",
  };
}

function hostIn(line: string): string | undefined {
  return /params\.host = ([^;\s]+)/.exec(line)?.[1] ?? /https?:\/\/([^/\s:]+)/.exec(line)?.[1];
}
