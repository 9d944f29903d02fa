import { Command } from "commander";
import type { RunState } from "../common.js";
import { pythonCacheCommand } from "./cache.js";
import { pythonFetchCommand } from "./fetch.js";
import { pythonImportCommand } from "./import.js";

export function pythonCommand(state: RunState): Command {
  return new Command("python")
    .description("fill workerd's Pyodide caches so Python workers start behind a proxy or offline")
    .addCommand(pythonFetchCommand(state))
    .addCommand(pythonImportCommand(state))
    .addCommand(pythonCacheCommand(state));
}
