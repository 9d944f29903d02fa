import { describe, expect, it } from "vitest";
import { proxySettings, redactSecrets, redactUrl } from "../src/python/proxy.js";

describe("proxySettings", () => {
  it("prefers lower case, falls back from HTTPS to HTTP proxy, and honours NO_PROXY", () => {
    const settings = proxySettings({
      HTTPS_PROXY: "http://upper:3128",
      https_proxy: "http://lower:3128",
      NO_PROXY: "localhost, .internal.example,10.0.0.1:8443",
    });
    expect(settings.forUrl("https://pyodide-capnp-bin.edgeworker.net/x")).toBe("http://lower:3128");
    expect(settings.forUrl("https://a.internal.example/x")).toBeUndefined();
    expect(settings.forUrl("https://internal.example/x")).toBeUndefined();
    expect(settings.forUrl("https://10.0.0.1:8443/x")).toBeUndefined();
    expect(settings.forUrl("https://10.0.0.1/x")).toBe("http://lower:3128");
    expect(proxySettings({ HTTP_PROXY: "http://p:1" }).forUrl("https://h/")).toBe("http://p:1");
    expect(proxySettings({ HTTPS_PROXY: "http://p:1", NO_PROXY: "*" }).forUrl("https://h/")).toBeUndefined();
    expect(proxySettings({}).forUrl("https://h/")).toBeUndefined();
  });
});

describe("redaction", () => {
  it("hides user and password in URLs and anywhere else they appear", () => {
    expect(redactUrl("http://bob:s3cr%40t@proxy:3128")).toBe("http://***@proxy:3128");
    expect(redactUrl("http://proxy:3128")).toBe("http://proxy:3128");
    const env = { HTTPS_PROXY: "http://bob:s3cr%40t@proxy:3128" };
    const text = redactSecrets("tunnel via http://bob:s3cr%40t@proxy:3128 failed for bob (s3cr@t)", env);
    expect(text).not.toMatch(/bob|s3cr/);
    expect(text).toContain("http://***@proxy:3128");
  });
});
