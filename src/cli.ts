import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import type { RunState } from "./commands/common.js";
import { CfprobeError, ExitCode, errorToJson } from "./errors.js";
import { Output, type OutputStreams } from "./output/output.js";
import { PACKAGE_ROOT } from "./project/target.js";

/**
 * Each command's module is imported only when that command runs (all of them for help), so a
 * quick command such as `cfprobe db ls` does not pay for loading undici and execa.
 */
const COMMANDS: Record<string, () => Promise<(state: RunState) => Command>> = {
  dev: async () => (await import("./commands/dev.js")).devCommand,
  check: async () => (await import("./commands/check.js")).checkCommand,
  db: async () => (await import("./commands/db/index.js")).dbCommand,
  python: async () => (await import("./commands/python/index.js")).pythonCommand,
  "diagnose-python": async () => (await import("./commands/diagnose-python.js")).diagnosePythonCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, "utf8")) as { version: string };
  return pkg.version;
}

export async function buildProgram(state: RunState, argv: string[] = []): Promise<Command> {
  const program = new Command("cfprobe")
    .description("Develop and check Cloudflare Workers locally: offline, behind a proxy, or neither.")
    .version(version(), "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => state.streams.stdout.write(text),
      // Parse errors are reported by main() in the same shape as every other error.
      writeErr: () => {},
    });
  const first = argv[0];
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  for (const name of names) {
    const make = await COMMANDS[name]!();
    program.addCommand(inheritSettings(make(state), program));
  }
  return program;
}

/** addCommand() does not pass these down, and a command group's subcommands need them too. */
function inheritSettings(command: Command, program: Command): Command {
  command.exitOverride().configureOutput(program.configureOutput());
  for (const sub of command.commands) inheritSettings(sub, program);
  return command;
}

/**
 * Runs cfprobe with `argv` (without node and script) and returns the exit code. This is the only
 * place where an error becomes an exit code; nothing here calls process.exit.
 */
export async function main(
  argv: string[],
  streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr, env: process.env },
  cwd = process.cwd(),
): Promise<number> {
  const state: RunState = { streams, cwd };
  try {
    await (await buildProgram(state, argv)).parseAsync(argv, { from: "user" });
    return state.exitCode ?? ExitCode.ok;
  } catch (error) {
    const out =
      state.output ??
      new Output(streams, {
        json: argv.includes("--json"),
        quiet: false,
        verbose: argv.includes("--verbose"),
      });
    return reportError(toCfprobeError(error), error, out, Boolean(state.logsStreamed));
  }
}

function toCfprobeError(error: unknown): CfprobeError | undefined {
  if (error instanceof CfprobeError) return error;
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return undefined;
    return new CfprobeError("usage", error.message.replace(/^error: /, ""), ExitCode.usage, {
      hint: "Run `cfprobe --help` or `cfprobe <command> --help` for usage.",
    });
  }
  return undefined;
}

function reportError(
  known: CfprobeError | undefined,
  original: unknown,
  out: Output,
  logsStreamed: boolean,
): number {
  if (!known && original instanceof CommanderError) return ExitCode.ok;
  const error =
    known ??
    new CfprobeError(
      "internal",
      `Unexpected failure: ${(original as Error)?.message ?? String(original)}`,
      ExitCode.internal,
      {
        hint: "Run again with --verbose for the stack trace, and report it if it persists.",
      },
    );
  if (out.json) {
    out.resultJson({ ok: false, error: errorToJson(error) }, false);
  } else if (error.code !== "interrupted") {
    if (!logsStreamed) for (const line of error.details) out.log(out.logStyle.dim(`  ${line}`));
    out.error(error.message);
    if (error.hint) out.log(`${out.logStyle.cyan("hint:")} ${error.hint}`);
  }
  if (out.verbose && original instanceof Error && original.stack) out.log(out.logStyle.gray(original.stack));
  return error.exitCode;
}
