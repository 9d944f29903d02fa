import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { groupMembers, http, killGroup, portIsFree, startCli, withCleanups } from "./helpers.js";

const { defer } = withCleanups();

async function startDev(args: string[]) {
  const persist = mkdtempSync(path.join(tmpdir(), "cfprobe-parity-"));
  defer(() => rmSync(persist, { recursive: true, force: true }));
  const cli = startCli(["dev", ...args, "--port", "0", "--persist-to", persist, "--json"]);
  defer(async () => {
    if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    for (const line of cli.stdoutLines) {
      const pid = (JSON.parse(line) as { pid?: number }).pid;
      if (pid) killGroup(pid);
    }
  });
  const ready = JSON.parse(await cli.waitForLine(/"url"/, 90_000)) as {
    url: string;
    pid: number;
    port: number;
  };
  return { cli, ready };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** The same requests, in the same order, for both workers. */
const SEQUENCE: Array<[string, string, RequestInit?]> = [
  ["GET", "/"],
  ["GET", "/hello"],
  ["GET", "/form"],
  ["POST", "/form", { headers: FORM, body: "name=Ada+%26+Co&message=%3Cscript%3E%27x%27%3C%2Fscript%3E" }],
  ["POST", "/form", { headers: FORM, body: "name=Ada&message=++" }],
  ["POST", "/form", { headers: FORM, body: "" }],
  ["POST", "/form", { headers: { "content-type": "text/plain" }, body: "name=Ada" }],
  ["GET", "/counter"],
  ["GET", "/counter"],
  ["DELETE", "/counter"],
  ["POST", "/"],
  ["PUT", "/hello"],
  ["GET", "/counter"],
  ["GET", "/missing/page?q=1"],
];

interface Answer {
  status: number;
  mediaType: string;
  body: unknown;
}

/** What must be equal: status, media type, and the body with the runtime's name taken out. */
async function answers(url: string): Promise<Answer[]> {
  const result: Answer[] = [];
  for (const [method, route, init] of SEQUENCE) {
    const response = await http(`${url}${route}`, { method, ...init });
    const mediaType = (response.headers.get("content-type") ?? "").split(";")[0] ?? "";
    const text = response.body.replaceAll(/JavaScript|Python/g, "<runtime>");
    result.push({
      status: response.status,
      mediaType,
      body: mediaType === "application/json" ? JSON.parse(text) : text.trimEnd(),
    });
  }
  return result;
}

it("js-worker on workerd and py-worker on Pyodide answer the same sequence alike", async () => {
  const [js, py] = await Promise.all([startDev(["js"]), startDev(["py", "--runtime", "pyodide"])]);
  const [fromJs, fromPy] = await Promise.all([answers(js.ready.url), answers(py.ready.url)]);
  expect(fromPy.map((answer) => answer.status)).toEqual(fromJs.map((answer) => answer.status));
  expect(fromPy).toEqual(fromJs);
  expect(fromJs.map((answer) => answer.status)).toEqual([
    200, 200, 200, 200, 400, 400, 415, 200, 200, 405, 405, 405, 200, 404,
  ]);
  expect(fromJs.at(-2)?.body).toEqual({ page: "counter", count: 3 });

  for (const { cli, ready } of [js, py]) {
    cli.child.kill("SIGINT");
    expect(await cli.exit()).toBe(130);
    expect(groupMembers(ready.pid)).toEqual([]);
    expect(await portIsFree(ready.port)).toBe(true);
  }
});
