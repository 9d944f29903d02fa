import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { runtimeError, usageError } from "../errors.js";

const BUNDLE_URL_LINE = /Loading Pyodide bundle from internet; url = (\S+)/;
const BUNDLE_NAME_IN_URL = /\/pyodide_(.+)\.capnp\.bin$/;

/**
 * Which Pyodide bundle workerd loads for these compatibility settings, asked of workerd itself:
 * the choice (the enabled flag with a Python release and the highest ordinal, with flags implied
 * by dates) lives in workerd's compiled compatibility schema. `workerd serve --verbose` with an
 * empty bundle cache logs the bundle URL before it opens any connection; we stop it right there.
 */
export async function bundleNameFromWorkerd(
  binary: string,
  settings: { compatibilityDate: string; compatibilityFlags: string[] },
  timeoutMs = 10_000,
): Promise<{ name: string; url: string }> {
  const { compatibilityDate, compatibilityFlags } = settings;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(compatibilityDate)) {
    throw usageError("config-invalid", `compatibility_date "${compatibilityDate}" is not YYYY-MM-DD.`);
  }
  const flags = compatibilityFlags.filter((flag) => /^[A-Za-z0-9_]+$/.test(flag));
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-workerd-release-"));
  const emptyCache = path.join(dir, "empty-cache");
  try {
    mkdirSync(emptyCache);
    writeFileSync(path.join(dir, "config.capnp"), probeConfig(compatibilityDate, flags));
    const child = execa(
      binary,
      ["serve", "--verbose", `--pyodide-bundle-disk-cache-dir=${emptyCache}`, "config.capnp"],
      { cwd: dir, reject: false, stdin: "ignore", buffer: false, stdout: "ignore", stderr: "pipe" },
    );
    const lines: string[] = [];
    const found = new Promise<string | undefined>((resolve) => {
      if (!child.stderr) return resolve(undefined);
      createInterface({ input: child.stderr })
        .on("line", (line) => {
          lines.push(line);
          const match = BUNDLE_URL_LINE.exec(line);
          if (match) resolve(match[1]);
        })
        // After the last line: workerd exited (or closed stderr) without naming a bundle.
        .on("close", () => resolve(undefined));
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const url = await Promise.race([found, timedOut]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill("SIGKILL");
    await child;
    const name = typeof url === "string" ? BUNDLE_NAME_IN_URL.exec(url)?.[1] : undefined;
    if (typeof url !== "string" || !name) {
      throw runtimeError(
        "pyodide-release-unknown",
        `workerd did not say which Pyodide bundle it needs for compatibility date ${compatibilityDate} and flags [${flags.join(", ")}].`,
        {
          hint: 'Check that the worker sets compatibility_flags = ["python_workers"]; run with --verbose to see workerd\'s output.',
          details: lines.slice(-10),
        },
      );
    }
    return { name, url };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function probeConfig(compatibilityDate: string, flags: string[]): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "probe", worker = (
    modules = [(name = "entry.py", pythonModule = "")],
    compatibilityDate = ${JSON.stringify(compatibilityDate)},
    compatibilityFlags = [${flags.map((flag) => JSON.stringify(flag)).join(", ")}],
  ))],
);
`;
}
