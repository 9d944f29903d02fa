import { Command } from "commander";
import { type DumpFormat, dumpDatabase } from "../../d1/dump.js";
import { ROW_FORMATS } from "../../d1/formats.js";
import { openReadOnly } from "../../d1/open.js";
import { action, type RunState, withCommonOptions } from "../common.js";
import { chosenFormat, collect, emit, formatOption } from "./emit.js";
import { chosenDatabase, type SourceOptions, withSourceOptions } from "./source.js";

interface DumpCommandOptions extends SourceOptions {
  format?: DumpFormat;
  table?: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  includeInternal?: boolean;
  output?: string;
}

export function dbDumpCommand(state: RunState): Command {
  const command = withSourceOptions(
    withCommonOptions(
      new Command("dump")
        .description("dump a local D1 database as SQL (loads with sqlite3), JSON, NDJSON, CSV or a table")
        .argument("[db]", "binding or database_name (default: the only one)")
        .option(
          "-f, --format <format>",
          "sql (default), json, ndjson, csv or table; --json means json",
          formatOption(["sql", ...ROW_FORMATS] as const),
        )
        .option("--table <name>", "only this table (repeatable)", collect)
        .option("--schema-only", "SQL: the schema without rows")
        .option("--data-only", "SQL: the rows without the schema")
        .option("--include-internal", "include the runtime's _cf_* tables")
        .option("-o, --output <file>", "write to this file (it appears only when the dump is complete)"),
    ),
  );
  return action<DumpCommandOptions>(command, state, async (args, options, ctx) => {
    const format = chosenFormat(options.format, options.json, "sql");
    const located = chosenDatabase(args[0], options, ctx);
    const handle = openReadOnly(located.file);
    try {
      const stats = await emit(ctx.out, options.output, ctx.cwd, (writer, onRows) =>
        dumpDatabase(handle.db, located.file, writer, {
          format,
          tables: options.table,
          schemaOnly: options.schemaOnly,
          dataOnly: options.dataOnly,
          includeInternal: options.includeInternal,
          onRows,
        }),
      );
      if (stats) {
        const where = options.output ? ` to ${options.output}` : "";
        ctx.out.info(
          `dumped ${stats.tables.length} table(s), ${stats.rows} row(s) from ${located.file}${where}`,
        );
      }
      return 0;
    } finally {
      handle.close();
    }
  });
}
