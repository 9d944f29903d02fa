import { usageError } from "../errors.js";
import { type RowFormat, writeRows } from "./formats.js";
import { type SqliteDatabase, sqliteFileError } from "./open.js";
import type { ChunkedWriter } from "./sink.js";
import type { SqlValue } from "./values.js";

export interface QueryParams {
  positional: SqlValue[];
  named: Record<string, SqlValue>;
}

export interface QueryStats {
  columns: string[];
  rows: number;
}

/**
 * `--param VALUE` binds `?` in order; `--param name=VALUE` binds `:name`, `@name` or `$name`.
 * A whole decimal number is bound as INTEGER, a decimal fraction as REAL, anything else as TEXT.
 */
export function parseParams(specs: string[]): QueryParams {
  const params: QueryParams = { positional: [], named: {} };
  for (const spec of specs) {
    const named = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(spec);
    if (named) params.named[named[1]!] = paramValue(named[2]!);
    else params.positional.push(paramValue(spec));
  }
  return params;
}

function paramValue(text: string): SqlValue {
  if (/^-?(0|[1-9]\d*)$/.test(text)) return BigInt(text);
  if (/^-?(0|[1-9]\d*)\.\d+$/.test(text)) return Number(text);
  return text;
}

/**
 * Runs one statement on a read-only connection: SQLite itself refuses any write. Rows stream in
 * the chosen format.
 */
export async function runQuery(
  db: SqliteDatabase,
  file: string,
  sql: string,
  params: QueryParams,
  format: RowFormat,
  out: ChunkedWriter,
): Promise<QueryStats> {
  const statement = prepare(db, file, sql);
  const args: unknown[] = [...params.positional];
  if (Object.keys(params.named).length > 0) args.push(params.named);
  try {
    if (!statement.reader) {
      statement.run(...args);
      await out.flush();
      return { columns: [], rows: 0 };
    }
    statement.raw(true).safeIntegers(true);
    const columns = statement.columns().map((column) => column.name);
    const rows = await writeRows(
      format,
      [{ columns, rows: statement.iterate(...args) as Iterable<SqlValue[]> }],
      out,
      { keyedByTable: false },
    );
    await out.flush();
    return { columns, rows };
  } catch (error) {
    throw queryError(file, sql, error);
  }
}

function prepare(db: SqliteDatabase, file: string, sql: string) {
  try {
    return db.prepare(sql);
  } catch (error) {
    throw queryError(file, sql, error);
  }
}

function queryError(file: string, sql: string, error: unknown) {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message;
  if (code?.startsWith("SQLITE_READONLY")) {
    return usageError(
      "d1-read-only",
      `cfprobe db query is read-only; SQLite refused to write to ${file}: ${message}.`,
      {
        hint: "Change data through the worker, or with `wrangler d1 execute --local`.",
      },
    );
  }
  if (code?.startsWith("SQLITE_CORRUPT") || code?.startsWith("SQLITE_NOTADB"))
    return sqliteFileError(file, error);
  if (code?.startsWith("SQLITE_") || error instanceof RangeError || error instanceof TypeError) {
    return usageError("d1-sql-error", `The query failed on ${file}: ${message}.`, {
      details: [`SQL: ${sql}`],
      hint: "Check the SQL and its --param values; `cfprobe db dump --schema-only` shows the tables.",
    });
  }
  return error;
}
