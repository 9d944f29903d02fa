import { Command } from "commander";
import { formatBytes } from "../../output/format.js";
import { pyodideCacheBase, pyodideCacheRoot } from "../../python/cache/location.js";
import { clearCaches, inspectCache, listCaches } from "../../python/cache/store.js";
import { requiredPyodideFiles } from "../../python/files.js";
import { resolvePythonTarget } from "../../python/target.js";
import { action, type RunState, withCommonOptions } from "../common.js";

interface CacheOptions {
  cacheDir?: string;
  target?: string;
  workerdVersion?: string;
}

const CACHE_DIR_HELP = "cache folder (default: $CFPROBE_PYODIDE_CACHE, else ~/.cache/cfprobe/pyodide)";

export function pythonCacheCommand(state: RunState): Command {
  const ls = withCommonOptions(
    new Command("ls")
      .description("list the cached files, and which files the installed workerd still lacks")
      .option("-t, --target <target>", "Python worker to check (default: the worker here, else py)")
      .option("--cache-dir <dir>", CACHE_DIR_HELP),
  );
  action<CacheOptions>(ls, state, async (_args, options, { out, cwd, env }) => {
    const base = pyodideCacheBase({ cacheDir: options.cacheDir, env, cwd });
    const caches = await listCaches(base);
    const required = await requiredPyodideFiles(resolvePythonTarget(options.target, { cwd }), { env });
    const root = pyodideCacheRoot(required.workerdVersion, { cacheDir: options.cacheDir, env, cwd });
    const states = await inspectCache(root, required.files);
    const ready = states.every((file) => file.state === "valid" || file.state === "unverified");
    if (out.json) {
      out.resultJson({
        ok: true,
        base,
        caches,
        current: {
          workerdVersion: required.workerdVersion,
          path: root,
          ready,
          files: states.map(({ name, state, size, path }) => ({ name, state, size, path })),
        },
      });
      return 0;
    }
    for (const cache of caches) {
      out.result(
        `${cache.workerdVersion}  ${cache.files.length} file${cache.files.length === 1 ? "" : "s"}  ${formatBytes(cache.bytes)}  ${cache.path}`,
      );
    }
    if (caches.length === 0) out.info(`No Pyodide cache in ${base}.`);
    out.log(`workerd ${required.workerdVersion} (installed) needs:`);
    for (const file of states) out.log(`  ${file.state.padEnd(10)} ${file.name}`);
    out.info(
      ready ? "Ready: Python workers start from this cache." : "Run `cfprobe python fetch` to fill it.",
    );
    return 0;
  });

  const clear = withCommonOptions(
    new Command("clear")
      .description("remove cached Pyodide files (all workerd versions unless --workerd-version)")
      .option("--workerd-version <version>", "only the cache of this workerd version")
      .option("--cache-dir <dir>", CACHE_DIR_HELP),
  );
  action<CacheOptions>(clear, state, async (_args, options, { out, cwd, env }) => {
    const base = pyodideCacheBase({ cacheDir: options.cacheDir, env, cwd });
    const removed = await clearCaches(base, options.workerdVersion);
    if (out.json) {
      out.resultJson({
        ok: true,
        base,
        removed: removed.map(({ workerdVersion, path, bytes }) => ({ workerdVersion, path, bytes })),
      });
      return 0;
    }
    for (const cache of removed)
      out.result(`removed  ${cache.workerdVersion}  ${formatBytes(cache.bytes)}  ${cache.path}`);
    if (removed.length === 0) out.info(`Nothing to remove in ${base}.`);
    return 0;
  });

  return new Command("cache")
    .description("list or clear cfprobe's Pyodide cache")
    .addCommand(ls)
    .addCommand(clear);
}
