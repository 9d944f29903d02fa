import { usageError } from "../errors.js";
import { INTERNAL_TABLE_PREFIX } from "./files.js";
import { type RowBlock, type RowFormat, writeRows } from "./formats.js";
import { type SqliteDatabase, sqliteFileError } from "./open.js";
import type { ChunkedWriter } from "./sink.js";
import { quoteIdentifier, type SqlValue, toSqlLiteral } from "./values.js";

export type DumpFormat = "sql" | RowFormat;

export interface DumpOptions {
  format: DumpFormat;
  /** Only these tables (and, in SQL, their indexes and triggers). */
  tables?: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  /** Include the runtime's `_cf_*` tables. */
  includeInternal?: boolean;
  onRows?: (rows: number, table?: string) => void;
}

export interface DumpStats {
  format: DumpFormat;
  tables: string[];
  rows: number;
}

interface SchemaEntry {
  type: "table" | "index" | "view" | "trigger";
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** A table whose rows a dump reads, with the columns an INSERT can set. */
interface DumpTable {
  name: string;
  sql: string;
  virtual: boolean;
  /** Columns an INSERT sets (generated columns are left out). */
  columns: string[];
  /** Columns a reader sees, generated ones included. */
  visibleColumns: string[];
  /** Whether some columns are generated, so INSERT must name the columns it sets. */
  hasGenerated: boolean;
}

/** Reads the schema in creation order, as `sqlite3 .dump` does. */
function readSchema(db: SqliteDatabase): SchemaEntry[] {
  return db
    .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")
    .all() as SchemaEntry[];
}

/** The runtime's tables and SQLite's own are not user data; shadow tables belong to a virtual table. */
function isUserTable(name: string, includeInternal: boolean): boolean {
  if (name.startsWith("sqlite_")) return false;
  return includeInternal || !name.startsWith(INTERNAL_TABLE_PREFIX);
}

function shadowTables(db: SqliteDatabase): Set<string> {
  const rows = db
    .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")
    .all();
  return new Set((rows as { name: string }[]).map((row) => row.name));
}

/** The user tables of a database, for `ls`, JSON dumps and table checks. */
export function listTables(db: SqliteDatabase, includeInternal = false): string[] {
  const shadows = shadowTables(db);
  return readSchema(db)
    .filter((entry) => entry.type === "table" && entry.sql && !shadows.has(entry.name))
    .map((entry) => entry.name)
    .filter((name) => isUserTable(name, includeInternal));
}

function describeTable(db: SqliteDatabase, entry: SchemaEntry): DumpTable {
  const info = db.prepare("SELECT name, hidden FROM pragma_table_xinfo(?)").all(entry.name) as {
    name: string;
    hidden: number;
  }[];
  return {
    name: entry.name,
    sql: entry.sql!,
    virtual: /^CREATE\s+VIRTUAL\s+TABLE/i.test(entry.sql!),
    columns: info.filter((column) => column.hidden === 0).map((column) => column.name),
    visibleColumns: info.filter((column) => column.hidden !== 1).map((column) => column.name),
    hasGenerated: info.some((column) => column.hidden === 2 || column.hidden === 3),
  };
}

function selectedTables(db: SqliteDatabase, file: string, options: DumpOptions): string[] {
  const available = listTables(db, true);
  if (!options.tables?.length)
    return available.filter((name) => isUserTable(name, Boolean(options.includeInternal)));
  for (const name of options.tables) {
    if (!available.includes(name)) {
      const shown = available.filter((table) => isUserTable(table, false));
      throw usageError("d1-unknown-table", `No table "${name}" in ${file}.`, {
        hint: `Tables there: ${shown.join(", ") || "none"}.`,
      });
    }
  }
  return options.tables;
}

function readRows(db: SqliteDatabase, table: DumpTable, names = table.columns): Iterable<SqlValue[]> {
  const columns = names.map(quoteIdentifier).join(", ");
  const statement = db.prepare(`SELECT ${columns} FROM ${quoteIdentifier(table.name)}`);
  return statement.raw(true).safeIntegers(true).iterate() as Iterable<SqlValue[]>;
}

/**
 * Dumps a database in one read transaction, so the output is one consistent snapshot even while
 * wrangler writes; rows are streamed, so memory does not grow with the database.
 */
export async function dumpDatabase(
  db: SqliteDatabase,
  file: string,
  out: ChunkedWriter,
  options: DumpOptions,
): Promise<DumpStats> {
  if (options.schemaOnly && options.dataOnly) {
    throw usageError("usage", "--schema-only and --data-only exclude each other.");
  }
  db.exec("BEGIN");
  try {
    const names = selectedTables(db, file, options);
    const schema = readSchema(db);
    const byName = new Map(schema.map((entry) => [entry.name, entry]));
    const tables = names.map((name) => describeTable(db, byName.get(name)!));
    let rows: number;
    if (options.format === "sql") {
      rows = await writeSqlDump(db, schema, tables, out, options);
    } else {
      if (options.schemaOnly) throw usageError("usage", "--schema-only needs --format sql.");
      if (options.format === "csv" && tables.length !== 1) {
        throw usageError("d1-csv-one-table", `CSV holds one table; ${file} has ${tables.length} to dump.`, {
          hint: `Pick one with --table, for example --table ${tables[0]?.name ?? "NAME"}.`,
        });
      }
      const blocks = tables.map(
        (table): RowBlock => ({
          table: table.name,
          columns: table.visibleColumns,
          get rows() {
            return readRows(db, table, table.visibleColumns);
          },
        }),
      );
      rows = await writeRows(options.format, blocks, out, { keyedByTable: true, onRows: options.onRows });
    }
    await out.flush();
    return { format: options.format, tables: names, rows };
  } catch (error) {
    throw (error as { code?: string }).code?.startsWith("SQLITE_") ? sqliteFileError(file, error) : error;
  } finally {
    // Ends the read transaction; a failure here must not hide the error that got us here.
    if (db.inTransaction) {
      try {
        db.exec("COMMIT");
      } catch {}
    }
  }
}

/**
 * SQL that `sqlite3 new.db < dump.sql` loads into the same database, in `sqlite3 .dump` order:
 * tables (sqlite_sequence last, after the rows that bump it), then indexes, triggers and views in
 * creation order.
 */
async function writeSqlDump(
  db: SqliteDatabase,
  schema: SchemaEntry[],
  tables: DumpTable[],
  out: ChunkedWriter,
  options: DumpOptions,
): Promise<number> {
  const filtered = Boolean(options.tables?.length);
  const chosen = new Set(tables.map((table) => table.name));
  const withSchema = !options.dataOnly;
  const withData = !options.schemaOnly;
  let total = 0;
  await out.write("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n");
  for (const table of tables) {
    if (withSchema) await out.write(`${table.sql};\n`);
    if (!withData) continue;
    for (const line of readInsertStatements(db, table)) {
      if (out.push(line)) await out.flush();
      if (++total % 8192 === 0) options.onRows?.(total, table.name);
    }
  }
  if (withData) await writeSequences(db, schema, chosen, filtered, out);
  if (withData && !filtered && schema.some((entry) => entry.name === "sqlite_stat1")) {
    if (withSchema) await out.write("ANALYZE sqlite_schema;\n");
    const stats = db.prepare("SELECT tbl, idx, stat FROM sqlite_stat1").raw(true).safeIntegers(true);
    for (const row of stats.iterate() as Iterable<SqlValue[]>) {
      await out.write(`INSERT INTO sqlite_stat1 VALUES(${row.map(toSqlLiteral).join(",")});\n`);
    }
  }
  if (withSchema) {
    for (const entry of schema) {
      if (entry.type === "table" || !entry.sql) continue;
      const wanted = filtered ? chosen.has(entry.tbl_name) : isUserTable(entry.tbl_name, true);
      const internal = !options.includeInternal && entry.tbl_name.startsWith(INTERNAL_TABLE_PREFIX);
      if (wanted && !internal) await out.write(`${entry.sql};\n`);
    }
  }
  await out.write("COMMIT;\n");
  return total;
}

/**
 * One `INSERT INTO "t" VALUES(...);` line per row, built by SQLite's own quote() in C (about
 * twice as fast as formatting the values in JavaScript). Two kinds of text need care: quote()
 * stops at a NUL byte, so such text is written as the hex of its bytes cast back to TEXT; and the
 * sqlite3 shell drops a carriage return before a newline, so a CR (which quote() leaves inside a
 * string literal) becomes `'||char(13)||'`. Either way the text loads back unchanged.
 */
function* readInsertStatements(db: SqliteDatabase, table: DumpTable): Iterable<string> {
  const target = table.hasGenerated
    ? `${quoteIdentifier(table.name)}(${table.columns.map(quoteIdentifier).join(",")})`
    : quoteIdentifier(table.name);
  const values = table.columns.map((name) => {
    const column = quoteIdentifier(name);
    return `iif(instr(${column}, char(0)) AND typeof(${column}) = 'text', 'CAST(X''' || hex(${column}) || ''' AS TEXT)', quote(${column}))`;
  });
  const prefix = `INSERT INTO ${target} VALUES(`;
  const sql = `SELECT ${values.join(" || ',' || ")} FROM ${quoteIdentifier(table.name)}`;
  for (const row of db.prepare(sql).pluck().iterate() as Iterable<string>) {
    yield `${prefix}${row.includes("\r") ? row.replaceAll("\r", "'||char(13)||'") : row});\n`;
  }
}

/** AUTOINCREMENT counters: replaced after the rows, since inserting rows moves them. */
async function writeSequences(
  db: SqliteDatabase,
  schema: SchemaEntry[],
  chosen: Set<string>,
  filtered: boolean,
  out: ChunkedWriter,
): Promise<void> {
  if (!schema.some((entry) => entry.name === "sqlite_sequence")) return;
  const rows = (
    db.prepare("SELECT name, seq FROM sqlite_sequence").raw(true).safeIntegers(true).all() as SqlValue[][]
  ).filter(([name]) => chosen.has(name as string));
  if (filtered) {
    if (rows.length === 0) return;
    const names = rows.map(([name]) => toSqlLiteral(name!)).join(",");
    await out.write(`DELETE FROM sqlite_sequence WHERE name IN (${names});\n`);
  } else {
    await out.write("DELETE FROM sqlite_sequence;\n");
  }
  for (const row of rows)
    await out.write(`INSERT INTO sqlite_sequence VALUES(${row.map(toSqlLiteral).join(",")});\n`);
}
