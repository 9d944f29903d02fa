import { createRequire } from "node:module";
import path from "node:path";
import { missingError } from "../errors.js";

/** The workerd that `wrangler dev` runs: the one miniflare depends on, not whatever is on PATH. */
export interface InstalledWorkerd {
  /** npm version, for example "1.20260426.1". */
  version: string;
  /** Absolute path of the real binary (inside @cloudflare/workerd-<platform>). */
  binary: string;
  /** Newest compatibility date it supports. */
  compatibilityDate: string;
}

interface WorkerdModule {
  default: string;
  version: string;
  compatibilityDate: string;
}

let installed: InstalledWorkerd | undefined;

export function installedWorkerd(): InstalledWorkerd {
  if (installed) return installed;
  try {
    // Resolve through wrangler -> miniflare -> workerd, as wrangler itself does at run time.
    const fromHere = createRequire(import.meta.url);
    const fromWrangler = createRequire(fromHere.resolve("wrangler/package.json"));
    const fromMiniflare = createRequire(fromWrangler.resolve("miniflare/package.json"));
    const workerd = fromMiniflare("workerd") as WorkerdModule;
    installed = {
      version: workerd.version,
      binary: path.resolve(workerd.default),
      compatibilityDate: workerd.compatibilityDate,
    };
    return installed;
  } catch (error) {
    throw missingError("workerd-missing", "Cannot find the workerd that wrangler runs.", {
      hint: "Reinstall cfprobe's dependencies with `npm ci`.",
      cause: error,
    });
  }
}
