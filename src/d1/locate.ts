import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { usageError } from "../errors.js";
import type { D1Binding } from "../project/config.js";
import type { WorkerTarget } from "../project/target.js";
import { d1FileNameFor, d1ObjectName, d1StateDir, METADATA_FILE } from "./files.js";

/** One database cfprobe can read: a binding of the config, an unmatched file, or a --file. */
export interface LocatedDatabase {
  /** The config's binding (`DB`); absent for unmatched files and --file. */
  binding?: string;
  databaseName?: string;
  /** The id workerd derived the file name from (preview_database_id ?? database_id ?? binding). */
  id?: string;
  file: string;
  exists: boolean;
}

export interface D1State {
  /** The folder holding the .sqlite files. */
  dir: string;
  databases: LocatedDatabase[];
  /** .sqlite files in the folder that no binding maps to (another config, env or id). */
  unmatched: LocatedDatabase[];
  /** The runtime's alarm scheduler file, when present. */
  metadataFile?: string;
}

/** Maps each D1 binding of a worker to its file under `persistTo`, and lists the files left over. */
export function locateDatabases(target: WorkerTarget, persistTo: string): D1State {
  const dir = d1StateDir(persistTo);
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const databases = target.config.d1Databases.map((binding) => bindingFile(binding, dir));
  const claimed = new Set(databases.map((db) => path.basename(db.file)));
  const unmatched = names
    .filter((name) => name.endsWith(".sqlite") && name !== METADATA_FILE && !claimed.has(name))
    .sort()
    .map((name) => ({ file: path.join(dir, name), exists: true }));
  return {
    dir,
    databases,
    unmatched,
    metadataFile: names.includes(METADATA_FILE) ? path.join(dir, METADATA_FILE) : undefined,
  };
}

function bindingFile(binding: D1Binding, dir: string): LocatedDatabase {
  const id = d1ObjectName(binding);
  const file = path.join(dir, d1FileNameFor(id));
  return { binding: binding.binding, databaseName: binding.databaseName, id, file, exists: existsSync(file) };
}

/** A database given by `--file`, outside any worker. */
export function fileDatabase(file: string, cwd: string): LocatedDatabase {
  const absolute = path.resolve(cwd, file);
  return { file: absolute, exists: existsSync(absolute) && statSync(absolute).isFile() };
}

/**
 * Picks the database a `dump`/`query` is about: by binding, database_name or file name; without
 * a name, the only one there is.
 */
export function pickDatabase(state: D1State, name: string | undefined, configPath: string): LocatedDatabase {
  const all = [...state.databases, ...state.unmatched];
  const known = state.databases.map((db) => db.binding).join(", ") || "none";
  let found: LocatedDatabase | undefined;
  if (name === undefined) {
    const present = state.databases.length > 0 ? state.databases : state.unmatched;
    if (present.length !== 1) {
      throw usageError(
        "d1-database-ambiguous",
        present.length === 0
          ? `${configPath} declares no D1 database and ${state.dir} holds none.`
          : `${configPath} declares ${present.length} D1 databases (${known}); name one.`,
        {
          hint: "Pass a binding or database_name, for example `cfprobe db dump DB`; `cfprobe db ls` lists them.",
        },
      );
    }
    found = present[0];
  } else {
    found =
      state.databases.find((db) => db.binding === name) ??
      state.databases.find((db) => db.databaseName === name) ??
      all.find((db) => path.basename(db.file) === name || path.basename(db.file) === `${name}.sqlite`);
    if (!found) {
      throw usageError("d1-unknown-database", `No D1 database "${name}" in ${configPath}.`, {
        hint: `Bindings there: ${known}. Run \`cfprobe db ls\` to see them and their files.`,
      });
    }
  }
  if (!found.exists) throw missingDatabaseFile(found, state.dir);
  return found;
}

function missingDatabaseFile(db: LocatedDatabase, dir: string) {
  const what = db.binding ? `D1 database ${db.binding} (id ${db.id})` : "The database";
  return usageError(
    "d1-file-missing",
    existsSync(dir)
      ? `${what} has no local file yet: ${db.file} does not exist.`
      : `${what} has no local state: the folder ${dir} does not exist.`,
    {
      hint: "Run the worker so it creates the database (`cfprobe dev`), or pass the right --persist-to / --env.",
    },
  );
}
