import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { findChromium, runBrowserStep } from "../../src/probe/browser/run.js";
import { type BrowserStep, browserStepSchema } from "../../src/probe/browser/schema.js";
import type { StepContext } from "../../src/probe/types.js";
import { resolveTarget } from "../../src/project/target.js";
import { type RunningWorker, startWorker } from "../../src/wrangler/supervisor.js";
import { portIsFree, processesMentioning, ROOT } from "./helpers.js";

// Chromium profiles are created under tmpdir(): a folder of this file's own makes "no Chromium
// left" checkable without seeing browsers that other test files start at the same time.
const ORIGINAL_TMPDIR = process.env.TMPDIR;
const scratch = mkdtempSync(path.join(tmpdir(), "cfprobe-browser-e2e-"));
process.env.TMPDIR = scratch;

const INJECTION = `<script>window.__cfprobeInjected=1</script><img src=x onerror="window.__cfprobeInjected=1">`;

const step = (browser: unknown): BrowserStep => browserStepSchema.parse({ browser });

function context(baseUrl: string, overrides: Partial<StepContext> = {}): StepContext {
  return {
    baseUrl,
    vars: new Map(),
    artifactsDir: path.join(scratch, "artifacts"),
    signal: new AbortController().signal,
    options: { requireBrowser: false, verbose: false },
    ...overrides,
  };
}

/** Chromium processes and profiles this file started that are still there. */
function leftovers() {
  const profiles = readdirSync(scratch).filter((name) => name.startsWith("cfprobe-chromium-"));
  return { processes: processesMentioning(`--user-data-dir=${scratch}`), profiles };
}

/** Every line the workers of this file logged (wrangler logs each request it serves). */
const workerLog: string[] = [];

/** Starts a worker from a private copy (run records and state stay out of the repository). */
async function start(source: string): Promise<RunningWorker> {
  const dir = mkdtempSync(path.join(scratch, "worker-"));
  cpSync(source, dir, { recursive: true, filter: (file) => !file.includes(".wrangler") });
  return startWorker(resolveTarget(dir), {
    port: 0,
    persistTo: path.join(dir, "state"),
    timeoutMs: 90_000,
    onLog: (line) => workerLog.push(line),
  });
}

