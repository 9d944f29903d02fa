import { createHash, createHmac } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import {
  groupMembers,
  http,
  portIsFree,
  processesMentioning,
  type ReadyLine,
  runCli,
  startDev,
  withCleanups,
} from "./helpers.js";

const { defer, tempDir } = withCleanups();

async function expectNothingLeft(ready: ReadyLine) {
  expect(groupMembers(ready.pid)).toEqual([]);
  expect(processesMentioning(ready.persistTo)).toEqual([]);
  expect(await portIsFree(ready.port)).toBe(true);
}

async function counter(url: string) {
  const response = await http(`${url}/counter`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  return (JSON.parse(response.body) as { page: string; count: number }).count;
}

/** The D1 file name wrangler uses (FACTS.md): workerd's idFromName in miniflare-D1DatabaseObject. */
function d1FileName(name: string) {
  const key = createHash("sha256").update("miniflare-D1DatabaseObject").digest();
  const a = createHmac("sha256", key).update(name).digest().subarray(0, 16);
  const b = createHmac("sha256", key).update(a).digest().subarray(0, 16);
  return `${Buffer.concat([a, b]).toString("hex")}.sqlite`;
}

const PY_DATABASE_ID = "00000000-0000-0000-0000-0000000c0ded";

describe("cfprobe dev py --runtime pyodide", () => {
  it("serves every route of the contract, keeps the count across a restart, in wrangler's D1 file", async () => {
    const persist = tempDir("pystate");
    const first = await startDev(
      ["py", "--runtime", "pyodide", "--port", "0", "--persist-to", persist],
      defer,
      90_000,
    );
    const { ready } = first;
    expect(ready).toMatchObject({ target: "py", runtime: "pyodide", persistTo: persist });
    expect(groupMembers(ready.pid).length).toBeGreaterThanOrEqual(2);

    for (const route of ["/", "/hello"]) {
      const hello = await http(`${ready.url}${route}`);
      expect(hello.status).toBe(200);
      expect(hello.body).toBe("Hello from the Python worker!\n");
      expect(hello.headers.get("content-type")).toMatch(/^text\/plain; charset=utf-8/);
    }
    const form = await http(`${ready.url}/form`);
    expect(form.status).toBe(200);
    expect(form.headers.get("content-type")).toMatch(/^text\/html/);
    expect(form.body).toContain('<form method="post" action="/form">');

    const urlencoded = { "content-type": "application/x-www-form-urlencoded" };
    const posted = await http(`${ready.url}/form`, {
      method: "POST",
      headers: urlencoded,
      body: "name=Ada+%3Cb%3E&message=It%27s+%22fine%22+%26+more",
    });
    expect(posted.status).toBe(200);
    expect(posted.body).toContain('<span id="name">Ada &lt;b&gt;</span>');
    expect(posted.body).toContain('<span id="message">It&#39;s &quot;fine&quot; &amp; more</span>');
    const missing = await http(`${ready.url}/form`, {
      method: "POST",
      headers: urlencoded,
      body: "name=&message=hi",
    });
    expect([missing.status, missing.body]).toEqual([400, "Missing field: name\n"]);
    const both = await http(`${ready.url}/form`, { method: "POST", headers: urlencoded, body: "name=+" });
    expect([both.status, both.body]).toEqual([400, "Missing field: name, message\n"]);
    const json = await http(`${ready.url}/form`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
    const wrongMethod = await http(`${ready.url}/counter`, { method: "DELETE" });
    expect([wrongMethod.status, wrongMethod.body]).toEqual([
      405,
      "Method DELETE is not allowed on /counter.\n",
    ]);
    const missingPage = await http(`${ready.url}/nope/deeper?x=1`);
    expect([missingPage.status, missingPage.body]).toEqual([404, "Not found: /nope/deeper\n"]);

    expect(await counter(ready.url)).toBe(1);
    expect(await counter(ready.url)).toBe(2);

    first.cli.child.kill("SIGINT");
    expect(await first.cli.exit()).toBe(130);
    await expectNothingLeft(ready);

    const second = await startDev(
      ["py", "--runtime", "pyodide", "--port", "0", "--persist-to", persist],
      defer,
      90_000,
    );
    expect(await counter(second.ready.url)).toBe(3);
    second.cli.child.kill("SIGTERM");
    expect(await second.cli.exit()).toBe(143);
    await expectNothingLeft(second.ready);

    const folder = path.join(persist, "v3", "d1", "miniflare-D1DatabaseObject");
    const file = path.join(folder, d1FileName(PY_DATABASE_ID));
    expect(existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare("SELECT count FROM page_views WHERE page = 'counter'").get() as {
        count: number;
      };
      expect(row.count).toBe(3);
    } finally {
      db.close();
    }
    expect(readdirSync(folder).filter((name) => name.endsWith(".sqlite"))).toContain(
      d1FileName(PY_DATABASE_ID),
    );
  });

  it("stops the Pyodide runtime and Miniflare's workerd when the runtime crashes, and exits 4", async () => {
    const persist = tempDir("pycrash");
    const { cli, ready } = await startDev(
      ["py", "--runtime", "pyodide", "--port", "0", "--persist-to", persist],
      defer,
      90_000,
    );
    expect(await counter(ready.url)).toBe(1);
    const members = groupMembers(ready.pid);
    expect(members.length).toBeGreaterThanOrEqual(2);
    process.kill(ready.pid, "SIGKILL");
    expect(await cli.exit()).toBe(4);
    expect(cli.stdoutLines.at(-1)).toContain('"code":"worker-crashed"');
    await expectNothingLeft(ready);
  });

  it("ends the runtime by itself when cfprobe is killed with SIGKILL", async () => {
    const persist = tempDir("pykill");
    const { cli, ready } = await startDev(
      ["py", "--runtime", "pyodide", "--port", "0", "--persist-to", persist],
      defer,
      90_000,
    );
    expect(groupMembers(ready.pid).length).toBeGreaterThanOrEqual(2);
    cli.child.kill("SIGKILL");
    await cli.exit();
    const deadline = Date.now() + 15_000;
    while (groupMembers(ready.pid).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await expectNothingLeft(ready);
  });

  it("falls back from workerd to Pyodide with --runtime auto when workerd cannot fetch Pyodide", async () => {
    const persist = tempDir("pyauto");
    const { cli, ready } = await startDev(
      ["py", "--runtime", "auto", "--port", "0", "--persist-to", persist],
      defer,
      90_000,
    );
    expect(ready.runtime).toBe("pyodide");
    expect(cli.stderr()).toMatch(
      /py: workerd could not start it \(.*pyodide.*\); running it on Pyodide in Node instead/i,
    );
    expect((await http(`${ready.url}/`)).body).toBe("Hello from the Python worker!\n");
    cli.child.kill("SIGINT");
    expect(await cli.exit()).toBe(130);
    await expectNothingLeft(ready);
  });

  it("keeps JavaScript workers on workerd", async () => {
    const persist = tempDir("jsstate");
    const { cli, ready } = await startDev(
      ["js", "--runtime", "pyodide", "--port", "0", "--persist-to", persist],
      defer,
      90_000,
    );
    expect(ready.runtime).toBe("workerd");
    expect((await http(`${ready.url}/`)).body).toBe("Hello from the JavaScript worker!\n");
    cli.child.kill("SIGINT");
    expect(await cli.exit()).toBe(130);
    await expectNothingLeft(ready);
  });
});

/** A small Python worker project, written for one test. */
function pythonWorker(files: Record<string, string>, toml = "") {
  const dir = tempDir("pyw");
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    `name = "t"\nmain = "src/entry.py"\ncompatibility_date = "2025-09-29"\ncompatibility_flags = ["python_workers"]\n${toml}`,
  );
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const PLAIN_WORKER = `
import asyncio
import json

import asgi
from workers import Response, WorkerEntrypoint
from vendored_helper import shout


async def streaming_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 201, "headers": [(b"x-kind", b"stream")]})
    for part in (b"one ", b"two ", b"three"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


release = None


async def held_app(scope, receive, send):
    # Sends one chunk, then waits until /release is requested: the first chunk must reach the
    # client before the app finishes, or this response never completes.
    global release
    if scope["type"] != "http":
        return
    release = asyncio.Event()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"first;", "more_body": True})
    await release.wait()
    await send({"type": "http.response.body", "body": b"second", "more_body": False})


async def scope_app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = (await receive())["body"]
    headers = dict(scope["headers"])
    import workers

    answer = {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "header": headers[b"x-probe"].decode(),
        "body": body.decode(),
        "env": scope["env"].GREETING,
        "module_env": workers.env.GREETING,
    }
    payload = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": 207, "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
    await send({"type": "http.response.body", "body": payload})


async def later():
    print("background work done")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path == "later":
            self.ctx.waitUntil(later())
            return Response("queued")
        if path == "vars":
            print("vars were read")
            return Response.json({"greeting": self.env.GREETING, "kind": type(self.env.GREETING).__name__})
        if path == "stream":
            return await asgi.fetch(streaming_app, request, self.env)
        if path.startswith("scope"):
            return await asgi.fetch(scope_app, request, self.env)
        if path == "held":
            return await asgi.fetch(held_app, request, self.env, self.ctx)
        if path == "release":
            release.set()
            return Response("released")
        if path == "echo":
            body = await request.text()
            return Response(shout(body), status=202, headers={"x-method": str(request.method)})
        if path == "tls":
            import ssl
            ssl.create_default_context()
        raise ValueError("boom from the worker")
`;

describe("the Pyodide runtime's Python API", () => {
  it("passes the ASGI scope, gives vars as strings, streams bodies, loads python_modules, turns exceptions into 500", async () => {
    const dir = pythonWorker(
      {
        "src/entry.py": PLAIN_WORKER,
        "python_modules/vendored_helper.py": "def shout(text):\n    return text.upper()\n",
      },
      '[vars]\nGREETING = "hi"\n',
    );
    for (const verbose of [false, true]) {
      const { cli, ready } = await startDev(
        [dir, "--runtime", "pyodide", "--port", "0", ...(verbose ? ["--verbose"] : [])],
        defer,
        90_000,
      );
      const vars = await http(`${ready.url}/vars`);
      expect([vars.status, JSON.parse(vars.body)]).toEqual([200, { greeting: "hi", kind: "str" }]);
      const stream = await http(`${ready.url}/stream`);
      expect([stream.status, stream.body, stream.headers.get("x-kind")]).toEqual([
        201,
        "one two three",
        "stream",
      ]);
      const scope = await fetch(`${ready.url}/scope/%C3%A9t%C3%A9?a=1&b=two`, {
        method: "PATCH",
        headers: { "x-probe": "yes" },
        body: "payload",
        signal: AbortSignal.timeout(15_000),
      });
      expect(scope.status).toBe(207);
      expect(scope.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      expect(await scope.json()).toEqual({
        method: "PATCH",
        path: "/scope/été",
        query: "a=1&b=two",
        header: "yes",
        body: "payload",
        env: "hi",
        module_env: "hi",
      });
      const held = await fetch(`${ready.url}/held`, { signal: AbortSignal.timeout(15_000) });
      const reader = held.body!.getReader();
      const decoder = new TextDecoder();
      let received = "";
      while (!received.includes("first;")) {
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
      expect(received).toBe("first;");
      expect((await http(`${ready.url}/release`)).body).toBe("released");
      for (let part = await reader.read(); !part.done; part = await reader.read()) {
        received += decoder.decode(part.value, { stream: true });
      }
      expect(received).toBe("first;second");
      const echo = await http(`${ready.url}/echo`, { method: "PUT", body: "quiet" });
      expect([echo.status, echo.body, echo.headers.get("x-method")]).toEqual([202, "QUIET", "PUT"]);

      expect((await http(`${ready.url}/later`)).body).toBe("queued");
      const boom = await http(`${ready.url}/boom`);
      expect(boom.status).toBe(500);
      if (verbose) expect(boom.body).toContain("ValueError: boom from the worker");
      else expect(boom.body).toBe("Internal Server Error\n");
      const tls = await http(`${ready.url}/tls`);
      expect(tls.status).toBe(500);

      cli.child.kill("SIGINT");
      expect(await cli.exit()).toBe(130);
      const log = cli.stderr();
      expect(log).toContain("vars were read");
      expect(log).toContain("background work done");
      expect(log).toContain("Traceback (most recent call last)");
      expect(log).toContain("ValueError: boom from the worker");
      expect(log).toMatch(/ssl\.create_default_context is not available on cfprobe's Pyodide runtime/);
      await expectNothingLeft(ready);
    }
  });

  it("names a binding it cannot provide, and a dependency it cannot find", async () => {
    const kv = pythonWorker(
      { "src/entry.py": PLAIN_WORKER },
      '[[kv_namespaces]]\nbinding = "CACHE"\nid = "x"\n',
    );
    const refused = await runCli(["dev", kv, "--runtime", "pyodide", "--port", "0", "--json"]);
    expect(refused.code).toBe(2);
    const error = JSON.parse(refused.stdout).error;
    expect(error.code).toBe("pyodide-binding-unsupported");
    expect(error.message).toContain("env.CACHE (kv_namespaces)");

    const needsPackage = pythonWorker({
      "src/entry.py": PLAIN_WORKER,
      "pyproject.toml":
        '[project]\nname = "t"\nversion = "0"\ndependencies = ["surely-not-installed-pkg>=1"]\n',
    });
    const missing = await runCli(["dev", needsPackage, "--runtime", "pyodide", "--port", "0", "--json"]);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: "python-package-missing" });
  });

  it("reports an exception raised while importing the worker, and leaves nothing running", async () => {
    const dir = pythonWorker({ "src/entry.py": "raise RuntimeError('broken at import')\n" });
    const result = await runCli(["dev", dir, "--runtime", "pyodide", "--port", "0"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("RuntimeError: broken at import");
    expect(result.stderr).toContain("error: ");
    expect(processesMentioning(dir)).toEqual([]);
  });
});
