import { Command } from "commander";
import { displayProxy, proxyFor, readProxyEnv } from "../../net/proxy-env.js";
import { formatBytes } from "../../output/format.js";
import { pyodideCacheRoot } from "../../python/cache/location.js";
import { fetchFiles } from "../../python/fetch.js";
import { requiredPyodideFiles } from "../../python/files.js";
import { resolvePythonTarget } from "../../python/target.js";
import { withInterrupts } from "../../signals.js";
import { action, integerOption, type RunState, secondsOption, withCommonOptions } from "../common.js";

interface FetchOptions {
  printUrls?: boolean;
  out?: string;
  cacheDir?: string;
  config?: string;
  env?: string;
  attempts: number;
  timeout: number;
}

export function pythonFetchCommand(state: RunState): Command {
  const command = withCommonOptions(
    new Command("fetch")
      .description(
        "download the Pyodide bundle and stdlib packages the installed workerd needs, through your proxy",
      )
      .argument(
        "[target]",
        "py, a Python worker folder or its wrangler config (default: the worker here, else py)",
      )
      .option("--print-urls", "only list the URLs (with --json: a manifest with integrity values)")
      .option("--out <dir>", "download into this folder (to carry to another machine) instead of the cache")
      .option(
        "--cache-dir <dir>",
        "cache folder (default: $CFPROBE_PYODIDE_CACHE, else ~/.cache/cfprobe/pyodide)",
      )
      .option("--attempts <n>", "tries per file", integerOption("--attempts", 1, 10), 3)
      .option(
        "--timeout <seconds>",
        "give up on a silent connection after this long",
        secondsOption("--timeout"),
        30_000,
      )
      .option("-c, --config <file>", "wrangler config to use")
      .option("-e, --env <name>", "wrangler environment to apply"),
  );
  return action<FetchOptions>(command, state, async (args, options, { out, cwd, env }) => {
    const target = resolvePythonTarget(args[0], { cwd, configPath: options.config, env: options.env });
    const required = await requiredPyodideFiles(target, { env });
    if (options.printUrls) {
      if (out.json) out.resultJson({ ok: true, ...required });
      else for (const file of required.files) out.result(file.url);
      return 0;
    }
    const destination = options.out
      ? { outDir: options.out }
      : { root: pyodideCacheRoot(required.workerdVersion, { cacheDir: options.cacheDir, env, cwd }) };
    const proxy = proxyFor(new URL(required.files[0]?.url ?? "https://x/"), readProxyEnv(env));
    out.info(
      `workerd ${required.workerdVersion} needs Pyodide ${required.pyodideVersion}: ${required.files.length} files, ${proxy ? `through ${displayProxy(proxy)}` : "connecting directly (no proxy set)"}.`,
    );
    const report = await withInterrupts((signal) =>
      fetchFiles(required.files, destination, {
        env,
        attempts: options.attempts,
        timeoutMs: options.timeout,
        signal,
        onProgress: (file, received, total) =>
          out.progress(`${file.name}  ${formatBytes(received)}${total ? ` / ${formatBytes(total)}` : ""}`),
        onRetry: (file, attempt, reason) => {
          out.clearProgress();
          out.warn(`${file.name}: ${reason}; try ${attempt} of ${options.attempts}.`);
        },
      }),
    );
    out.clearProgress();
    for (const entry of report) {
      if (!entry.verified)
        out.warn(`${entry.name}: workerd publishes no integrity for it; saved unverified.`);
    }
    const where = "root" in destination ? destination.root : destination.outDir;
    if (out.json) {
      out.resultJson({
        ok: true,
        workerdVersion: required.workerdVersion,
        destination: where,
        files: report,
      });
      return 0;
    }
    for (const entry of report)
      out.result(`${entry.status.padEnd(10)}  ${formatBytes(entry.bytes).padStart(9)}  ${entry.name}`);
    const downloaded = report.filter((entry) => entry.status === "downloaded").length;
    out.info(
      `${report.length} files in ${where} (${downloaded} downloaded, ${report.length - downloaded} already there).`,
    );
    if ("outDir" in destination)
      out.info(`Carry that folder over, then run \`cfprobe python import ${where}\` there.`);
    return 0;
  });
}
