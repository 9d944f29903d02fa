/** Proxy settings as curl and undici read them, and redaction of their credentials. */

export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  /** The proxy a request to `url` goes through, if any (NO_PROXY honoured). */
  forUrl(url: string): string | undefined;
}

/** Lower case wins over upper case, as in curl and undici. */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
  const httpProxy = pick("http_proxy");
  const httpsProxy = pick("https_proxy") ?? httpProxy;
  const noProxy = pick("no_proxy");
  return {
    httpProxy,
    httpsProxy,
    noProxy,
    forUrl(url) {
      const target = new URL(url);
      if (bypassesProxy(target, noProxy)) return undefined;
      return target.protocol === "https:" ? httpsProxy : httpProxy;
    },
  };
}

function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = target.hostname.toLowerCase();
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === "*") return true;
      const [name = "", port] = entry.toLowerCase().split(":");
      if (port && port !== (target.port || (target.protocol === "https:" ? "443" : "80"))) return false;
      const bare = name.replace(/^\*?\./, "");
      return host === bare || host.endsWith(`.${bare}`);
    });
}

/** A proxy URL with its user and password replaced by "***". */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1***@");
}

/** Removes proxy credentials from any text, whether or not they appear inside a URL. */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv): string {
  let result = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+(?::[^/@\s]*)?@/gi, "$1***@");
  for (const name of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]) {
    const value = env[name];
    if (!value) continue;
    try {
      const { username, password } = new URL(value);
      for (const secret of [password, username, decodeURIComponent(password), decodeURIComponent(username)]) {
        if (secret.length >= 3) result = result.split(secret).join("***");
      }
    } catch {
      // Not a URL: nothing to find.
    }
  }
  return result;
}
