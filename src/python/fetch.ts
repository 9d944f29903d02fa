/**
 * Downloads the files workerd needs through the user's proxy (workerd itself ignores proxies), with
 * retries, integrity checks and atomic writes.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Dispatcher, EnvHttpProxyAgent, request } from "undici";
import { CfprobeError, ExitCode } from "../errors.js";
import { displayProxy, proxyFor, readProxyEnv, redactText } from "../net/proxy-env.js";
import { isCheckableIntegrity, sriOfHash } from "./cache/integrity.js";
import { inspectCache, writeAtomically } from "./cache/store.js";
import type { PyodideFile } from "./files.js";

export interface FetchOptions {
  /** Environment with HTTP(S)_PROXY and NO_PROXY (either case). */
  env: NodeJS.ProcessEnv;
  /** Tries per file (network errors, 5xx, 408, 429). */
  attempts?: number;
  /** First pause between tries; doubled each time. */
  backoffMs?: number;
  /** Bound on waiting for response headers and between body chunks. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (file: PyodideFile, received: number, total: number | undefined) => void;
  onRetry?: (file: PyodideFile, attempt: number, reason: string) => void;
}

export interface FetchedFile {
  file: PyodideFile;
  path: string;
  bytes: number;
  integrity: string;
  verified: boolean;
}

/** An HTTP answer or a transport failure that another try may fix. */
class RetryableError extends Error {}

/** Downloads `file` to `destination` (atomically); throws a CfprobeError saying what failed. */
export async function downloadFile(
  file: PyodideFile,
  destination: string,
  dispatcher: Dispatcher,
  options: FetchOptions,
): Promise<FetchedFile> {
  const attempts = options.attempts ?? 3;
  let lastReason = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      options.onRetry?.(file, attempt, lastReason);
      await sleep((options.backoffMs ?? 1000) * 2 ** (attempt - 2), undefined, { signal: options.signal });
    }
    try {
      return await downloadOnce(file, destination, dispatcher, options);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      lastReason = error.message;
    }
  }
  const proxies = readProxyEnv(options.env);
  const proxy = proxyFor(new URL(file.url), proxies);
  const route = proxy ? ` through the proxy ${displayProxy(proxy)}` : " (directly, no proxy set)";
  throw new CfprobeError(
    "download-failed",
    `Could not download ${file.name}${route} after ${attempts} ${attempts === 1 ? "try" : "tries"}: ${redactText(lastReason, proxies.secrets)}.`,
    ExitCode.failed,
    {
      hint: "Check the proxy settings (HTTPS_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS) with `cfprobe diagnose-python`, or carry the files over with `cfprobe python fetch --out DIR` and `cfprobe python import`.",
      data: { url: file.url },
    },
  );
}

async function downloadOnce(
  file: PyodideFile,
  destination: string,
  dispatcher: Dispatcher,
  options: FetchOptions,
): Promise<FetchedFile> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(file.url, {
      dispatcher,
      method: "GET",
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw classifyTransportError(error, file, options.env);
  }
  if (response.statusCode !== 200) {
    await response.body.dump().catch(() => {});
    const status = response.statusCode;
    if (status >= 500 || status === 408 || status === 429) throw new RetryableError(`HTTP ${status}`);
    throw new CfprobeError("download-http-status", `${file.url} answered HTTP ${status}.`, ExitCode.failed, {
      hint:
        status === 404
          ? "The installed workerd asks for a file the server does not have; report it with `cfprobe --version`."
          : "Run `cfprobe diagnose-python` to see how the proxy and the host answer.",
      data: { url: file.url, status },
    });
  }

  const total = Number(response.headers["content-length"]) || undefined;
  const hash = createHash("sha256");
  let received = 0;
  const body = response.body;
  async function* measured() {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      received += chunk.length;
      options.onProgress?.(file, received, total);
      yield chunk;
    }
  }
  let integrity = "";
  try {
    await writeAtomically(destination, measured(), async () => {
      if (total !== undefined && received !== total) {
        throw new RetryableError(`connection closed after ${received} of ${total} bytes`);
      }
      integrity = sriOfHash(hash);
      if (isCheckableIntegrity(file.integrity) && integrity !== file.integrity) {
        throw new CfprobeError(
          "integrity-mismatch",
          `${file.name} does not match its integrity: expected ${file.integrity}, got ${integrity}. Nothing was written.`,
          ExitCode.failed,
          {
            hint: "Something between you and the host changed the file (a proxy that rewrites downloads?). Run `cfprobe diagnose-python`.",
            data: { url: file.url, expected: file.integrity, actual: integrity },
          },
        );
      }
    });
  } catch (error) {
    if (error instanceof CfprobeError || error instanceof RetryableError) throw error;
    if (options.signal?.aborted) throw options.signal.reason;
    throw classifyTransportError(error, file, options.env);
  }
  return {
    file,
    path: destination,
    bytes: received,
    integrity,
    verified: isCheckableIntegrity(file.integrity),
  };
}

