import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { usageError } from "../errors.js";
import { CONFIG_FILE_NAMES, readWorkerConfig, type WorkerConfig } from "./config.js";

/** cfprobe's own folder (holds workers/, fixtures/ and node_modules/). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const BUILTIN_TARGETS = {
  js: path.join(PACKAGE_ROOT, "workers", "js-worker"),
  py: path.join(PACKAGE_ROOT, "workers", "py-worker"),
} as const;

export type BuiltinTarget = keyof typeof BUILTIN_TARGETS;

/** A worker project cfprobe can start, probe or read. */
export interface WorkerTarget {
  /** How the user named it: "js", "py", or the path they gave. */
  label: string;
  /** Worker folder (where the config lives). */
  dir: string;
  config: WorkerConfig;
  runtime: "javascript" | "python";
}

export interface ResolveOptions {
  cwd?: string;
  /** Explicit config file, as --config. */
  configPath?: string;
  env?: string;
}

export function isBuiltinTarget(name: string): name is BuiltinTarget {
  return Object.hasOwn(BUILTIN_TARGETS, name);
}

/** Turns "js", "py", a worker folder or a config file into a WorkerTarget. */
export function resolveTarget(spec: string, options: ResolveOptions = {}): WorkerTarget {
  const cwd = options.cwd ?? process.cwd();
  const configPath = options.configPath
    ? path.resolve(cwd, options.configPath)
    : findConfig(isBuiltinTarget(spec) ? BUILTIN_TARGETS[spec] : path.resolve(cwd, spec), spec);
  const config = readWorkerConfig(configPath, { env: options.env });
  return {
    label: spec,
    dir: config.dir,
    config,
    runtime: config.isPython ? "python" : "javascript",
  };
}

/** Where wrangler keeps local state (D1 and others) when --persist-to is not given. */
export function defaultPersistTo(target: WorkerTarget): string {
  return path.join(target.dir, ".wrangler", "state");
}

/** The worker in `cwd` when there is one, else the built-in JS worker. */
export function defaultTarget(options: ResolveOptions = {}): WorkerTarget {
  const cwd = options.cwd ?? process.cwd();
  if (options.configPath || configIn(cwd)) return resolveTarget(".", options);
  return resolveTarget("js", options);
}

function findConfig(location: string, spec: string): string {
  if (!existsSync(location)) {
    throw usageError("target-unknown", `Unknown target "${spec}": no such file or folder.`, {
      hint: "A target is js, py, a worker folder, or its wrangler.toml / wrangler.json / wrangler.jsonc.",
    });
  }
  if (statSync(location).isFile()) return location;
  const found = configIn(location);
  if (!found) {
    throw usageError("target-no-config", `${location} has no wrangler config.`, {
      hint: `Expected one of ${CONFIG_FILE_NAMES.join(", ")} there, or pass the config file itself.`,
    });
  }
  return found;
}

function configIn(dir: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
