import path from "node:path";
import type { Command } from "commander";
import {
  type D1State,
  fileDatabase,
  type LocatedDatabase,
  locateDatabases,
  pickDatabase,
} from "../../d1/locate.js";
import { usageError } from "../../errors.js";
import { defaultPersistTo, defaultTarget, resolveTarget, type WorkerTarget } from "../../project/target.js";
import type { CommandContext } from "../common.js";

/** Options shared by every `db` command: which worker, which state folder, or a file. */
export interface SourceOptions {
  target?: string;
  config?: string;
  env?: string;
  persistTo?: string;
  file?: string;
}

export function withSourceOptions(command: Command): Command {
  return command
    .option(
      "-t, --target <target>",
      "js, py, a worker folder or its wrangler config (default: the worker here, else js)",
    )
    .option("-c, --config <file>", "wrangler config to read")
    .option("-e, --env <name>", "wrangler environment (its d1_databases)")
    .option("--persist-to <dir>", "local state folder (default: <worker>/.wrangler/state, as wrangler)")
    .option("--file <path>", "read this SQLite file directly; no config needed");
}

export interface WorkerState {
  target: WorkerTarget;
  persistTo: string;
  state: D1State;
}

/** The worker and its D1 folder, as `cfprobe dev` would use them. */
export function workerState(options: SourceOptions, ctx: CommandContext): WorkerState {
  const resolveOptions = { cwd: ctx.cwd, configPath: options.config, env: options.env };
  const target = options.target
    ? resolveTarget(options.target, resolveOptions)
    : defaultTarget(resolveOptions);
  const persistTo = options.persistTo ? path.resolve(ctx.cwd, options.persistTo) : defaultPersistTo(target);
  return { target, persistTo, state: locateDatabases(target, persistTo) };
}

/** The one database a dump or query reads: `--file`, or a binding / database_name of the worker. */
export function chosenDatabase(
  name: string | undefined,
  options: SourceOptions,
  ctx: CommandContext,
): LocatedDatabase {
  if (options.file) {
    if (name !== undefined) throw usageError("usage", "Give either --file or a database name, not both.");
    return fileDatabase(options.file, ctx.cwd);
  }
  const { target, state } = workerState(options, ctx);
  return pickDatabase(state, name, target.config.path);
}
