/**
 * The proxy settings a Node program sees, read the way undici's EnvHttpProxyAgent (and so
 * wrangler) reads them: lower-case names first, HTTPS falls back to HTTP, NO_PROXY by host suffix.
 */

export interface ProxyVariable {
  /** The variable as set, e.g. "https_proxy". */
  name: string;
  /** Its value with any user:password replaced by `***`. */
  redacted: string;
}

export interface ProxyEnv {
  /** Proxy for http:// URLs. */
  http?: URL;
  /** Proxy for https:// URLs (HTTPS_PROXY, else HTTP_PROXY). */
  https?: URL;
  /** NO_PROXY entries, lower-cased. */
  noProxy: string[];
  /** Every proxy variable that is set, redacted, for reports. */
  variables: ProxyVariable[];
  /** Values that must never be printed (passwords, user names, whole URLs with them). */
  secrets: string[];
  /** Variables whose value is not a usable proxy URL. */
  invalid: ProxyVariable[];
}

const NAMES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"] as const;

export function readProxyEnv(env: NodeJS.ProcessEnv): ProxyEnv {
  const variables: ProxyVariable[] = [];
  const invalid: ProxyVariable[] = [];
  const secrets = new Set<string>();
  for (const name of NAMES) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    for (const secret of secretsIn(value)) secrets.add(secret);
    variables.push({ name, redacted: redactCredentials(value) });
  }
  const parse = (name: string, value: string | undefined): URL | undefined => {
    if (value === undefined || value === "") return undefined;
    const url = parseProxyUrl(value);
    if (!url) invalid.push({ name, redacted: redactCredentials(value) });
    return url;
  };
  const httpName = env.http_proxy ? "http_proxy" : "HTTP_PROXY";
  const httpsName = env.https_proxy ? "https_proxy" : "HTTPS_PROXY";
  const http = parse(httpName, env.http_proxy || env.HTTP_PROXY);
  const https = parse(httpsName, env.https_proxy || env.HTTPS_PROXY) ?? http;
  const noProxy = (env.no_proxy || env.NO_PROXY || "")
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  return { http, https, noProxy, variables, secrets: [...secrets], invalid };
}

/** The proxy a request to `target` goes through, or undefined when it goes direct. */
export function proxyFor(target: URL, proxies: ProxyEnv): URL | undefined {
  if (bypassesProxy(target, proxies.noProxy)) return undefined;
  return target.protocol === "https:" ? proxies.https : proxies.http;
}

/**
 * NO_PROXY as curl and undici read it: `*` matches all; `example.com`, `.example.com` and
 * `*.example.com` match the host and its subdomains; `host:port` only that port.
 */
export function bypassesProxy(target: URL, noProxy: readonly string[]): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  return noProxy.some((entry) => {
    if (entry === "*") return true;
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\]$/g, ""));
    const [, rawHost = "", entryPort] = match ?? [];
    if (entryPort && entryPort !== port) return false;
    const suffix = rawHost.replace(/^\*?\./, "");
    return host === suffix || host.endsWith(`.${suffix}`);
  });
}

/**
 * `http://user:pass@proxy:3128` -> `http://***@proxy:3128`. Leaves text without credentials alone,
 * and placeholders such as `http://<user>:<password>@host` in hints.
 */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s<>]+@/gi, "$1***@");
}

/** Replaces every secret (and URL credentials) in `text`, for anything cfprobe prints. */
export function redactText(text: string, secrets: readonly string[]): string {
  let result = redactCredentials(text);
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) result = result.split(secret).join("***");
  }
  return result;
}

/** A proxy URL for display: credentials replaced, no trailing slash. */
export function displayProxy(url: URL): string {
  return redactCredentials(url.href).replace(/\/$/, "");
}

function parseProxyUrl(value: string): URL | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  try {
    const url = new URL(withScheme);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The secret parts of a proxy value, raw and percent-decoded: the whole user-info and the password
 * (a user name alone may be a token, so it counts when there is no password).
 */
function secretsIn(value: string): string[] {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]+)@/i.exec(value)?.[1] ?? /^([^/@\s]+)@/.exec(value)?.[1];
  if (!userinfo) return [];
  const colon = userinfo.indexOf(":");
  const parts = [userinfo, ...(colon >= 0 ? [userinfo.slice(colon + 1)] : [])].filter(Boolean);
  const decoded = parts.map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return [...new Set([...parts, ...decoded])];
}
