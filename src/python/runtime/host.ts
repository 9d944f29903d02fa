/**
 * The Pyodide runtime's own process (started by startPyodideWorker in a process group of its own):
 * real D1 through Miniflare, Pyodide from the npm package, the worker's Python code, and an HTTP
 * server on 127.0.0.1. Everything it prints is the worker's log; a fatal start error is one
 * `cfprobe-pyodide-error {json}` line before exiting 1.
 */

import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadPyodide, type PyodideInterface } from "pyodide";
import { PACKAGE_ROOT } from "../../project/target.js";
import { livingGroupMembers } from "../../wrangler/processes.js";
import { type LocalD1, startLocalD1 } from "./d1.js";
import type { PyodidePlan } from "./plan.js";
import { FATAL_PREFIX, PLAN_ENV } from "./protocol.js";

/** Where our `workers`, `asgi` and host modules come from (shipped as .py files with the sources). */
const PY_DIR = path.join(PACKAGE_ROOT, "src", "python", "runtime", "py");

/**
 * Stdlib modules the npm package leaves out (separate downloads, `cpython_module` in its lock
 * file): ssl, lzma, sqlite3, pydoc_data for 0.28.2. Private ones (_hashlib ...) get no placeholder,
 * so that the stdlib's own fallbacks (hashlib's builtin hashes) keep working; `test` is not needed.
 */
function unvendoredStdlib(): string[] {
  const lockFile = createRequire(import.meta.url).resolve("pyodide/pyodide-lock.json");
  const lock = JSON.parse(readFileSync(lockFile, "utf8")) as {
    packages: Record<string, { package_type?: string; imports?: string[] }>;
  };
  return Object.values(lock.packages)
    .filter((pkg) => pkg.package_type === "cpython_module")
    .flatMap((pkg) => pkg.imports ?? [])
    .filter((name) => !name.startsWith("_") && name !== "test");
}

type PyCallable = (...args: unknown[]) => unknown;

function log(line: string) {
  process.stdout.write(`${line}\n`);
}

function fail(code: string, message: string, hint?: string): never {
  process.stdout.write(`${FATAL_PREFIX}${JSON.stringify({ code, message, hint })}\n`);
  process.exit(1);
}

async function loadPython(plan: PyodidePlan): Promise<PyodideInterface> {
  const pyodide = await loadPyodide({
    env: { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" },
    stdout: (line) => log(line),
    stderr: (line) => log(line),
  });
  const { FS } = pyodide;
  const mount = (source: string, target: string) => {
    FS.mkdirTree(target);
    FS.mount(FS.filesystems.NODEFS, { root: source }, target);
  };
  mount(PY_DIR, "/cfprobe/runtime");
  mount(plan.sources.entryDir, "/session/metadata");
  if (plan.sources.vendorDir) mount(plan.sources.vendorDir, "/session/python_modules");
  FS.mkdirTree("/cfprobe/site-packages");
  for (const pkg of plan.sources.packages) {
    for (const module of pkg.modules) {
      if (module.source.endsWith(".py")) {
        FS.writeFile(`/cfprobe/site-packages/${module.name}.py`, readFileSync(module.source));
      } else mount(module.source, `/cfprobe/site-packages/${module.name}`);
    }
  }
  pyodide.runPython(`
import sys
sys.dont_write_bytecode = True
sys.path[:0] = ["/cfprobe/runtime", "/session/metadata", "/session/python_modules", "/cfprobe/site-packages"]
`);
  return pyodide;
}

function buildEnv(plan: PyodidePlan, d1: LocalD1 | undefined): Record<string, unknown> {
  return { ...plan.vars, ...(d1?.databases ?? {}) };
}

function logError(what: string, error: unknown) {
  const text = error instanceof Error ? error.message : String(error);
  log(`${what}:`);
  for (const line of text.trimEnd().split("\n")) log(line);
}

/** The last line of a Python traceback: the exception and its message. */
function lastLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trimEnd().split("\n").at(-1) ?? text;
}

