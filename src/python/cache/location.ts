import { homedir } from "node:os";
import path from "node:path";

/** Environment variable that moves cfprobe's Pyodide cache (as --cache-dir does). */
export const CACHE_ENV = "CFPROBE_PYODIDE_CACHE";

/** cfprobe's folder in the user's cache folder: $XDG_CACHE_HOME/cfprobe, else ~/.cache/cfprobe. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  return path.join(base ?? path.join(env.HOME || homedir(), ".cache"), "cfprobe");
}

/**
 * The folder holding one cache per workerd version: --cache-dir, else $CFPROBE_PYODIDE_CACHE,
 * else <user cache>/cfprobe/pyodide.
 */
export function pyodideCacheBase(options: { cacheDir?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const env = options.env ?? process.env;
  const chosen = options.cacheDir ?? (env[CACHE_ENV] || undefined);
  if (chosen) return path.resolve(options.cwd ?? process.cwd(), chosen);
  return path.join(userCacheDir(env), "pyodide");
}

/** The cache for one workerd version; a PyodideFile's cachePath is relative to it. */
export function pyodideCacheRoot(
  workerdVersion: string,
  options: { cacheDir?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): string {
  return path.join(pyodideCacheBase(options), workerdVersion);
}
