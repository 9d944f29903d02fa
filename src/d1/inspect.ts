import { statSync } from "node:fs";
import { listTables } from "./dump.js";
import type { LocatedDatabase } from "./locate.js";
import { openReadOnly, type ReadStrategy, sqliteFileError } from "./open.js";
import { quoteIdentifier } from "./values.js";

export interface TableSummary {
  name: string;
  rows: number;
}

/** What `db ls` shows for one database file. */
export interface DatabaseSummary extends LocatedDatabase {
  /** Bytes of the .sqlite plus its -wal (where recent writes live until a checkpoint). */
  sizeBytes?: number;
  walBytes?: number;
  /** Latest modification of the .sqlite or its -wal, ISO 8601. */
  modified?: string;
  tables?: TableSummary[];
  /** How many runtime `_cf_*` tables were left out. */
  internalTables?: number;
  strategy?: ReadStrategy;
}

/** Sizes, times and row counts of one database, read without changing any of its files. */
export function summarizeDatabase(located: LocatedDatabase): DatabaseSummary {
  if (!located.exists) return { ...located };
  const handle = openReadOnly(located.file);
  try {
    const main = statSync(located.file);
    const wal = statSync(`${located.file}-wal`, { throwIfNoEntry: false });
    const modified = Math.max(main.mtimeMs, wal?.mtimeMs ?? 0);
    const { db } = handle;
    db.exec("BEGIN");
    const tables = listTables(db).map((name) => ({
      name,
      rows: Number(
        db
          .prepare(`SELECT count(*) FROM ${quoteIdentifier(name)}`)
          .pluck()
          .get(),
      ),
    }));
    const internalTables = listTables(db, true).length - tables.length;
    db.exec("COMMIT");
    return {
      ...located,
      sizeBytes: main.size + (wal?.size ?? 0),
      walBytes: wal?.size ?? 0,
      modified: new Date(modified).toISOString(),
      tables,
      internalTables,
      strategy: handle.strategy,
    };
  } catch (error) {
    throw (error as { code?: string }).code?.startsWith("SQLITE_")
      ? sqliteFileError(located.file, error)
      : error;
  } finally {
    handle.close();
  }
}