/** Proxy refusals are final and explained; other transport failures are worth another try. */
function classifyTransportError(error: unknown, file: PyodideFile, env: NodeJS.ProcessEnv): Error {
  const message = describeError(error);
  const proxyStatus = /Proxy response \((\d{3})\)|Proxy Authentication Required \((\d{3})\)/.exec(message);
  if (proxyStatus) {
    const status = Number(proxyStatus[1] ?? proxyStatus[2]);
    const proxy = proxyFor(new URL(file.url), readProxyEnv(env));
    const shown = proxy ? displayProxy(proxy) : "in use";
    return new CfprobeError(
      status === 407 ? "proxy-auth-required" : "proxy-refused",
      status === 407
        ? `The proxy ${shown} requires authentication (HTTP 407) to reach ${new URL(file.url).host}.`
        : `The proxy ${shown} refused the tunnel to ${new URL(file.url).host} (HTTP ${status}).`,
      ExitCode.failed,
      {
        hint:
          status === 407
            ? "Put the proxy's user and password in the URL: HTTPS_PROXY=http://USER:PASSWORD@proxy:port (or use the proxy's own login tool), then run `cfprobe python fetch` again."
            : "Ask for the host to be allowed through the proxy, or carry the files over with `cfprobe python fetch --out DIR` elsewhere and `cfprobe python import`.",
        data: { url: file.url, proxyStatus: status },
      },
    );
  }
  return new RetryableError(redactText(message, readProxyEnv(env).secrets));
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const { message, code } = current as { message?: string; code?: string };
    if (message) parts.push(code && !message.includes(code) ? `${message} (${code})` : message);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(": ") || String(error);
}

/** The dispatcher for downloads: HTTP(S)_PROXY and NO_PROXY from `env`, system CAs + NODE_EXTRA_CA_CERTS. */
export function downloadDispatcher(env: NodeJS.ProcessEnv): Dispatcher {
  const proxies = readProxyEnv(env);
  return new EnvHttpProxyAgent({
    httpProxy: proxies.http?.href ?? "",
    httpsProxy: proxies.https?.href ?? "",
    noProxy: proxies.noProxy.join(","),
  });
}

export interface FetchReportEntry {
  name: string;
  url: string;
  path: string;
  status: "downloaded" | "cached";
  bytes: number;
  integrity?: string;
  /** The content was checked against an integrity value from workerd. */
  verified: boolean;
}

/**
 * Fetches what is missing: into the cache at `root` (files already there and valid are kept), or
 * flat into `outDir` to carry to another machine. One file at a time, so progress reads simply.
 */
export async function fetchFiles(
  files: PyodideFile[],
  target: { root: string } | { outDir: string },
  options: FetchOptions,
): Promise<FetchReportEntry[]> {
  const present =
    "root" in target
      ? await inspectCache(target.root, files)
      : files.map((file) => ({
          ...file,
          path: path.join(target.outDir, file.name),
          state: "missing" as const,
        }));
  const dispatcher = downloadDispatcher(options.env);
  const report: FetchReportEntry[] = [];
  try {
    for (const entry of present) {
      const { path: destination, state, ...file } = entry;
      if (state === "valid") {
        report.push({
          name: file.name,
          url: file.url,
          path: destination,
          status: "cached",
          bytes: entry.size ?? 0,
          integrity: file.integrity,
          verified: true,
        });
        continue;
      }
      const fetched = await downloadFile(file, destination, dispatcher, options);
      report.push({
        name: file.name,
        url: file.url,
        path: destination,
        status: "downloaded",
        bytes: fetched.bytes,
        integrity: fetched.integrity,
        verified: fetched.verified,
      });
    }
    return report;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    await dispatcher.close().catch(() => {});
  }
}
