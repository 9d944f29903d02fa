/**
 * How SQLite values read with `safeIntegers` (INTEGER -> bigint, REAL -> number, TEXT -> string,
 * BLOB -> Buffer, NULL -> null) are written in each format. README, "Value encoding".
 */
export type SqlValue = null | bigint | number | string | Buffer;

/** JSON encoding of a value: exact integers (strings beyond 2^53), tagged blobs and non-finite reals. */
export type JsonValue = null | number | string | { $base64: string } | { $real: string };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

export function toJsonValue(value: SqlValue): JsonValue {
  if (value === null) return null;
  if (typeof value === "bigint")
    return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? value : { $real: String(value) };
  if (typeof value === "string") return value;
  return { $base64: value.toString("base64") };
}

/** A row as a JSON object; columns are named as SQLite names them. */
export function toJsonRow(columns: string[], values: SqlValue[]): Record<string, JsonValue> {
  const row: Record<string, JsonValue> = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]!] = toJsonValue(values[i]!);
  return row;
}

/**
 * Makes rows into JSON object text, the same as `JSON.stringify(toJsonRow(columns, values))` but
 * without an object per row, so dumps of millions of rows stay fast and small in memory.
 */
export function jsonRowRenderer(columns: string[]): (values: SqlValue[]) => string {
  // Repeated names (a query's `SELECT 1 a, 2 a`): the object rules (last one wins) apply.
  if (new Set(columns).size !== columns.length) return (values) => JSON.stringify(toJsonRow(columns, values));
  const keys = columns.map((column, i) => `${i === 0 ? "{" : ","}${JSON.stringify(column)}:`);
  return (values) => {
    let text = "";
    for (let i = 0; i < keys.length; i++) {
      const value = values[i]!;
      text +=
        keys[i] +
        (typeof value === "number" && Number.isFinite(value) ? value : JSON.stringify(toJsonValue(value)));
    }
    return keys.length === 0 ? "{}" : `${text}}`;
  };
}

/** A double-quoted SQL identifier; any name, however hostile, stays one token. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// Text that the sqlite3 shell could not read back literally: NUL ends its input line, and it
// drops a carriage return before a newline. Such text is written as the hex of its UTF-8 bytes.
const UNSAFE_TEXT = /[\0\r]/;

/** An SQL literal that loads back as the same value with the same storage class. */
export function toSqlLiteral(value: SqlValue): string {
  if (value === null) return "NULL";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return realLiteral(value);
  if (typeof value === "string") {
    if (UNSAFE_TEXT.test(value)) return `CAST(X'${Buffer.from(value, "utf8").toString("hex")}' AS TEXT)`;
    return `'${value.replaceAll("'", "''")}'`;
  }
  return `X'${value.toString("hex")}'`;
}

/** REAL stays REAL: the shortest exact decimal, with a `.0` so SQLite does not read an INTEGER. */
function realLiteral(value: number): string {
  if (Number.isNaN(value)) return "NULL";
  if (!Number.isFinite(value)) return value > 0 ? "1e999" : "-1e999";
  if (Object.is(value, -0)) return "-0.0";
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** CSV (RFC 4180): NULL is an empty field, the empty string is `""`, blobs are base64. */
export function toCsvField(value: SqlValue): string {
  if (value === null) return "";
  let text: string;
  if (typeof value === "string") {
    if (value === "") return '""';
    text = value;
  } else if (Buffer.isBuffer(value)) text = value.toString("base64");
  else text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A cell for people: one line, cut to `width` characters. */
export function toDisplayCell(value: SqlValue, width: number): string {
  let text: string;
  if (value === null) text = "NULL";
  else if (Buffer.isBuffer(value)) text = `x'${value.toString("hex")}'`;
  else if (typeof value === "string")
    text = value.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
  else text = String(value);
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}
