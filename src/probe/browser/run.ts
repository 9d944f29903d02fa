import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { BrowserContext, ElementHandle, Locator, Page } from "playwright-core";
import type { StepContext, StepOutcome } from "../types.js";
import { findChromium, type LaunchedChromium, launchChromium } from "./chromium.js";
import { type BrowserAction, type BrowserStep, describeAction, INJECTION_MARKER } from "./schema.js";

export { findChromium } from "./chromium.js";

/** How a failed action is reported: one sentence, and what was expected against what was found. */
interface Failure {
  message: string;
  expected?: unknown;
  actual?: unknown;
}

class StepTimeout extends Error {}

const ARTIFACT_TIMEOUT_MS = 5000;
const WATCHDOG_GRACE_MS = 2000;
const TEXT_LIMIT = 500;
const REPORT_BINDING = "__cfprobeScriptRan";

/**
 * The marker is an accessor rather than a plain property so that a script that sets it on a page
 * the step has already left is still reported (through the exposed binding).
 */
const MARKER_TRAP = `(() => {
  let value;
  Object.defineProperty(window, ${JSON.stringify(INJECTION_MARKER)}, {
    configurable: true,
    get: () => value,
    set: (next) => {
      value = next;
      const report = window[${JSON.stringify(REPORT_BINDING)}];
      if (typeof report === "function") report(String(next));
    },
  });
})();`;

/**
 * Runs one `browser` step in a fresh headless Chromium: opens the page, performs the actions in
 * order and stops at the first that fails, saving a screenshot and the page HTML. Chromium is
 * stopped however the step ends; an abort of ctx.signal stops it and rethrows the signal's reason.
 */
