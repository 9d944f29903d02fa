import { writeFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { ExitCode, usageError } from "../errors.js";
import { checkLine, checkReportJson, renderCheckReport } from "../output/check-report.js";
import { renderJunit } from "../output/junit.js";
import { checkTarget, checkUrl, type TargetReport } from "../probe/check.js";
import { DEFAULT_SUITE, loadSuite } from "../probe/suite.js";
import { resolveTarget, type WorkerTarget } from "../project/target.js";
import { withInterrupts } from "../signals.js";
import { action, type RunState, secondsOption, withCommonOptions } from "./common.js";

interface CheckOptions {
  suite?: string;
  url?: string;
  persistTo?: string;
  serial?: boolean;
  timeout: number;
  junit?: string;
  artifactsDir: string;
  requireBrowser?: boolean;
  chromium?: string;
  config?: string;
  env?: string;
}

export function checkCommand(state: RunState): Command {
  const command = withCommonOptions(
    new Command("check")
      .description("start workers, run a check suite against them, and report")
      .argument("[targets...]", "js, py, a worker folder or its wrangler config (default: js py)")
      .option(
        "-s, --suite <file>",
        "suite file (JSON or YAML); default: the route contract of the bundled workers",
      )
      .option("--url <url>", "check a worker that is already running or deployed (no start, no restart)")
      .option("--persist-to <dir>", "keep local state here instead of a fresh temporary folder")
      .option("--serial", "check targets one after another instead of in parallel")
      .option("--timeout <seconds>", "how long each start may take", secondsOption("--timeout"), 60_000)
      .option("--junit <file>", "also write a JUnit XML report")
      .option("--artifacts-dir <dir>", "where failed browser steps save screenshots", ".cfprobe/artifacts")
      .option("--require-browser", "fail browser steps instead of skipping them when no Chromium is found")
      .option(
        "--chromium <path>",
        "Chromium for browser steps (default: $CFPROBE_CHROMIUM, then chromium on PATH)",
      )
      .option("-c, --config <file>", "wrangler config to use (single target)")
      .option("-e, --env <name>", "wrangler environment to apply"),
  );
  return action<CheckOptions>(command, state, async (args, options, { out, cwd }) => {
    const suite = loadSuite(path.resolve(cwd, options.suite ?? DEFAULT_SUITE));
    const resolveOptions = { cwd, configPath: options.config, env: options.env };
    if (options.url && args.length > 1) {
      throw usageError("url-one-target", "--url checks one worker; give at most one target with it.");
    }
    if (options.url && !/^https?:\/\/[^/]+/.test(options.url)) {
      throw usageError("url-invalid", `--url ${options.url} is not an http(s) URL.`, {
        hint: "For example --url http://127.0.0.1:8787",
      });
    }
    const specs = args.length ? args : options.url ? [] : ["js", "py"];
    const targets = specs.map((spec) => resolveTarget(spec, resolveOptions));
    const artifactsDir = path.resolve(cwd, options.artifactsDir);
    const labelWidth = Math.max(0, ...targets.map((target) => target.label.length));

    const reports = await withInterrupts(async (signal) => {
      const common = {
        artifactsDir,
        requireBrowser: Boolean(options.requireBrowser),
        chromium: options.chromium ? path.resolve(cwd, options.chromium) : undefined,
        verbose: out.verbose,
        signal,
      };
      if (options.url) {
        return [
          await checkUrl(options.url, suite, { ...common, persistTo: options.persistTo, target: targets[0] }),
        ];
      }
      const one = (target: WorkerTarget): Promise<TargetReport> => {
        const prefix = out.logStyle.cyan(`[${target.label.padEnd(labelWidth)}]`);
        out.info(`${target.label}: starting ${target.config.name ?? target.dir}`);
        return checkTarget(target, suite, {
          ...common,
          persistTo: options.persistTo,
          timeoutMs: options.timeout,
          onLog: out.verbose ? (line) => out.debug(`${prefix} ${line}`) : undefined,
          // Live lines only on a terminal: in a log they would repeat the report on stdout.
          onCheck: out.isStderrTty
            ? (check) => out.log(`${prefix} ${checkLine(out.logStyle, check)}`)
            : undefined,
        });
      };
      if (options.serial) {
        const done: TargetReport[] = [];
        for (const target of targets) done.push(await one(target));
        return done;
      }
      return Promise.all(targets.map(one));
    });

    if (options.junit) writeFileSync(path.resolve(cwd, options.junit), renderJunit(reports));
    if (out.json) out.resultJson(checkReportJson(reports));
    else renderCheckReport(out, reports);
    return reports.every((report) => report.status === "passed") ? ExitCode.ok : ExitCode.failed;
  });
}
