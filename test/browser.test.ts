import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findChromium, unwrapLauncherScript } from "../src/probe/browser/chromium.js";
import { browserStepSchema, describeAction } from "../src/probe/browser/schema.js";

function issues(value: unknown): string[] {
  const result = browserStepSchema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

describe("browserStepSchema", () => {
  it("accepts a step and fills in the default timeout", () => {
    const step = browserStepSchema.parse({
      name: "form works",
      browser: {
        path: "/form",
        actions: [
          { fill: { field: "Name", value: "Ada" } },
          { click: "Send" },
          { submit: true },
          { waitForNavigation: true },
          { expectText: "Ada" },
          { expectElement: "#name" },
          { expectField: "message" },
          { expectTitle: "Message received" },
          { expectNoScript: true },
        ],
      },
    });
    expect(step.browser.timeout).toBe(20);
    expect(step.browser.actions).toHaveLength(9);
  });

  it("names the bad field of a bad step", () => {
    expect(issues({ browser: { path: "form", actions: [{ expectText: "x" }] } })).toEqual([
      'browser.path: must start with "/"',
    ]);
    expect(issues({ browser: { path: "/", actions: [] } })).toEqual([
      "browser.actions: needs at least one action",
    ]);
    expect(issues({ browser: { path: "/", actions: [{ fill: { field: "", value: 1 } }] } })).toEqual([
      "browser.actions.0.fill.field: must not be empty",
      "browser.actions.0.fill.value: Invalid input: expected string, received number",
    ]);
    expect(issues({ browser: { path: "/", actions: [{ expectText: "a" }], timeout: 0 } })).toEqual([
      "browser.timeout: Too small: expected number to be >0",
    ]);
    expect(issues({ browser: { path: "/", actions: [{ submit: false }] } })[0]).toMatch(
      /^browser\.actions\.0\.submit: /,
    );
  });

  it("wants exactly one known key per action", () => {
    expect(issues({ browser: { path: "/", actions: [{ click: "Send", submit: true }] } })).toEqual([
      "browser.actions.0: must have exactly one of fill, click, submit, waitForNavigation, expectText, expectElement, expectField, expectTitle, expectNoScript",
    ]);
    expect(issues({ browser: { path: "/", actions: [{ expectTitle: "a" }, { clik: "Send" }] } })[0]).toBe(
      'browser.actions.1: Unrecognized key: "clik"',
    );
    expect(issues({ browser: { path: "/", actions: [{ expectTitle: "a" }], headless: false } })).toEqual([
      'browser: Unrecognized key: "headless"',
    ]);
  });

  it("describes actions for messages", () => {
    const actions = browserStepSchema.parse({
      browser: {
        path: "/",
        actions: [{ fill: { field: "Name", value: "secret" } }, { submit: true }, { expectTitle: "Done" }],
      },
    }).browser.actions;
    expect(actions.map(describeAction)).toEqual(['fill "Name"', "submit", 'expectTitle "Done"']);
  });
});

describe("findChromium", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function dir() {
    const created = mkdtempSync(path.join(tmpdir(), "cfprobe-find-chromium-"));
    dirs.push(created);
    return created;
  }
  function executable(file: string, content = "\x7fELF fake binary") {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content, { encoding: "latin1" });
    chmodSync(file, 0o755);
    return file;
  }

  it("takes the names in order from PATH", () => {
    const first = dir();
    const second = dir();
    executable(path.join(first, "google-chrome"));
    const chromium = executable(path.join(second, "chromium"));
    expect(findChromium({ PATH: `${first}:${second}` })).toEqual({
      found: true,
      executable: chromium,
      via: `PATH (${chromium})`,
    });
  });

  it("skips files that are not executable, and directories", () => {
    const bin = dir();
    writeFileSync(path.join(bin, "chromium"), "not executable");
    mkdirSync(path.join(bin, "chromium-browser"));
    const chrome = executable(path.join(bin, "google-chrome"));
    expect(findChromium({ PATH: bin })).toMatchObject({ found: true, executable: chrome });
  });

  it("prefers an explicit path, then CFPROBE_CHROMIUM, over PATH", () => {
    const bin = dir();
    executable(path.join(bin, "chromium"));
    const chosen = executable(path.join(dir(), "my-chrome"));
    const option = executable(path.join(dir(), "option-chrome"));
    expect(findChromium({ PATH: bin, CFPROBE_CHROMIUM: chosen })).toEqual({
      found: true,
      executable: chosen,
      via: `CFPROBE_CHROMIUM=${chosen}`,
    });
    expect(findChromium({ PATH: bin, CFPROBE_CHROMIUM: chosen }, option)).toMatchObject({
      executable: option,
    });
  });

  it("reports a configured path that does not exist instead of using another browser", () => {
    const bin = dir();
    executable(path.join(bin, "chromium"));
    const missing = path.join(bin, "nope");
    const lookup = findChromium({ PATH: bin, CFPROBE_CHROMIUM: missing });
    expect(lookup).toEqual({
      found: false,
      reason: `No Chromium: CFPROBE_CHROMIUM points at ${missing}, which is not an executable file.`,
      hint: "Install it with `sudo apt-get install chromium`, or set CFPROBE_CHROMIUM to the path of a Chromium or Chrome binary.",
    });
  });

  it("says what it looked for when nothing is found", () => {
    expect(findChromium({ PATH: dir() })).toMatchObject({
      found: false,
      reason:
        "No Chromium: CFPROBE_CHROMIUM is not set and none of chromium, chromium-browser, google-chrome is on PATH.",
    });
    expect(findChromium({})).toMatchObject({ found: false });
  });

  it("runs the binary behind a distribution's launcher script", () => {
    const root = dir();
    const lib = path.join(root, "lib");
    const debianBinary = executable(path.join(lib, "chromium", "chromium"));
    const debianLauncher = executable(
      path.join(root, "bin", "chromium"),
      "#!/bin/sh\nexec /usr/lib/chromium/chromium\n",
    );
    expect(unwrapLauncherScript(debianLauncher, lib)).toBe(debianBinary);

    const chromeBinary = executable(path.join(root, "opt", "chrome"));
    const chromeLauncher = executable(path.join(root, "opt", "google-chrome"), "#!/bin/bash\nexec chrome\n");
    symlinkSync(chromeLauncher, path.join(root, "bin", "google-chrome"));
    expect(unwrapLauncherScript(path.join(root, "bin", "google-chrome"), lib)).toBe(chromeBinary);

    const unknownScript = executable(path.join(root, "bin", "my-chromium"), "#!/bin/sh\nexec something\n");
    expect(unwrapLauncherScript(unknownScript, lib)).toBe(unknownScript);

    const plainLink = path.join(root, "bin", "chromium-link");
    symlinkSync(debianBinary, plainLink);
    expect(unwrapLauncherScript(plainLink, lib)).toBe(plainLink);
  });
});