/** Polls (bounded) until `condition` holds. */
async function until(condition: () => boolean) {
  for (let tries = 0; tries < 1200 && !condition(); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(condition()).toBe(true);
}

afterAll(() => {
  if (ORIGINAL_TMPDIR === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = ORIGINAL_TMPDIR;
  rmSync(scratch, { recursive: true, force: true });
});

const formRenders = step({
  path: "/form",
  actions: [
    { expectTitle: "Message form" },
    { expectField: "Name" },
    { expectField: "message" },
    { expectElement: "form button[type=submit]" },
  ],
});

const submitShowsValues = step({
  path: "/form",
  actions: [
    { fill: { field: "Name", value: "Ada Lovelace" } },
    { fill: { field: "message", value: "Sent from a real browser" } },
    { submit: true },
    { waitForNavigation: true },
    { expectTitle: "Message received" },
    { expectText: "Ada Lovelace" },
    { expectText: "Sent from a real browser" },
  ],
});

const injectionInert = step({
  path: "/form",
  actions: [
    { fill: { field: "Name", value: INJECTION } },
    { fill: { field: "Message", value: INJECTION } },
    { submit: true },
    { waitForNavigation: true },
    { expectTitle: "Message received" },
    { expectNoScript: true },
    { expectText: INJECTION },
  ],
});

describe("browser steps against the JavaScript worker", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await start(path.join(ROOT, "workers", "js-worker"));
  });
  afterAll(async () => {
    await worker?.stop();
    if (worker) expect(await portIsFree(worker.port)).toBe(true);
  });

  it("finds Debian's chromium behind its launcher script", () => {
    const lookup = findChromium({ PATH: "/usr/bin" });
    expect(lookup).toMatchObject({ found: true, executable: "/usr/lib/chromium/chromium" });
  });

  it("sees the form with both fields", async () => {
    expect(await runBrowserStep(formRenders, context(worker.url))).toEqual({ status: "pass" });
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });

  it("submits the form and shows the values", async () => {
    expect(await runBrowserStep(submitShowsValues, context(worker.url))).toEqual({ status: "pass" });
  });

  it("shows injected markup as text without running it", async () => {
    expect(await runBrowserStep(injectionInert, context(worker.url))).toEqual({ status: "pass" });
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });

  it("names the fields that exist when a field is missing", async () => {
    const outcome = await runBrowserStep(
      step({ path: "/form", actions: [{ fill: { field: "Email", value: "a@b.c" } }] }),
      context(worker.url),
    );
    expect(outcome).toMatchObject({
      status: "fail",
      message: expect.stringContaining('fill "Email" (action 1)'),
      actual: "fields on the page: Name (name), Message (message)",
    });
  });

  it("fails a page the worker answers with 404", async () => {
    const outcome = await runBrowserStep(
      step({ path: "/nope", actions: [{ expectText: "x" }] }),
      context(worker.url),
    );
    expect(outcome).toMatchObject({ status: "fail", message: expect.stringContaining("answered 404") });
    expect(outcome.actual).toContain("Not found: /nope");
  });

  it("stops Chromium when the step's timeout runs out", async () => {
    const outcome = await runBrowserStep(
      step({ path: "/form", actions: [{ expectText: "a text the page never shows" }], timeout: 3 }),
      context(worker.url),
    );
    expect(outcome.status).toBe("fail");
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });

  it("stops Chromium and rethrows when the run is aborted while it starts", async () => {
    const controller = new AbortController();
    onTestFinished(() => controller.abort());
    const settled = runBrowserStep(
      step({ path: "/form", actions: [{ expectText: "a text the page never shows" }], timeout: 120 }),
      context(worker.url, { signal: controller.signal }),
    ).then(
      () => "resolved",
      (error: Error) => error.message,
    );
    await until(() => leftovers().processes.length > 0);
    controller.abort(new Error("interrupted by the test"));
    expect(await settled).toBe("interrupted by the test");
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });

  it("stops Chromium and rethrows when the run is aborted in the middle of an action", async () => {
    const controller = new AbortController();
    onTestFinished(() => controller.abort());
    const served = () => workerLog.filter((line) => line.includes("GET /form 200")).length;
    const servedBefore = served();
    const settled = runBrowserStep(
      step({ path: "/form", actions: [{ expectText: "a text the page never shows" }], timeout: 120 }),
      context(worker.url, { signal: controller.signal }),
    ).then(
      () => "resolved",
      (error: Error) => error.message,
    );
    // The worker has served the page: the step is now waiting for the text.
    await until(() => served() > servedBefore);
    controller.abort(new Error("interrupted by the test"));
    expect(await settled).toBe("interrupted by the test");
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });

  it("stops Chromium when the step throws", async () => {
    const fileNotDir = path.join(scratch, "a-file");
    writeFileSync(fileNotDir, "");
    const failing = runBrowserStep(
      step({ path: "/form", actions: [{ fill: { field: "Email", value: "x" } }] }),
      context(worker.url, { artifactsDir: path.join(fileNotDir, "artifacts") }),
    );
    await expect(failing).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });
});

