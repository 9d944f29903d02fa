import { lookup } from "node:dns/promises";
import net from "node:net";
import tls from "node:tls";
import { Agent, type Dispatcher, ProxyAgent, request } from "undici";

/**
 * One network probe's outcome. `timeout` is separate from `fail`: a hang says "something drops the
 * packets" (a firewall), which is a different fix from a refusal.
 */
export interface ProbeResult {
  status: "ok" | "fail" | "timeout";
  /** One line: what was found, e.g. "104.18.2.3, 104.18.3.3" or "ECONNREFUSED". */
  detail: string;
  durationMs: number;
  /** errno or cfprobe's own code, e.g. ENOTFOUND, ECONNREFUSED, proxy-status. */
  code?: string;
  /** HTTP status of the answer (or of the proxy's answer to CONNECT when it refused). */
  httpStatus?: number;
}

export interface ProbeOptions {
  timeoutMs: number;
  /** Aborts the probe early (the command's overall deadline). */
  signal?: AbortSignal;
}

export interface TlsOptions extends ProbeOptions {
  /** Trusted roots; default Node's bundled store. */
  ca?: string[];
}

/** getaddrinfo, as workerd uses: every address of the host. */
export function resolveHost(host: string, options: ProbeOptions): Promise<ProbeResult> {
  return bounded(options, async () => {
    const addresses = await lookup(host, { all: true });
    return { status: "ok", detail: addresses.map((entry) => entry.address).join(", ") };
  });
}

/** A plain TCP connection, closed as soon as it is made. */
export function connectTcp(host: string, port: number, options: ProbeOptions): Promise<ProbeResult> {
  return bounded(options, (signal) =>
    withSocket(signal, net.connect({ host, port }), "connect", (socket) => ({
      status: "ok",
      detail: `connected to ${socket.remoteAddress}:${socket.remotePort}`,
    })),
  );
}

/** A TLS handshake with certificate and host name verification, closed once it succeeds. */
export function tlsHandshake(host: string, port: number, options: TlsOptions): Promise<ProbeResult> {
  return bounded(options, (signal) =>
    withSocket(
      signal,
      tls.connect({
        host,
        port,
        ca: options.ca,
        ALPNProtocols: ["http/1.1"],
        ...(net.isIP(host) ? {} : { servername: host }),
      }),
      "secureConnect",
      (socket) => ({
        status: "ok",
        detail: `${socket.getProtocol() ?? "TLS"}, certificate for ${subjectOf(socket)} trusted`,
      }),
    ),
  );
}

/**
 * HEAD `url` through an HTTP proxy with CONNECT, as undici (and so wrangler) would fetch it. A
 * proxy that refuses the tunnel is reported with its status (407: credentials missing or wrong).
 */
export function headThroughProxy(url: string, proxy: URL, options: TlsOptions): Promise<ProbeResult> {
  return bounded(options, (signal) => {
    const agent = new ProxyAgent({
      uri: proxy.href,
      requestTls: { ca: options.ca, servername: new URL(url).hostname },
      proxyTls: { ca: options.ca },
    });
    return head(url, agent, signal);
  });
}

/** HEAD `url` directly, with certificate verification against `ca`: the HTTP answer workerd would get. */
export function headDirect(url: string, options: TlsOptions): Promise<ProbeResult> {
  return bounded(options, (signal) => head(url, new Agent({ connect: { ca: options.ca } }), signal));
}

async function head(url: string, dispatcher: Dispatcher, signal: AbortSignal) {
  try {
    const response = await request(url, { method: "HEAD", dispatcher, signal });
    await response.body.dump();
    const ok = response.statusCode === 200;
    return {
      status: ok ? ("ok" as const) : ("fail" as const),
      detail: `HTTP ${response.statusCode}`,
      httpStatus: response.statusCode,
      ...(ok ? {} : { code: "http-status" }),
    };
  } finally {
    void dispatcher.destroy().catch(() => {});
  }
}

/**
 * Runs a probe with its own deadline and the caller's signal; never rejects. A timeout or an
 * abort becomes status `timeout`, anything thrown becomes `fail` with the error's code.
 */
async function bounded(
  options: ProbeOptions,
  probe: (signal: AbortSignal) => Promise<Omit<ProbeResult, "durationMs">>,
): Promise<ProbeResult> {
  const started = Date.now();
  const timer = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
  const timedOut = (): ProbeResult => ({
    status: "timeout",
    detail: `no answer within ${formatSeconds(Date.now() - started)}`,
    durationMs: Date.now() - started,
    code: "timeout",
  });
  if (signal.aborted) return timedOut();
  // getaddrinfo cannot be cancelled: the race makes the probe return on time even so.
  const abortedPromise = new Promise<ProbeResult>((resolve) =>
    signal.addEventListener("abort", () => resolve(timedOut()), { once: true }),
  );
  const work = probe(signal).then(
    (result): ProbeResult => ({ ...result, durationMs: Date.now() - started }),
    (error: unknown): ProbeResult => (signal.aborted ? timedOut() : failure(error, started)),
  );
  return Promise.race([work, abortedPromise]);
}

function failure(error: unknown, started: number): ProbeResult {
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const proxyStatus = /Proxy response \((\d{3})\)/.exec(err.message ?? "")?.[1];
  if (proxyStatus) {
    return {
      status: "fail",
      detail: `the proxy answered CONNECT with HTTP ${proxyStatus}${proxyStatus === "407" ? " (Proxy Authentication Required)" : ""}`,
      durationMs: Date.now() - started,
      code: "proxy-status",
      httpStatus: Number(proxyStatus),
    };
  }
  const code = err.code ?? err.cause?.code;
  const message = (err.cause?.message ?? err.message ?? String(error)).replace(/\s+/g, " ").trim();
  return {
    status: "fail",
    detail: code && !message.includes(code) ? `${code}: ${message}` : message,
    durationMs: Date.now() - started,
    code,
  };
}

/** Resolves on `readyEvent`, rejects on error or abort; the socket is always destroyed. */
function withSocket<S extends net.Socket>(
  signal: AbortSignal,
  socket: S,
  readyEvent: "connect" | "secureConnect",
  describe: (socket: S) => Omit<ProbeResult, "durationMs">,
): Promise<Omit<ProbeResult, "durationMs">> {
  return new Promise<Omit<ProbeResult, "durationMs">>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once(readyEvent, () => resolve(describe(socket)));
    socket.once("error", reject);
  }).finally(() => {
    socket.destroy();
  });
}

function subjectOf(socket: tls.TLSSocket): string {
  const subject = socket.getPeerCertificate()?.subject as { CN?: string | string[] } | undefined;
  const name = subject?.CN;
  return (Array.isArray(name) ? name[0] : name) || socket.servername || "the host";
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
