import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../src/project/target.js";
import { classifyStartupFailure } from "../src/wrangler/classify.js";

const recorded = (name: string) =>
  readFileSync(path.join(PACKAGE_ROOT, "fixtures", "logs", name), "utf8").split("\n");

describe("classifyStartupFailure", () => {
  it("recognises the real offline Python start (recorded from wrangler 4.86 here)", () => {
    const cause = classifyStartupFailure(recorded("py-offline-dns.log"));
    expect(cause.kind).toBe("pyodide-dns");
    expect(cause.host).toBe("pyodide-capnp-bin.edgeworker.net");
    expect(cause.summary).toContain("Name or service not known");
    expect(cause.hint).toContain("cfprobe diagnose-python");
  });

  it("recognises a refused or timed-out connect to the Pyodide host", () => {
    const cause = classifyStartupFailure([
      "*** Fatal uncaught kj::Exception: kj/async-io-unix.c++:1000: failed: connect(): Connection timed out; params.host = pyodide-capnp-bin.edgeworker.net",
    ]);
    expect(cause).toMatchObject({ kind: "pyodide-connect", host: "pyodide-capnp-bin.edgeworker.net" });
  });

  it("recognises a port taken between the check and the listen", () => {
    expect(classifyStartupFailure(["Address already in use; fd = 12"]).kind).toBe("address-in-use");
    const inspector = classifyStartupFailure([
      "*** Fatal uncaught kj::Exception: kj/async-io-unix.c++:945: failed: ::bind(sockfd, &addr.generic, addrlen): Address already in use; toString() = 127.0.0.1:9231",
    ]);
    expect(inspector.summary).toContain("took 127.0.0.1:9231");
  });

  it("recognises wrangler's own refusal and a script error", () => {
    expect(classifyStartupFailure(["✘ [ERROR] Missing entry-point to Worker script"]).kind).toBe("config");
    expect(classifyStartupFailure(["Uncaught ReferenceError: x is not defined"]).kind).toBe("script-error");
  });

  it("says so when nothing matches", () => {
    expect(classifyStartupFailure(["something else"]).kind).toBe("unknown");
  });
});

describe("classifyStartupFailure, constructed from workerd's own messages", () => {
  const HOST = "pyodide-capnp-bin.edgeworker.net";
  const fatal = (text: string) => [
    "⎔ Starting local server...",
    `*** Fatal uncaught kj::Exception: ${text}`,
    "stack: /x/workerd@51f50be",
    "✘ [ERROR] The Workers runtime failed to start. There is likely additional logging output above.",
  ];

  it("a refused connect", () => {
    const cause = classifyStartupFailure(
      fatal("kj/async-io-unix.c++:945: disconnected: connect(): Connection refused"),
    );
    expect(cause.kind).toBe("pyodide-connect");
    expect(cause.summary).toContain("Connection refused");
  });

  it("a TLS failure, from OpenSSL and from rustls", () => {
    const openssl = classifyStartupFailure(
      fatal(
        "kj/compat/tls.c++:92: failed: OpenSSL error; message = error:0A000086:SSL routines::certificate verify failed",
      ),
    );
    expect(openssl.kind).toBe("pyodide-tls");
    const rustls = classifyStartupFailure(
      fatal("workerd/server/tls-network-rustls.c++:80: failed: invalid peer certificate: UnknownIssuer"),
    );
    expect(rustls).toMatchObject({ kind: "pyodide-tls" });
    expect(rustls.summary).toContain("UnknownIssuer");
  });

  it("an HTTP 404 for the bundle (workerd's KJ_ASSERT on the status)", () => {
    const cause = classifyStartupFailure(
      fatal(
        `workerd/server/pyodide.c++:80: failed: expected res.statusCode == 200 [404 == 200]; Request for Pyodide bundle failed; url = https://${HOST}/pyodide_0.28.2_2025-01-16_9.capnp.bin`,
      ),
    );
    expect(cause).toMatchObject({ kind: "pyodide-http", host: HOST });
    expect(cause.summary).toContain("HTTP 404");
  });

  it("an unreadable bundle and one whose integrity does not match", () => {
    expect(
      classifyStartupFailure(
        fatal("capnp/serialize.c++:51: failed: Message ends prematurely in first segment."),
      ).kind,
    ).toBe("pyodide-bundle");
    expect(
      classifyStartupFailure(
        fatal(
          "workerd/api/pyodide/pyodide.c++:400: failed: Pyodide bundle integrity check failed: the bundle does not match the expected checksum.; version = 0.28.2_2025-01-16_9",
        ),
      ).kind,
    ).toBe("pyodide-bundle");
  });

  it("a package download that answered 404, with the file named", () => {
    const cause = classifyStartupFailure([
      "workerd/server/pyodide.c++:150: warning: Failed to download package; path = python-package-bucket/20250808/ssl-1.0.0-cp313-cp313-pyodide_2025_0_wasm32.tar.gz; res.statusCode = 404; attempt; retryCount + 1 = 3; of; retryLimit = 3",
      "✘ [ERROR] The Workers runtime failed to start.",
    ]);
    expect(cause.kind).toBe("pyodide-package");
    expect(cause.summary).toContain("ssl-1.0.0-cp313-cp313-pyodide_2025_0_wasm32.tar.gz (HTTP 404)");
  });

  it("a package download that failed on the network is classified by its network cause", () => {
    const cause = classifyStartupFailure([
      `workerd/server/pyodide.c++:160: warning: Failed to download package after all retry attempts; path = python-package-bucket/20250808/lzma.tar.gz; e = kj/async-io-unix.c++:945: overloaded: connect(): Connection timed out; attempts; retryLimit = 3`,
    ]);
    expect(cause.kind).toBe("pyodide-connect");
    expect(cause.summary).toContain("Connection timed out");
  });
});
