import { Command } from "commander";
import { importFiles } from "../../python/cache/import.js";
import { pyodideCacheRoot } from "../../python/cache/location.js";
import { requiredPyodideFiles } from "../../python/files.js";
import { resolvePythonTarget } from "../../python/target.js";
import { action, type RunState, withCommonOptions } from "../common.js";

interface ImportOptions {
  target?: string;
  cacheDir?: string;
  config?: string;
  env?: string;
}

export function pythonImportCommand(state: RunState): Command {
  const command = withCommonOptions(
    new Command("import")
      .description(
        "place files carried from another machine (`python fetch --out DIR`) into the cache, checked",
      )
      .argument("<files...>", "the files, or the folder holding them")
      .option(
        "-t, --target <target>",
        "Python worker whose files these are (default: the worker here, else py)",
      )
      .option(
        "--cache-dir <dir>",
        "cache folder (default: $CFPROBE_PYODIDE_CACHE, else ~/.cache/cfprobe/pyodide)",
      )
      .option("-c, --config <file>", "wrangler config to use")
      .option("-e, --env <name>", "wrangler environment to apply"),
  );
  return action<ImportOptions>(command, state, async (args, options, { out, cwd, env }) => {
    const target = resolvePythonTarget(options.target, { cwd, configPath: options.config, env: options.env });
    const required = await requiredPyodideFiles(target, { env });
    const root = pyodideCacheRoot(required.workerdVersion, { cacheDir: options.cacheDir, env, cwd });
    const imported = await importFiles(root, required.files, args);
    const missing = required.files.filter((file) => !imported.some((entry) => entry.file.name === file.name));
    if (out.json) {
      out.resultJson({
        ok: true,
        cache: root,
        imported: imported.map((entry) => ({
          name: entry.file.name,
          path: entry.path,
          verified: entry.verified,
        })),
        stillMissing: missing.map((file) => file.name),
      });
      return 0;
    }
    for (const entry of imported) out.result(`imported  ${entry.file.name}`);
    out.info(`${imported.length} files placed in ${root}.`);
    if (missing.length > 0)
      out.warn(
        `Still not imported (the cache may hold them already): ${missing.map((file) => file.name).join(", ")}.`,
      );
    return 0;
  });
}