function toWebRequest(req: http.IncomingMessage, body: Buffer, port: number): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `127.0.0.1:${port}`}`);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, { method, headers, body: hasBody ? new Uint8Array(body) : undefined });
}

async function writeWebResponse(res: http.ServerResponse, response: Response) {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie") headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body) {
    for await (const chunk of response.body) {
      if (!res.write(chunk)) await once(res, "drain");
    }
  }
  res.end();
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      "persist-to": { type: "string" },
      verbose: { type: "boolean", default: false },
    },
  });
  const plan = JSON.parse(process.env[PLAN_ENV] ?? "{}") as PyodidePlan;
  const port = Number(values.port);
  const persistTo = values["persist-to"] ?? "";
  const started = Date.now();

  // Miniflare starts its workerd while this process loads Pyodide and imports the worker.
  const d1Ready = plan.d1.length ? startLocalD1(plan.d1, persistTo) : Promise.resolve(undefined);
  d1Ready.catch(() => {});
  let server: http.Server | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    server?.close();
    const disposed = d1Ready.then((d1) => d1?.dispose()).catch(() => {});
    await Promise.race([disposed, new Promise((resolve) => setTimeout(resolve, 3000))]);
    // Whatever Miniflare could not stop in time shares our process group: end it before we go.
    for (const member of livingGroupMembers(process.pid)) {
      if (member.pid !== process.pid) process.kill(member.pid, "SIGKILL");
    }
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown(143));
  process.on("SIGINT", () => void shutdown(130));
  // The parent holds our stdin open; when it closes, cfprobe is gone and so must we be.
  process.stdin.on("end", () => void shutdown(0));
  process.stdin.resume();

  const python = await loadPython(plan);
  const loadedMs = Date.now() - started;
  const hostModule = python.pyimport("_cfprobe_host");
  hostModule.install_placeholders(python.toPy(unvendoredStdlib()));
  try {
    hostModule.load(plan.sources.entryModule);
  } catch (error) {
    logError(`Importing ${plan.sources.entryModule} failed`, error);
    const last = lastLine(error);
    fail(
      "pyodide-import-failed",
      `The worker's module ${plan.sources.entryModule} raised while importing: ${last}`,
      last.startsWith("ModuleNotFoundError")
        ? "Vendor the module into python_modules/, or list its package in pyproject.toml and install it locally (apt-get install python3-<name>)."
        : "Fix the error in the worker's code; the traceback above shows where.",
    );
  }
  const importedMs = Date.now() - started;
  hostModule.set_env(buildEnv(plan, await d1Ready));
  const bindings = plan.d1.map((db) => `env.${db.binding}`).join(", ") || "none";
  log(
    `Pyodide ${python.version} loaded in ${loadedMs} ms, ${plan.sources.entryModule} imported at ${importedMs} ms; D1: ${bindings}`,
  );
  const serve = hostModule.serve as PyCallable;

  server = http.createServer(async (req, res) => {
    const begun = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let response: Response;
    try {
      response = (await serve(toWebRequest(req, Buffer.concat(chunks), port))) as Response;
    } catch (error) {
      logError(`${req.method} ${req.url} raised`, error);
      const detail = values.verbose && error instanceof Error ? `\n\n${error.message}` : "";
      response = new Response(`Internal Server Error${detail}\n`, {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    try {
      await writeWebResponse(res, response);
    } catch (error) {
      logError(`${req.method} ${req.url}: streaming the response failed`, error);
      res.destroy();
    }
    log(
      `${req.method} ${req.url} ${response.status} ${response.statusText || http.STATUS_CODES[response.status] || ""} (${Date.now() - begun}ms)`,
    );
  });
  server.on("error", (error) =>
    fail("pyodide-listen-failed", `Cannot listen on 127.0.0.1:${port}: ${error.message}`),
  );
  server.listen(port, "127.0.0.1", () =>
    log(`Ready on http://127.0.0.1:${port} (${Date.now() - started} ms)`),
  );
}

main().catch((error: unknown) => {
  logError("The Pyodide runtime failed to start", error);
  fail("pyodide-start-failed", `The Pyodide runtime failed to start: ${lastLine(error)}`);
});
