import { Command } from "commander";
import { ROW_FORMATS, type RowFormat } from "../../d1/formats.js";
import { openReadOnly } from "../../d1/open.js";
import { parseParams, runQuery } from "../../d1/query.js";
import { action, type RunState, withCommonOptions } from "../common.js";
import { chosenFormat, collect, emit, formatOption } from "./emit.js";
import { chosenDatabase, type SourceOptions, withSourceOptions } from "./source.js";

interface QueryCommandOptions extends SourceOptions {
  format?: RowFormat;
  param?: string[];
  output?: string;
}

export function dbQueryCommand(state: RunState): Command {
  const command = withSourceOptions(
    withCommonOptions(
      new Command("query")
        .description("run one read-only SQL statement on a local D1 database")
        .argument("<sql>", "the statement; SQLite refuses writes")
        .argument("[db]", "binding or database_name (default: the only one)")
        .option("-f, --format <format>", "table (default), json, ndjson or csv", formatOption(ROW_FORMATS))
        .option("--param <value>", "bind ? in order, or name=value for :name (repeatable)", collect)
        .option("-o, --output <file>", "write to this file (it appears only when complete)"),
    ),
  );
  return action<QueryCommandOptions>(command, state, async (args, options, ctx) => {
    const [sql, name] = args as [string, string | undefined];
    const located = chosenDatabase(name, options, ctx);
    const format = chosenFormat(options.format, options.json, "table");
    const handle = openReadOnly(located.file);
    try {
      const stats = await emit(ctx.out, options.output, ctx.cwd, (writer) =>
        runQuery(handle.db, located.file, sql, parseParams(options.param ?? []), format, writer),
      );
      if (stats) ctx.out.info(`${stats.rows} row(s)`);
      return 0;
    } finally {
      handle.close();
    }
  });
}
