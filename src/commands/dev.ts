import { Command } from "commander";
import { defaultTarget, resolveTarget } from "../project/target.js";
import { parseRuntime, type RuntimeChoice } from "../runtime.js";
import { withInterrupts } from "../signals.js";
import { planPorts, startWorkers, superviseUntilStopped } from "../wrangler/session.js";
import { action, integerOption, type RunState, secondsOption, withCommonOptions } from "./common.js";

interface DevOptions {
  port?: number;
  persistTo?: string;
  timeout: number;
  config?: string;
  env?: string;
  runtime: RuntimeChoice;
}

export function devCommand(state: RunState): Command {
  const command = withCommonOptions(
    new Command("dev")
      .description("start workers under wrangler dev and supervise them until Ctrl-C")
      .argument(
        "[targets...]",
        "js, py, a worker folder or its wrangler config (default: the worker here, else js)",
      )
      .option(
        "-p, --port <port>",
        "port for a single target; 0 picks a free one",
        integerOption("--port", 0, 65535),
      )
      .option("--persist-to <dir>", "where D1 and other local state live (default: <worker>/.wrangler/state)")
      .option(
        "--timeout <seconds>",
        "how long to wait for the worker to answer HTTP",
        secondsOption("--timeout"),
        60_000,
      )
      .option("-c, --config <file>", "wrangler config to use (single target)")
      .option("-e, --env <name>", "wrangler environment to apply")
      .option(
        "--runtime <runtime>",
        "workerd, pyodide (Python workers on Pyodide in Node, offline) or auto",
        parseRuntime,
        "workerd",
      ),
  );
  return action<DevOptions>(command, state, async (args, options, { out, cwd }) => {
    const resolveOptions = { cwd, configPath: options.config, env: options.env };
    const targets = args.length
      ? args.map((spec) => resolveTarget(spec, resolveOptions))
      : [defaultTarget(resolveOptions)];
    const ports = planPorts(targets, options.port);
    const labelWidth = Math.max(...targets.map((target) => target.label.length));

    state.logsStreamed = !out.quiet;
    return withInterrupts(async (signal) => {
      const workers = await startWorkers(targets, (target, index) => ({
        port: ports[index] ?? 0,
        persistTo: options.persistTo,
        timeoutMs: options.timeout,
        runtime: options.runtime,
        verbose: Boolean(options.verbose),
        signal,
        onNotice: (message) => out.warn(message),
        onLog: (line) => out.log(`${out.logStyle.cyan(`[${target.label.padEnd(labelWidth)}]`)} ${line}`),
        onReclaimed: (runs) =>
          out.warn(
            `${target.label}: stopped ${runs.reduce((sum, run) => sum + run.stopped, 0)} process(es) left running by an earlier cfprobe that was killed.`,
          ),
      }));
      for (const worker of workers) {
        const { target, url, port, pid, persistTo } = worker;
        const runtime = worker.runtime ?? "workerd";
        if (out.json) out.resultJson({ target: target.label, url, port, pid, persistTo, runtime }, false);
        else {
          const on = runtime === "workerd" ? "" : `  (${runtime})`;
          out.result(`${out.style.green("ready")}  ${target.label.padEnd(labelWidth)}  ${url}${on}`);
        }
      }
      out.info("Press Ctrl-C to stop.");
      return superviseUntilStopped(workers, signal);
    });
  });
}
