import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { BrowserContext } from "playwright-core";
import { aborted } from "../../signals.js";
import { commandLine, readProcStat, stopProcessGroup } from "../../wrangler/processes.js";

/** Names tried on PATH, in order, when neither an option nor CFPROBE_CHROMIUM names a browser. */
export const CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome"] as const;
export const CHROMIUM_ENV = "CFPROBE_CHROMIUM";
export const CHROMIUM_INSTALL = "sudo apt-get install chromium";

/**
 * Flags that keep Chromium headless and off the network: no sync, no component or background
 * downloads, no QUIC. Playwright adds most of them too; they are listed here so that this promise
 * does not depend on Playwright's defaults.
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

export type ChromiumLookup =
  | {
      found: true;
      /** The binary cfprobe runs. */
      executable: string;
      /** What pointed at it: the option, CFPROBE_CHROMIUM, or the PATH entry. */
      via: string;
    }
  | { found: false; reason: string; hint: string };

/**
 * Finds the system Chromium: an explicit path (option) or CFPROBE_CHROMIUM when set, else the first
 * of CHROMIUM_NAMES on PATH. An explicit path that is missing is reported, not replaced by another
 * browser the user did not choose. cfprobe never downloads a browser.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env, explicit?: string): ChromiumLookup {
  const chosen = explicit ?? env[CHROMIUM_ENV];
  const hint = `Install it with \`${CHROMIUM_INSTALL}\`, or set ${CHROMIUM_ENV} to the path of a Chromium or Chrome binary.`;
  if (chosen) {
    const via = explicit ? "--chromium" : CHROMIUM_ENV;
    if (!isExecutableFile(chosen)) {
      return {
        found: false,
        reason: `No Chromium: ${via} points at ${chosen}, which is not an executable file.`,
        hint,
      };
    }
    return { found: true, executable: unwrapLauncherScript(chosen), via: `${via}=${chosen}` };
  }
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const name of CHROMIUM_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutableFile(candidate)) {
        return { found: true, executable: unwrapLauncherScript(candidate), via: `PATH (${candidate})` };
      }
    }
  }
  return {
    found: false,
    reason: `No Chromium: ${CHROMIUM_ENV} is not set and none of ${CHROMIUM_NAMES.join(", ")} is on PATH.`,
    hint,
  };
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function startsWith(file: string, magic: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const buffer = Buffer.alloc(magic.length);
    readSync(fd, buffer, 0, magic.length, 0);
    return buffer.toString("latin1") === magic;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Distributions install a shell launcher on PATH. Debian's sources /etc/chromium.d, which adds
 * --enable-remote-extensions and Google API keys; running the binary behind it keeps the flags
 * exactly ours. Known layouts: /usr/lib/<name>/<name> (Debian chromium, Ubuntu chromium-browser)
 * and a `chrome` beside the launcher (google-chrome). Any other script is run as it is.
 */
export function unwrapLauncherScript(file: string, libRoot = "/usr/lib"): string {
  const real = realpathSync(file);
  if (!startsWith(real, "#!")) return file;
  const name = path.basename(file);
  const candidates = [path.join(libRoot, name, name), path.join(path.dirname(real), "chrome")];
  return (
    candidates.find((candidate) => isExecutableFile(candidate) && startsWith(candidate, "\x7fELF")) ?? file
  );
}

export interface LaunchedChromium {
  context: BrowserContext;
  userDataDir: string;
  /** Stops Chromium and every process it started, and removes its profile. Safe to call twice. */
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 5000;

/**
 * One Chromium for all the browser steps of a suite run, launched by the first that needs it
 * (about a second saved per later step); each step still gets a page of its own. close() at the
 * end of the run; after close() the next get() launches a new one.
 */
export class SharedChromium {
  private launched?: Promise<LaunchedChromium>;

  get(executable: string, options: { signal: AbortSignal; timeoutMs: number }): Promise<LaunchedChromium> {
    if (!this.launched) {
      const launching = launchChromium(executable, options);
      this.launched = launching;
      launching.catch(() => {
        if (this.launched === launching) this.launched = undefined;
      });
    }
    return this.launched;
  }

  async close(): Promise<void> {
    const launched = this.launched;
    this.launched = undefined;
    await (await launched?.catch(() => undefined))?.close();
  }
}

/**
 * Starts headless Chromium with a fresh profile through Playwright (which puts it in a process
 * group of its own). Aborting `signal` while it starts stops it and throws the signal's reason.
 */
export async function launchChromium(
  executable: string,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<LaunchedChromium> {
  options.signal.throwIfAborted();
  const { chromium } = await import("playwright-core");
  const userDataDir = mkdtempSync(path.join(tmpdir(), "cfprobe-chromium-"));
  const launching = chromium.launchPersistentContext(userDataDir, {
    executablePath: executable,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    timeout: options.timeoutMs,
    // cfprobe turns signals into an abort (src/signals.ts) and stops the browser itself; Playwright's
    // own handlers would exit the process before the worker is stopped.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });

  let closing: Promise<void> | undefined;
  const closeWith = (context: BrowserContext | undefined) => {
    closing ??= (async () => {
      if (context) await Promise.race([context.close().catch(() => {}), sleep(CLOSE_GRACE_MS)]);
      await stopChromiumProcesses(userDataDir);
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return closing;
  };

  const first = await Promise.race([
    launching.then(
      (context) => ({ kind: "launched" as const, context }),
      (error: unknown) => ({ kind: "failed" as const, error }),
    ),
    aborted(options.signal).then(() => ({ kind: "aborted" as const })),
  ]);
  if (first.kind === "launched")
    return { context: first.context, userDataDir, close: () => closeWith(first.context) };
  if (first.kind === "aborted") {
    // Stopping the processes makes the launch fail at once; one that had not spawned yet still
    // resolves later, and is closed then.
    await stopChromiumProcesses(userDataDir);
    const late = await launching.catch(() => undefined);
    await closeWith(late);
    throw options.signal.reason;
  }
  await closeWith(undefined);
  throw first.error;
}

/**
 * Stops the process groups of every process whose command line names this profile folder. The
 * folder is a fresh temporary one, so only the Chromium this run started can match.
 */
async function stopChromiumProcesses(userDataDir: string): Promise<void> {
  const marker = `--user-data-dir=${userDataDir}`;
  const ownGroup = readProcStat(process.pid)?.pgid;
  const groups = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || !commandLine(pid).includes(marker)) continue;
    const stat = readProcStat(pid);
    if (!stat || stat.state === "Z") continue;
    // Playwright starts Chromium as a group leader; should it ever not, stop only that process.
    if (stat.pgid === ownGroup) killQuietly(pid);
    else groups.add(stat.pgid);
  }
  for (const pgid of groups) await stopProcessGroup(pgid, 2000);
}

function killQuietly(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}