export async function runBrowserStep(
  step: BrowserStep,
  ctx: StepContext,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StepOutcome> {
  const { timeout } = step.browser;
  const lookup = findChromium(env, ctx.options.chromium);
  if (!lookup.found) {
    if (!ctx.options.requireBrowser) return { status: "skip", message: `${lookup.reason} ${lookup.hint}` };
    return {
      status: "fail",
      message: `${lookup.reason} --require-browser makes that a failure. ${lookup.hint}`,
      expected: "a Chromium binary",
      actual: "none found",
    };
  }

  const deadline = Date.now() + timeout * 1000;
  const shared = ctx.browsers;
  let browser: LaunchedChromium;
  try {
    const launch = { signal: ctx.signal, timeoutMs: timeout * 1000 };
    browser = shared
      ? await shared.get(lookup.executable, launch)
      : await launchChromium(lookup.executable, launch);
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return {
      status: "fail",
      message: `Chromium ${lookup.executable} (found through ${lookup.via}) did not start: ${firstLine(error)}`,
    };
  }
  const stopOnAbort = () => void (shared ? shared.close() : browser.close());
  ctx.signal.addEventListener("abort", stopOnAbort, { once: true });
  let session: BrowserSession | undefined;
  try {
    ctx.signal.throwIfAborted();
    session = await BrowserSession.open(browser.context, ctx.baseUrl, deadline, timeout);
    const outcome = await session.run(step.browser.path, step.browser.actions, ctx.artifactsDir);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return outcome;
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw error;
  } finally {
    ctx.signal.removeEventListener("abort", stopOnAbort);
    if (shared) await session?.close();
    else await browser.close();
  }
}

/** One page of one step, with what it has seen: navigations, dialogs and injection markers. */
class BrowserSession {
  private navigations = 0;
  /** Navigations counted when the last goto, click or submit started. */
  private navigationMark = 0;
  private readonly dialogs: string[] = [];
  private readonly markers: string[] = [];
  /** Requests to other origins, refused: a page that needs them is reported as such. */
  private readonly refused: string[] = [];
  /** The last field filled: `submit` sends its form. */
  private lastField?: Locator;

  private constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
    private readonly deadline: number,
    private readonly timeoutS: number,
  ) {}

  static async open(context: BrowserContext, baseUrl: string, deadline: number, timeoutS: number) {
    const origin = new URL(baseUrl).origin;
    // Only the worker under test: any other request (a CDN, an injected URL) is refused, so the
    // browser stays off the network whatever the page asks for.
    // A page of its own per step, everything hooked on the page: the browser may be shared by the
    // steps of a suite run, and one step's routes, traps and dialogs must not reach another's.
    await context.clearCookies();
    const page = await context.newPage();
    const session = new BrowserSession(page, baseUrl, deadline, timeoutS);
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      session.refused.push(url);
      return route.abort("blockedbyclient");
    });
    await page.exposeBinding(REPORT_BINDING, ({ frame }, value: string) => {
      session.markers.push(`${INJECTION_MARKER} set to ${JSON.stringify(value)} on ${frame.url()}`);
    });
    await page.addInitScript(MARKER_TRAP);
    page.on("dialog", (dialog) => {
      session.dialogs.push(
        `${dialog.type()}(${JSON.stringify(dialog.message())}) on ${dialog.page()?.url() ?? "?"}`,
      );
      dialog.dismiss().catch(() => {});
    });
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) session.navigations += 1;
    });
    return session;
  }

  /** Closes this step's page (bounded: a hung page must not hold the run). */
  async close(): Promise<void> {
    await Promise.race([
      this.page.close().catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 5000)),
    ]);
  }

  async run(pagePath: string, actions: BrowserAction[], artifactsDir: string): Promise<StepOutcome> {
    let failure: Failure | undefined;
    let where = `GET ${pagePath}`;
    try {
      failure = await this.bounded(this.goto(pagePath));
    } catch (error) {
      failure = this.explain(error);
    }
    for (const [index, action] of actions.entries()) {
      if (failure) break;
      where = `${describeAction(action)} (action ${index + 1})`;
      try {
        failure = await this.bounded(this.perform(action));
      } catch (error) {
        failure = this.explain(error);
      }
    }
    if (!failure) return { status: "pass" };
    const artifacts = await saveArtifacts(this.page, artifactsDir);
    return {
      status: "fail",
      message: `${where} on ${this.page.url()}: ${failure.message}${this.refusedNote()}`,
      ...(failure.expected === undefined ? {} : { expected: failure.expected }),
      ...(failure.actual === undefined ? {} : { actual: failure.actual }),
      artifacts,
    };
  }

  private refusedNote(): string {
    if (this.refused.length === 0) return "";
    const shown = [...new Set(this.refused)].slice(0, 3).join(", ");
    return ` (cfprobe refused the page's requests to other origins: ${shown}${this.refused.length > 3 ? ", …" : ""})`;
  }

  /** Milliseconds left of the step; past the deadline nothing more is attempted. */
  private remaining(): number {
    const left = this.deadline - Date.now();
    if (left <= 0) throw new StepTimeout();
    return left;
  }

  /**
   * Playwright's evaluate calls have no timeout of their own: the deadline bounds every action. The
   * grace lets Playwright's own timeouts, which an action turns into a precise message, fire first.
   */
  private async bounded<T>(work: Promise<T>): Promise<T> {
    return within(work, this.remaining() + WATCHDOG_GRACE_MS);
  }

  private explain(error: unknown): Failure {
    if (error instanceof StepTimeout || (error as Error)?.name === "TimeoutError") {
      return { message: `it did not complete within the step's timeout of ${this.timeoutS} s.` };
    }
    return { message: firstLine(error) };
  }

  private async goto(pagePath: string): Promise<Failure | undefined> {
    this.navigationMark = this.navigations;
    const response = await this.page.goto(`${this.baseUrl}${pagePath}`, {
      waitUntil: "load",
      timeout: this.remaining(),
    });
    this.navigationMark = this.navigations;
    if (response && response.status() >= 400) {
      return {
        message: `the worker answered ${response.status()}.`,
        expected: "a status below 400",
        actual: `${response.status()} ${truncate(await response.text().catch(() => ""))}`,
      };
    }
    return undefined;
  }

  private perform(action: BrowserAction): Promise<Failure | undefined> {
    if (action.fill) return this.fill(action.fill.field, action.fill.value);
    if (action.click !== undefined) return this.click(action.click);
    if (action.submit) return this.submit();
    if (action.waitForNavigation) return this.waitForNavigation();
    if (action.expectText !== undefined) return this.expectText(action.expectText);
    if (action.expectElement !== undefined) return this.expectElement(action.expectElement);
    if (action.expectField !== undefined) return this.expectField(action.expectField);
    if (action.expectTitle !== undefined) return this.expectTitle(action.expectTitle);
    return Promise.resolve(this.expectNoScript());
  }

  /** A form field by its label text or name attribute, both matched exactly. */
  private field(name: string): Locator {
    return this.page
      .getByLabel(name, { exact: true })
      .or(this.page.locator(`[name="${name.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"]`));
  }

  private async fill(name: string, value: string): Promise<Failure | undefined> {
    const field = this.field(name);
    const count = await field.count();
    if (count !== 1) return this.missingField(name, count);
    await field.fill(value, { timeout: this.remaining() });
    this.lastField = field;
    return undefined;
  }

  private async missingField(name: string, count: number): Promise<Failure> {
    return {
      message:
        count === 0
          ? `no form field is labelled or named ${JSON.stringify(name)}.`
          : `${count} form fields are labelled or named ${JSON.stringify(name)}; name one of them exactly.`,
      expected: `one field labelled or named ${JSON.stringify(name)}`,
      actual: `fields on the page: ${(await this.fieldNames()).join(", ") || "none"}`,
    };
  }

  private fieldNames(): Promise<string[]> {
    return this.page.evaluate(() =>
      [...document.querySelectorAll("input:not([type=hidden]), textarea, select")].map((element) => {
        const field = element as HTMLInputElement;
        const label = field.labels?.[0]?.textContent?.trim();
        return label
          ? `${label} (${field.name || field.id || field.tagName.toLowerCase()})`
          : field.name || field.id;
      }),
    );
  }

  private async click(name: string): Promise<Failure | undefined> {
    const target = this.page
      .getByRole("button", { name, exact: true })
      .or(this.page.getByRole("link", { name, exact: true }));
    const count = await target.count();
    if (count !== 1) {
      const names = await this.page.evaluate(() =>
        [...document.querySelectorAll("button, input[type=submit], input[type=button], a[href]")]
          .map((element) => ((element as HTMLInputElement).value || element.textContent || "").trim())
          .filter(Boolean),
      );
      return {
        message:
          count === 0
            ? `no button or link is named ${JSON.stringify(name)}.`
            : `${count} buttons or links are named ${JSON.stringify(name)}.`,
        expected: `one button or link named ${JSON.stringify(name)}`,
        actual: `buttons and links on the page: ${names.map((text) => JSON.stringify(text)).join(", ") || "none"}`,
      };
    }
    this.navigationMark = this.navigations;
    await target.click({ timeout: this.remaining() });
    return undefined;
  }

  /** Clicks the form's own submit button, as a person would; a form without one fails. */
  private async submit(): Promise<Failure | undefined> {
    let form: ElementHandle | null;
    if (this.lastField) {
      form = (await this.lastField.evaluateHandle((field) => (field as HTMLInputElement).form)).asElement();
      if (!form)
        return { message: "the field filled last is not inside a form, so there is nothing to submit." };
    } else {
      const forms = this.page.locator("form");
      const count = await forms.count();
      if (count !== 1) {
        return {
          message:
            count === 0
              ? "the page has no form."
              : `the page has ${count} forms; fill a field first so that submit knows which form to send.`,
        };
      }
      form = await forms.elementHandle({ timeout: this.remaining() });
    }
    const button = (
      await form!.evaluateHandle(
        (element) =>
          [...(element as HTMLFormElement).elements].find(
            (control) =>
              (control instanceof HTMLButtonElement || control instanceof HTMLInputElement) &&
              (control.type === "submit" || control.type === "image"),
          ) ?? null,
      )
    ).asElement();
    if (!button) {
      const others = await form!.evaluate((element) =>
        [
          ...(element as HTMLFormElement).querySelectorAll("button, input[type=button], input[type=reset]"),
        ].map((control) => (control.textContent || (control as HTMLInputElement).value || "").trim()),
      );
      return {
        message:
          'the form has no submit button (a <button type="submit"> or <input type="submit">), so a person cannot send it.',
        expected: "a submit button in the form",
        actual: others.length
          ? `other buttons: ${others.map((text) => JSON.stringify(text)).join(", ")}`
          : "no button",
      };
    }
    this.navigationMark = this.navigations;
    await button.click({ timeout: this.remaining() });
    return undefined;
  }

  private async waitForNavigation(): Promise<Failure | undefined> {
    if (this.navigations === this.navigationMark) {
      try {
        await this.page.waitForEvent("framenavigated", {
          predicate: (frame) => frame === this.page.mainFrame(),
          timeout: this.remaining(),
        });
      } catch (error) {
        if ((error as Error).name !== "TimeoutError") throw error;
        return {
          message: `no new page loaded within the step's timeout of ${this.timeoutS} s.`,
          expected: "a navigation after the last click or submit",
          actual: "the page stayed",
        };
      }
    }
    await this.page.waitForLoadState("load", { timeout: this.remaining() });
    this.navigationMark = this.navigations;
    return undefined;
  }

  /** Waits until the condition holds; a TimeoutError means it never did. */
  private async waitUntil(condition: () => Promise<unknown>): Promise<boolean> {
    try {
      await condition();
      return true;
    } catch (error) {
      if ((error as Error).name === "TimeoutError") return false;
      throw error;
    }
  }

  /** Rendered text, as a person reads it: unlike textContent it leaves out the source of scripts. */
  private async expectText(text: string): Promise<Failure | undefined> {
    const found = await this.waitUntil(() =>
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point (see above).
      this.page.waitForFunction((wanted) => document.body?.innerText.includes(wanted) ?? false, text, {
        timeout: this.remaining(),
        polling: 100,
      }),
    );
    if (found) return undefined;
    return {
      message: "the page does not show this text.",
      expected: text,
      actual: truncate(await this.visibleText()),
    };
  }

  private async expectElement(selector: string): Promise<Failure | undefined> {
    const element = this.page.locator(selector);
    const visible = await this.waitUntil(() =>
      element.first().waitFor({ state: "visible", timeout: this.remaining() }),
    );
    if (visible) return undefined;
    const count = await element.count();
    return {
      message: `no visible element matches ${selector}.`,
      expected: `a visible ${selector}`,
      actual: count === 0 ? "no element matches" : `${count} matching, none visible`,
    };
  }

  private async expectField(name: string): Promise<Failure | undefined> {
    const field = this.field(name).first();
    const visible = await this.waitUntil(() =>
      field.waitFor({ state: "visible", timeout: this.remaining() }),
    );
    if (!visible) return this.missingField(name, 0);
    if (!(await field.isEditable({ timeout: this.remaining() }))) {
      return { message: `the field ${JSON.stringify(name)} cannot be edited (disabled or read-only).` };
    }
    return undefined;
  }

  private async expectTitle(title: string): Promise<Failure | undefined> {
    const matched = await this.waitUntil(() =>
      this.page.waitForFunction((wanted) => document.title === wanted, title, {
        timeout: this.remaining(),
        polling: 100,
      }),
    );
    if (matched) return undefined;
    return { message: "the page title differs.", expected: title, actual: await this.page.title() };
  }

  private async expectNoScript(): Promise<Failure | undefined> {
    const current = await this.page.evaluate(
      (marker) => (window as unknown as Record<string, unknown>)[marker],
      INJECTION_MARKER,
    );
    const ran = [...this.dialogs.map((dialog) => `dialog ${dialog}`), ...this.markers];
    if (current !== undefined && this.markers.length === 0) {
      ran.push(`${INJECTION_MARKER} is ${JSON.stringify(current)} on ${this.page.url()}`);
    }
    if (ran.length === 0) return undefined;
    // The test's payload sets the marker twice (a <script> and an onerror): one line for each kind.
    const counted = [...new Set(ran)].map((line) => {
      const times = ran.filter((other) => other === line).length;
      return times > 1 ? `${line} (${times} times)` : line;
    });
    return {
      message: `an injected script ran in the browser: ${counted.join("; ")}.`,
      expected: `no dialog, and window.${INJECTION_MARKER} never set`,
      actual: counted,
    };
  }

  private visibleText(): Promise<string> {
    // biome-ignore lint/performance/useDomNodeTextContent: what the page shows, without script source.
    return this.page.evaluate(() => document.body?.innerText ?? "");
  }
}

