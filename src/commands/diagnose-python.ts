import { Command, Option } from "commander";
import { usageError } from "../errors.js";
import { readProxyEnv, redactText } from "../net/proxy-env.js";
import { defaultTarget, type ResolveOptions, resolveTarget } from "../project/target.js";
import { pyodideCacheRoot } from "../python/cache/location.js";
import { renderDiagnosis } from "../python/diagnose/render.js";
import { diagnosePython } from "../python/diagnose/run.js";
import { requiredPyodideFiles } from "../python/files.js";
import { withInterrupts } from "../signals.js";
import { action, type RunState, secondsOption, withCommonOptions } from "./common.js";

interface DiagnoseOptions {
  timeout: number;
  trial: boolean;
  config?: string;
  env?: string;
}

export function diagnosePythonCommand(state: RunState): Command {
  const command = withCommonOptions(
    new Command("diagnose-python")
      .description("say why a Python worker cannot start here (DNS, proxy, TLS, cache) and how to fix it")
      .argument(
        "[target]",
        "py, a Python worker folder or its wrangler config (default: the worker here, else py)",
      )
      .addOption(
        new Option("--timeout <seconds>", "finish within this, even if every connection hangs")
          .argParser(secondsOption("--timeout"))
          .default(15_000, "15"),
      )
      .option("--no-trial", "skip starting the worker under wrangler dev; probe only")
      .option("-c, --config <file>", "wrangler config to use")
      .option("-e, --env <name>", "wrangler environment to apply"),
  );
  return action<DiagnoseOptions>(command, state, async (args, options, { out, cwd, env }) => {
    const resolveOptions = { cwd, configPath: options.config, env: options.env };
    const target = args[0] ? resolveTarget(args[0], resolveOptions) : pythonTargetHere(resolveOptions);
    if (target.runtime !== "python") {
      throw usageError(
        "not-python-worker",
        `${target.config.path} is not a Python worker (its main is not a .py file).`,
        {
          hint: "Name a Python worker: `cfprobe diagnose-python py` or its folder.",
        },
      );
    }
    // Every string printed passes through this: proxy credentials never leave the process.
    const secrets = readProxyEnv(env).secrets;
    const redact = (text: string) => redactText(text, secrets);

    out.progress(`diagnosing ${target.label} (at most ${Math.round(options.timeout / 1000)} s)…`);
    const diagnosis = await withInterrupts((signal) =>
      diagnosePython(target, {
        timeoutMs: options.timeout,
        trial: options.trial,
        env,
        signal,
        requiredFiles: (worker) => requiredPyodideFiles(worker, { env }),
        cacheRoot: (workerdVersion) => pyodideCacheRoot(workerdVersion, { env, cwd }),
        onLog: (line) => out.debug(redact(`[trial] ${line}`)),
      }),
    );
    out.clearProgress();
    if (out.json) out.resultJson(redactDeep(diagnosis, redact));
    else out.result(redact(renderDiagnosis(diagnosis, out.style)));
    return diagnosis.ok ? 0 : 1;
  });
}

/** The worker in the current folder (or --config) when it is a Python one, else the bundled `py`. */
function pythonTargetHere(options: ResolveOptions) {
  const here = defaultTarget(options);
  return here.runtime === "python" || options.configPath ? here : resolveTarget("py", options);
}

function redactDeep<T>(value: T, redact: (text: string) => string): T {
  return JSON.parse(JSON.stringify(value), (_key, item) =>
    typeof item === "string" ? redact(item) : item,
  ) as T;
}
