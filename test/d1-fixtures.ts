import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";

/** A private temp folder for a test. */
export function tempDir(prefix = "cfprobe-d1-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A schema meant to trip up a dump: odd names, every storage class, WITHOUT ROWID, generated columns. */
export const HOSTILE_SCHEMA = `
CREATE TABLE "we""ird table" ("col ""one""" INTEGER PRIMARY KEY AUTOINCREMENT, [select] TEXT, \`b\` BLOB, r REAL, n NUMERIC);
CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID;
CREATE TABLE counter (n INTEGER);
CREATE TABLE gen (id INTEGER PRIMARY KEY, a INTEGER, doubled INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, label TEXT GENERATED ALWAYS AS ('#' || a) STORED);
CREATE TABLE "名前 🙂; DROP TABLE kv; --" ("x y" TEXT, "'" TEXT);
CREATE INDEX "idx ""sel""" ON "we""ird table"([select] DESC);
CREATE UNIQUE INDEX kv_v ON kv(v) WHERE typeof(v) = 'blob';
CREATE VIEW "v of kv" AS SELECT k, v FROM kv WHERE v IS NOT NULL;
CREATE VIEW v2 AS SELECT count(*) AS c FROM "v of kv";
CREATE TRIGGER kv_count AFTER INSERT ON kv BEGIN UPDATE counter SET n = n + 1; END;
CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
`;

/** Values of every storage class that a dump must keep exactly. */
export const HOSTILE_VALUES: unknown[][] = [
  [1n, 'it\'s "quoted"', Buffer.from([0, 1, 2, 255, 39, 10]), 0.1, 9223372036854775807n],
  [2n, "line1\nline2\r\nline3\ttab \x1b[31mansi\x01\x7f\r", Buffer.alloc(0), 1.0, -9223372036854775808n],
  [3n, "nul\0inside\0", Buffer.from("blob'with quote"), 1e308, 9007199254740993n],
  [7n, "emoji 🙂 ünïcödé 中文 \u2028", null, -2.5e-300, 1.5],
  [8n, "", null, Number.POSITIVE_INFINITY, null],
  [9n, null, Buffer.from([0x00]), 123456789012345680000, -0],
];

/** Creates a WAL-mode database like a local D1 file, with the hostile schema and values. */
export function createHostileDatabase(file: string): void {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.defaultSafeIntegers(true);
  db.exec(HOSTILE_SCHEMA);
  db.exec("INSERT INTO counter VALUES (0)");
  const insert = db.prepare(`INSERT INTO "we""ird table" VALUES (?, ?, ?, ?, ?)`);
  for (const row of HOSTILE_VALUES) insert.run(...row);
  db.exec(`DELETE FROM "we""ird table" WHERE "col ""one""" = 7`);
  const kv = db.prepare("INSERT INTO kv VALUES (?, ?)");
  kv.run("int", 42n);
  kv.run("real", 42.0);
  kv.run("text", "42");
  kv.run("blob", Buffer.from("42"));
  kv.run("null", null);
  db.exec("INSERT INTO gen (id, a) VALUES (1, 10), (2, NULL), (3, -4)");
  db.prepare(`INSERT INTO "名前 🙂; DROP TABLE kv; --" VALUES (?, ?)`).run("a,b", "'");
  db.exec("INSERT INTO _cf_KV VALUES ('secret', x'00')");
  db.close();
}

/** Every row of every table (sqlite_sequence included), with exact types, for comparing two databases. */
export function readEverything(file: string): Record<string, unknown[][]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    const result: Record<string, unknown[][]> = {};
    for (const name of tables) {
      result[name] = db
        .prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`)
        .raw(true)
        .safeIntegers(true)
        .all() as unknown[][];
    }
    return result;
  } finally {
    db.close();
  }
}

/** `sqlite3 FILE .dump`, the reference a dump is compared with. */
export function sqliteDump(file: string): string {
  return execFileSync("sqlite3", [file, ".dump"], { encoding: "utf8" });
}

/** Loads SQL into a new database with the sqlite3 shell, failing on the first error. */
export function loadWithSqlite3(sql: string, file: string): void {
  execFileSync("sqlite3", ["-bail", file], { input: sql });
}

/** Content hash and mtime of a database's files, and the names in its folder: what must not change. */
export function fingerprint(file: string): Record<string, string> {
  const print: Record<string, string> = { folder: readdirSync(path.dirname(file)).sort().join(",") };
  for (const suffix of ["", "-wal", "-shm"]) {
    const name = `${file}${suffix}`;
    if (!existsSync(name)) continue;
    const stat = statSync(name);
    const hash = createHash("sha256").update(readFileSync(name)).digest("hex");
    print[suffix || "db"] = `${hash} ${stat.mtimeMs} ${stat.size}`;
  }
  return print;
}