describe("browser steps against broken workers", () => {
  let unescaped: RunningWorker;
  let noSubmit: RunningWorker;
  beforeAll(async () => {
    unescaped = await start(path.join(ROOT, "fixtures", "workers", "unescaped-form"));
    noSubmit = await start(path.join(ROOT, "fixtures", "workers", "no-submit"));
  });
  afterAll(async () => {
    await Promise.all([unescaped?.stop(), noSubmit?.stop()]);
  });

  it("fails the injection step when the form does not escape", async () => {
    const outcome = await runBrowserStep(injectionInert, context(unescaped.url));
    expect(outcome).toMatchObject({
      status: "fail",
      message: expect.stringMatching(/expectNoScript \(action 6\) on .*\/form: an injected script ran/),
    });
    expect(String(outcome.actual)).toContain("__cfprobeInjected");
    expect(readFileSync(outcome.artifacts!.html!, "utf8")).toContain(
      "<script>window.__cfprobeInjected=1</script>",
    );
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });

  it("reports a dialog an injected script opened", async () => {
    const outcome = await runBrowserStep(
      step({
        path: "/form",
        actions: [
          { fill: { field: "name", value: "<script>alert('hi from the test')</script>" } },
          { fill: { field: "message", value: "plain" } },
          { submit: true },
          { waitForNavigation: true },
          { expectNoScript: true },
        ],
      }),
      context(unescaped.url),
    );
    expect(outcome.status).toBe("fail");
    expect(outcome.message).toContain(`dialog alert("hi from the test")`);
  });

  it("refuses requests to any origin but the worker's", async () => {
    const outcome = await runBrowserStep(
      step({
        path: "/form",
        actions: [
          {
            fill: {
              field: "name",
              value: `<img src="http://192.0.2.1/pixel.png" onerror="window.__cfprobeInjected='refused'">`,
            },
          },
          { fill: { field: "message", value: "plain" } },
          { submit: true },
          { waitForNavigation: true },
          { expectNoScript: true },
        ],
      }),
      context(unescaped.url),
    );
    expect(outcome.status).toBe("fail");
    expect(outcome.message).toContain(`__cfprobeInjected set to "refused"`);
    expect(outcome.message).toContain(
      "cfprobe refused the page's requests to other origins: http://192.0.2.1/pixel.png",
    );
  });

  it("fails a form without a submit button, with a screenshot and the page", async () => {
    const outcome = await runBrowserStep(
      step({
        path: "/form",
        actions: [{ fill: { field: "Name", value: "Ada" } }, { submit: true }],
      }),
      context(noSubmit.url),
    );
    expect(outcome).toMatchObject({
      status: "fail",
      message: expect.stringContaining("submit (action 2) on"),
      actual: 'other buttons: "Preview"',
    });
    expect(outcome.message).toContain("the form has no submit button");
    const screenshot = readFileSync(outcome.artifacts!.screenshot!);
    expect(screenshot.subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(outcome.artifacts!.html!, "utf8")).toContain("Preview");
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });
});

describe("with a browser that does not start", () => {
  it("fails the step, naming the binary, and leaves nothing behind", async () => {
    const outcome = await runBrowserStep(formRenders, context("http://127.0.0.1:9"), {
      CFPROBE_CHROMIUM: "/bin/false",
    });
    expect(outcome).toMatchObject({
      status: "fail",
      message: expect.stringContaining(
        "Chromium /bin/false (found through CFPROBE_CHROMIUM=/bin/false) did not start",
      ),
    });
    expect(leftovers()).toEqual({ processes: [], profiles: [] });
  });
});

describe("without a browser", () => {
  const noBrowser = { CFPROBE_CHROMIUM: path.join(scratch, "no-such-chromium"), PATH: "" };

  it("skips the step and says how to install Chromium", async () => {
    const outcome = await runBrowserStep(formRenders, context("http://127.0.0.1:9"), noBrowser);
    expect(outcome.status).toBe("skip");
    expect(outcome.message).toContain("no-such-chromium");
    expect(outcome.message).toContain("apt-get install chromium");
  });

  it("fails the step with --require-browser", async () => {
    const outcome = await runBrowserStep(
      formRenders,
      context("http://127.0.0.1:9", { options: { requireBrowser: true, verbose: false } }),
      noBrowser,
    );
    expect(outcome).toMatchObject({ status: "fail", message: expect.stringContaining("--require-browser") });
  });
});
