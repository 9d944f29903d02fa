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
