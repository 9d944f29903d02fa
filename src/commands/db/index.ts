import { Command } from "commander";
import { usageError } from "../../errors.js";
import type { RunState } from "../common.js";
import { dbDumpCommand } from "./dump.js";
import { dbLsCommand } from "./ls.js";
import { dbQueryCommand } from "./query.js";

export function dbCommand(state: RunState): Command {
  return new Command("db")
    .description("read the local D1 databases of a worker: list, dump, query (never writes)")
    .addCommand(dbLsCommand(state))
    .addCommand(dbDumpCommand(state))
    .addCommand(dbQueryCommand(state))
    .allowExcessArguments(true)
    .action(function helpOrUnknown(this: Command) {
      if (this.args.length > 0) {
        throw usageError("usage", `Unknown command "db ${this.args[0]}".`, {
          hint: "The db commands are ls, dump and query (`cfprobe db --help`).",
        });
      }
      this.help();
    });
}
