import { Command } from "commander";
import { summarizeDatabase } from "../../d1/inspect.js";
import { fileDatabase } from "../../d1/locate.js";
import { usageError } from "../../errors.js";
import { action, type RunState, withCommonOptions } from "../common.js";
import { type Listing, renderSummaries } from "./render.js";
import { type SourceOptions, withSourceOptions, workerState } from "./source.js";

export function dbLsCommand(state: RunState): Command {
  const command = withSourceOptions(
    withCommonOptions(
      new Command("ls")
        .description("list the worker's D1 databases: binding, file, size, tables and row counts")
        .argument("[target]", "js, py, a worker folder or its wrangler config (same as --target)"),
    ),
  );
  return action<SourceOptions>(command, state, async (args, options, ctx) => {
    if (options.file) {
      const summary = summarizeDatabase({ ...fileDatabase(options.file, ctx.cwd), exists: true });
      return render({ databases: [summary], unmatched: [] });
    }
    const {
      target,
      persistTo,
      state: d1,
    } = workerState({ ...options, target: args[0] ?? options.target }, ctx);
    if (!d1.databases.some((db) => db.exists) && d1.unmatched.length === 0 && !d1.metadataFile) {
      throw usageError("d1-state-missing", `No local D1 files for ${target.config.path} in ${d1.dir}.`, {
        details: d1.databases.map((db) => `expected ${db.binding} at ${db.file}`),
        hint: `Run the worker once so it creates its databases (\`cfprobe dev ${target.label}\`), or point --persist-to at the folder wrangler used.`,
        data: { persistTo },
      });
    }
    return render({
      dir: d1.dir,
      config: target.config.path,
      databases: d1.databases.map(summarizeDatabase),
      unmatched: d1.unmatched.map(summarizeDatabase),
      metadataFile: d1.metadataFile,
    });
  });

  function render(listing: Listing) {
    const out = state.output!;
    if (out.json) out.resultJson({ ok: true, ...listing });
    else renderSummaries(out, listing);
    return 0;
  }
}
