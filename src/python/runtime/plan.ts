import { createRequire } from "node:module";
import { CfprobeError, ExitCode, usageError } from "../../errors.js";
import type { WorkerConfig } from "../../project/config.js";
import type { WorkerTarget } from "../../project/target.js";
import { requiredPyodideFiles } from "../files.js";
import { type PythonSources, resolvePythonSources } from "./packages.js";

/** The Pyodide release cfprobe ships (npm `pyodide`), which workerd loads for python_workers_20250116. */
export const BUNDLED_PYODIDE = "0.28.2";

/** From this compatibility date python_workers implies python_workers_20250116 (FACTS.md). */
const PYTHON_20250116_DATE = "2025-09-29";

/**
 * The Pyodide release workerd would load for the worker: asked of the installed workerd (through
 * the same derivation `cfprobe python fetch` uses, cached per workerd version), or, when that
 * workerd cannot be run at all, by the documented rule of pyodideVersionFor.
 */
export async function pyodideReleaseFor(target: WorkerTarget, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    return (await requiredPyodideFiles(target, { env })).pyodideVersion;
  } catch (error) {
    if (error instanceof CfprobeError && error.exitCode === ExitCode.usage) throw error;
    return pyodideVersionFor(target.config) ?? "none";
  }
}

/**
 * The Pyodide release for a worker's compatibility settings by FACTS.md's rule, or undefined when
 * the settings do not make it a Python worker.
 */
export function pyodideVersionFor(config: Pick<WorkerConfig, "compatibilityDate" | "compatibilityFlags">) {
  const flags = new Set(config.compatibilityFlags);
  if (!flags.has("python_workers") && ![...flags].some((flag) => flag.startsWith("python_workers_"))) {
    return undefined;
  }
  if (flags.has("no_python_workers_20250116")) return "0.26.0a2";
  if (flags.has("python_workers_20250116")) return "0.28.2";
  const newer = [...flags].find((flag) => /^python_workers_\d{8}$/.test(flag));
  if (newer) return `newer than 0.28.2 (${newer})`;
  return (config.compatibilityDate ?? "") >= PYTHON_20250116_DATE ? "0.28.2" : "0.26.0a2";
}

export interface PyodidePlan {
  pyodideVersion: string;
  sources: PythonSources;
  d1: { binding: string; id: string }[];
  vars: Record<string, unknown>;
}

/**
 * Checks that the Pyodide runtime can run `target`, which would get Pyodide `wanted` under
 * workerd, and says what it needs; throws a usage error if it cannot.
 */
export function planPyodideRun(target: WorkerTarget, wanted = pyodideVersionFor(target.config)): PyodidePlan {
  const { config } = target;
  if (!config.isPython || !config.main) {
    throw usageError(
      "pyodide-not-python",
      `${target.label}: --runtime pyodide runs Python workers only, and ${config.path} has no .py entry module.`,
      { hint: "Use --runtime workerd (the default) for JavaScript workers." },
    );
  }
  if (pyodideVersionFor(config) === undefined) {
    throw usageError(
      "pyodide-not-python",
      `${target.label}: ${config.path} lacks the python_workers compatibility flag, so workerd would not run it as Python.`,
      { hint: 'Add compatibility_flags = ["python_workers"] to the wrangler config.' },
    );
  }
  if (wanted !== BUNDLED_PYODIDE || installedPyodide() !== BUNDLED_PYODIDE) {
    throw usageError(
      "pyodide-version-unsupported",
      `${target.label}: its compatibility settings (date ${config.compatibilityDate ?? "unset"}, flags ${config.compatibilityFlags.join(", ")}) select Pyodide ${wanted}, but cfprobe's Pyodide runtime is ${installedPyodide()}.`,
      {
        hint: `Set compatibility_date >= ${PYTHON_20250116_DATE} (or add the python_workers_20250116 flag), or run it under workerd with --runtime workerd.`,
        data: { wanted, available: installedPyodide() },
      },
    );
  }
  const unsupported = config.otherBindings[0];
  if (unsupported) {
    const named = unsupported.name ? `env.${unsupported.name} (${unsupported.kind})` : unsupported.kind;
    throw usageError(
      "pyodide-binding-unsupported",
      `${target.label}: the Pyodide runtime cannot provide the binding ${named}; it provides D1 databases and vars.`,
      {
        hint: "Run this worker under workerd with --runtime workerd, or remove the binding from the wrangler config.",
        data: { bindings: config.otherBindings },
      },
    );
  }
  return {
    pyodideVersion: BUNDLED_PYODIDE,
    sources: resolvePythonSources(target.dir, config.main),
    // wrangler names the local database by its preview id, else its id, else the binding (FACTS.md).
    d1: config.d1Databases.map((db) => ({
      binding: db.binding,
      id: db.previewDatabaseId ?? db.databaseId ?? db.binding,
    })),
    vars: config.vars,
  };
}

let installed: string | undefined;
export function installedPyodide(): string {
  installed ??= (createRequire(import.meta.url)("pyodide/package.json") as { version: string }).version;
  return installed;
}