/** A screenshot and the HTML of the page as it was when the step failed, in a folder of their own. */
async function saveArtifacts(page: Page, artifactsDir: string): Promise<Record<string, string>> {
  mkdirSync(artifactsDir, { recursive: true });
  const folder = mkdtempSync(path.join(artifactsDir, "browser-"));
  const artifacts: Record<string, string> = {};
  const screenshot = path.join(folder, "screenshot.png");
  try {
    await page.screenshot({ path: screenshot, fullPage: true, timeout: ARTIFACT_TIMEOUT_MS });
    artifacts.screenshot = screenshot;
  } catch {}
  const htmlFile = path.join(folder, "page.html");
  try {
    const html = await within(page.content(), ARTIFACT_TIMEOUT_MS);
    writeFileSync(htmlFile, html);
    artifacts.html = htmlFile;
  } catch {}
  return artifacts;
}

/** `work`, or a StepTimeout after `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      work,
      sleep(ms, undefined, { signal: timer.signal }).then(() => {
        throw new StepTimeout();
      }),
    ]);
  } finally {
    timer.abort();
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? text).trim();
}

function truncate(text: string): string {
  const flat = text.trim();
  return flat.length > TEXT_LIMIT ? `${flat.slice(0, TEXT_LIMIT)}…` : flat;
}
