import { type Command, InvalidArgumentError } from "commander";
import { Output, type OutputStreams } from "../output/output.js";

export interface CommonOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** What every command handler receives besides its own arguments. */
export interface CommandContext {
  out: Output;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export type Handler<O> = (args: string[], options: O & CommonOptions, ctx: CommandContext) => Promise<number>;

/** Adds --json, --quiet and --verbose, which every command has. */
export function withCommonOptions(command: Command): Command {
  return command
    .option("--json", "print one JSON document on stdout (errors included)")
    .option("-q, --quiet", "print results only, no logs or progress")
    .option("--verbose", "more logs; stack traces for unexpected errors");
}

/** The shared state between src/cli.ts and the handler it runs. */
export interface RunState {
  streams: OutputStreams;
  cwd: string;
  exitCode?: number;
  output?: Output;
  /** Set by commands that stream child logs to stderr, so an error does not repeat their tail. */
  logsStreamed?: boolean;
}

/** Wires a handler to a commander command; the exit code travels back through `state`. */
export function action<O>(command: Command, state: RunState, handler: Handler<O>): Command {
  return command.action(async (...received: unknown[]) => {
    const cmd = received.at(-1) as Command;
    const options = cmd.opts() as O & CommonOptions;
    const out = new Output(state.streams, {
      json: Boolean(options.json),
      quiet: Boolean(options.quiet),
      verbose: Boolean(options.verbose),
    });
    state.output = out;
    const args = cmd.args;
    state.exitCode = await handler(args, options, { out, cwd: state.cwd, env: state.streams.env });
  });
}

/** commander parser for a whole number in [min, max]. */
export function integerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return parsed;
  };
}

/** commander parser for seconds (decimals allowed), returned in milliseconds. */
export function secondsOption(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) {
      throw new InvalidArgumentError(`${name} must be a positive number of seconds.`);
    }
    return Math.round(parsed * 1000);
  };
}
