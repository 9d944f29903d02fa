import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { dumpDatabase } from "../src/d1/dump.js";
import { d1FileNameFor, d1ObjectName } from "../src/d1/files.js";
import { openReadOnly } from "../src/d1/open.js";
import { parseParams, runQuery } from "../src/d1/query.js";
import { ChunkedWriter, writeFileAtomically } from "../src/d1/sink.js";
import { toSqlLiteral } from "../src/d1/values.js";
import { CfprobeError } from "../src/errors.js";
import {
  createHostileDatabase,
  fingerprint,
  loadWithSqlite3,
  readEverything,
  sqliteDump,
  tempDir,
} from "./d1-fixtures.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function scratch(): string {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A writable that keeps what it is given, for reading a dump back. */
function collector() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { writer: new ChunkedWriter(stream), text: () => chunks.join("") };
}

async function dumpText(file: string, options: Parameters<typeof dumpDatabase>[3]) {
  const handle = openReadOnly(file);
  try {
    const { writer, text } = collector();
    const stats = await dumpDatabase(handle.db, file, writer, options);
    return { text: text(), stats, strategy: handle.strategy };
  } finally {
    handle.close();
  }
}

function hostile(): string {
  const file = path.join(scratch(), "hostile.sqlite");
  createHostileDatabase(file);
  return file;
}

describe("d1FileNameFor", () => {
  it("matches workerd's idFromName for the D1 namespace (FACTS.md check value)", () => {
    expect(d1FileNameFor("00000000-0000-0000-0000-000000000000")).toBe(
      "9ba2b04bf514d9facfd57ed57d849e77241a7adc99d1c1545d06688b43d84248.sqlite",
    );
  });

  it("names the file from preview_database_id, else database_id, else the binding", () => {
    expect(d1ObjectName({ binding: "DB", databaseId: "a", previewDatabaseId: "p" })).toBe("p");
    expect(d1ObjectName({ binding: "DB", databaseId: "a" })).toBe("a");
    expect(d1ObjectName({ binding: "DB", databaseName: "n" })).toBe("DB");
  });
});

describe("SQL dump", () => {
  it("loads back with sqlite3 into the same schema and data", async () => {
    const file = hostile();
    const { text, stats } = await dumpText(file, { format: "sql", includeInternal: true });
    expect(stats.tables).toContain("kv");
    const copy = path.join(scratch(), "copy.sqlite");
    loadWithSqlite3(text, copy);
    expect(sqliteDump(copy)).toBe(sqliteDump(file));
    expect(readEverything(copy)).toEqual(readEverything(file));
  });

  it("keeps every storage class exactly: big integers, REAL vs INTEGER, NUL, blobs", async () => {
    const file = hostile();
    const copy = path.join(scratch(), "copy.sqlite");
    loadWithSqlite3((await dumpText(file, { format: "sql" })).text, copy);
    const db = new Database(copy, { readonly: true });
    const rows = db
      .prepare(`SELECT typeof([select]), [select], typeof(r), typeof(n), n FROM "we""ird table"`)
      .raw(true)
      .safeIntegers(true)
      .all();
    db.close();
    expect(rows[0]).toEqual(["text", `it's "quoted"`, "real", "integer", 9223372036854775807n]);
    expect((rows[1] as unknown[])[2]).toBe("real");
    expect(rows[2]).toEqual(["text", "nul\0inside\0", "real", "integer", 9007199254740993n]);
    expect(readEverything(copy).sqlite_sequence).toEqual([['we"ird table', 9n]]);
  });

  it("hides the runtime's _cf_ tables unless asked", async () => {
    const file = hostile();
    expect((await dumpText(file, { format: "sql" })).text).not.toContain("_cf_KV");
    expect((await dumpText(file, { format: "sql", includeInternal: true })).text).toContain("_cf_KV");
  });

  it("dumps chosen tables, schema only or data only", async () => {
    const file = hostile();
    const only = (await dumpText(file, { format: "sql", tables: ["kv"] })).text;
    expect(only).toContain("CREATE TABLE kv");
    expect(only).toContain("CREATE TRIGGER kv_count");
    expect(only).not.toContain("CREATE TABLE counter");
    const schema = (await dumpText(file, { format: "sql", schemaOnly: true, includeInternal: true })).text;
    expect(schema).not.toContain("INSERT INTO");
    const data = (await dumpText(file, { format: "sql", dataOnly: true, includeInternal: true })).text;
    expect(data).not.toContain("CREATE");
    const copy = path.join(scratch(), "copy.sqlite");
    loadWithSqlite3(schema + data, copy);
    expect(readEverything(copy)).toEqual(readEverything(file));
  });

  it("names an unknown table and the tables there", async () => {
    const error = await dumpText(hostile(), { format: "sql", tables: ["nope"] }).catch((e) => e);
    expect(error).toBeInstanceOf(CfprobeError);
    expect(error.message).toMatch(/No table "nope" in .*hostile\.sqlite/);
    expect(error.hint).toContain("kv");
    expect(error.exitCode).toBe(2);
  });

  it("writes REAL values that SQLite reads back as REAL", () => {
    expect(toSqlLiteral(1)).toBe("1.0");
    expect(toSqlLiteral(-0)).toBe("-0.0");
    expect(toSqlLiteral(Number.NEGATIVE_INFINITY)).toBe("-1e999");
    expect(toSqlLiteral(1e21)).toBe("1e+21");
    expect(toSqlLiteral(12n)).toBe("12");
  });
});

describe("JSON, NDJSON, CSV and table formats", () => {
  it("json parses back to the same rows, with exact integers and tagged blobs", async () => {
    const file = hostile();
    const { text } = await dumpText(file, { format: "json" });
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual([
      'we"ird table',
      "kv",
      "counter",
      "gen",
      "名前 🙂; DROP TABLE kv; --",
    ]);
    const weird = parsed['we"ird table'];
    expect(weird[0]).toEqual({
      'col "one"': 1,
      select: `it's "quoted"`,
      b: { $base64: Buffer.from([0, 1, 2, 255, 39, 10]).toString("base64") },
      r: 0.1,
      n: "9223372036854775807",
    });
    expect(weird[2].select).toBe("nul\0inside\0");
    expect(weird[2].n).toBe("9007199254740993");
    expect(weird[3].r).toEqual({ $real: "Infinity" });
    expect(parsed.gen[0]).toEqual({ id: 1, a: 10, doubled: 20, label: "#10" });
    expect(parsed.kv).toContainEqual({ k: "null", v: null });
    const original = readEverything(file).kv!;
    expect(parsed.kv).toHaveLength(original.length);
  });

  it("ndjson has one row per line with its table", async () => {
    const { text } = await dumpText(hostile(), { format: "ndjson", tables: ["counter", "kv"] });
    const lines = text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines[0]).toEqual({ table: "counter", row: { n: 5 } });
    expect(lines.filter((line) => line.table === "kv")).toHaveLength(5);
  });

  it("csv quotes what needs it, tells NULL from the empty string, and wants one table", async () => {
    const file = hostile();
    const { text } = await dumpText(file, { format: "csv", tables: ["名前 🙂; DROP TABLE kv; --"] });
    expect(text).toBe(`x y,'\r\n"a,b",'\r\n`);
    const weird = (await dumpText(file, { format: "csv", tables: ['we"ird table'] })).text.split("\r\n");
    expect(weird[0]).toBe('"col ""one""",select,b,r,n');
    expect(weird.at(-2)).toBe(`9,,AA==,123456789012345680000,0`);
    await expect(dumpText(file, { format: "csv" })).rejects.toThrow(/CSV holds one table/);
  });

  it("table is aligned and cuts long cells", async () => {
    const file = path.join(scratch(), "t.sqlite");
    const db = new Database(file);
    db.exec(
      `CREATE TABLE t (id INTEGER, note TEXT); INSERT INTO t VALUES (1, '${"x".repeat(100)}'), (22, NULL)`,
    );
    db.close();
    const { text } = await dumpText(file, { format: "table" });
    expect(text.split("\n").slice(0, 5)).toEqual([
      "t",
      "id  note",
      `--  ${"-".repeat(40)}`,
      `1   ${"x".repeat(39)}…`,
      "22  NULL",
    ]);
  });
});

describe("read-only access", () => {
  /** Writes in WAL mode with a connection that stays open, then copies the three files: a crash. */
  function crashedCopy(): string {
    const source = hostile();
    const writer = new Database(source);
    writer.pragma("wal_autocheckpoint = 0");
    writer.exec("INSERT INTO counter VALUES (4242)");
    const file = path.join(scratch(), "crashed.sqlite");
    for (const suffix of ["", "-wal", "-shm"]) copyFileSync(source + suffix, file + suffix);
    writer.close();
    return file;
  }

  it("sees rows that are only in the -wal and leaves .sqlite, -wal and -shm untouched", async () => {
    const file = crashedCopy();
    const before = fingerprint(file);
    const { text, strategy } = await dumpText(file, { format: "sql" });
    expect(strategy).toBe("shared-wal");
    expect(text).toContain('INSERT INTO "counter" VALUES(4242);');
    expect(fingerprint(file)).toEqual(before);
  });

  it("copies a -wal left without its -shm instead of letting SQLite create one", async () => {
    const file = crashedCopy();
    rmSync(`${file}-shm`);
    const before = fingerprint(file);
    const { text, strategy } = await dumpText(file, { format: "sql" });
    expect(strategy).toBe("snapshot");
    expect(text).toContain("VALUES(4242);");
    expect(fingerprint(file)).toEqual(before);
  });

  it("reads a file without -wal as immutable and creates no -wal or -shm", async () => {
    const file = hostile();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const before = fingerprint(file);
    const { strategy } = await dumpText(file, { format: "json" });
    expect(strategy).toBe("immutable");
    expect(fingerprint(file)).toEqual(before);
  });

  it("while another process writes: one consistent snapshot, and the files are left as they were", async () => {
    const file = path.join(scratch(), "live.sqlite");
    const setup = new Database(file);
    setup.pragma("journal_mode = WAL");
    setup.exec("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL)");
    setup.close();
    // Each transaction adds +n and -n: any consistent view sums to zero and has an even count.
    const script = `
      const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
      const db = new Database(${JSON.stringify(file)});
      db.pragma("wal_autocheckpoint = 0");
      const add = db.prepare("INSERT INTO ledger (amount) VALUES (?)");
      const pair = db.transaction((n) => { add.run(n); add.run(-n); });
      for (let i = 1; i <= 200; i++) pair(i);
      process.stdout.write("ready\\n");
      let i = 0;
      const timer = setInterval(() => { for (let k = 0; k < 50; k++) pair(++i); }, 1);
      process.stdin.on("data", () => {});
      process.stdin.on("end", () => { clearInterval(timer); db.close(); process.exit(0); });
    `;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
    cleanups.push(() => child.kill("SIGKILL"));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`writer exited ${code}`)));
    });
    for (let round = 0; round < 5; round++) {
      const { text, strategy } = await dumpText(file, { format: "ndjson" });
      expect(strategy).toBe("shared-wal");
      const amounts = text
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).row.amount as number);
      expect(amounts.length).toBeGreaterThanOrEqual(400);
      expect(amounts.length % 2).toBe(0);
      expect(amounts.reduce((sum, amount) => sum + amount, 0)).toBe(0);
    }
    // Paused writer: now nothing moves, so any change would be ours.
    const paused = new Promise((resolve) => child.once("exit", resolve));
    child.stdin.end();
    await paused;
    const writerGone = fingerprint(file);
    await dumpText(file, { format: "sql" });
    expect(fingerprint(file)).toEqual(writerGone);
  });
});

describe("db query", () => {
  it("binds positional and named parameters with their types", async () => {
    const file = hostile();
    const handle = openReadOnly(file);
    cleanups.push(() => handle.close());
    const { writer, text } = collector();
    const params = parseParams(["int", "limit=5"]);
    expect(params).toEqual({ positional: ["int"], named: { limit: 5n } });
    await runQuery(handle.db, file, "SELECT k, v FROM kv WHERE k = ? LIMIT :limit", params, "json", writer);
    expect(JSON.parse(text())).toEqual([{ k: "int", v: 42 }]);
  });

  it("encodes values in JSON as documented, even with repeated column names", async () => {
    const file = hostile();
    const handle = openReadOnly(file);
    cleanups.push(() => handle.close());
    const { writer, text } = collector();
    const sql =
      "SELECT 1 AS a, 2 AS a, x'00ff' AS b, 9223372036854775807 AS big, 1e999 AS inf, NULL AS n, 2.5 AS r";
    await runQuery(handle.db, file, sql, parseParams([]), "json", writer);
    expect(JSON.parse(text())).toEqual([
      {
        a: 2,
        b: { $base64: "AP8=" },
        big: "9223372036854775807",
        inf: { $real: "Infinity" },
        n: null,
        r: 2.5,
      },
    ]);
  });

  it("is refused by SQLite when it writes, and explains bad SQL", async () => {
    const file = hostile();
    const before = fingerprint(file);
    const handle = openReadOnly(file);
    cleanups.push(() => handle.close());
    const { writer } = collector();
    const run = (sql: string) => runQuery(handle.db, file, sql, parseParams([]), "json", writer);
    await expect(run("DELETE FROM kv")).rejects.toMatchObject({ code: "d1-read-only", exitCode: 2 });
    await expect(run("CREATE TABLE x (y)")).rejects.toMatchObject({ code: "d1-read-only" });
    await expect(run("SELEC 1")).rejects.toMatchObject({ code: "d1-sql-error", message: /syntax error/ });
    await expect(run("SELECT * FROM missing")).rejects.toThrow(/no such table: missing/);
    expect(fingerprint(file)).toEqual(before);
  });
});

describe("bad files", () => {
  it("names a missing file, a file that is not a database, and a damaged one (exit 2)", async () => {
    const dir = scratch();
    const text = path.join(dir, "notes.sqlite");
    writeFileSync(text, "just some text, long enough to have a header\n".repeat(5));
    const damaged = hostile();
    const bytes = readFileSync(damaged);
    bytes.fill(0xa5, 4096, bytes.length);
    writeFileSync(damaged, bytes);
    const cases = [
      [path.join(dir, "missing.sqlite"), "d1-file-missing", /No SQLite file at .*missing\.sqlite/],
      [dir, "d1-not-a-file", /is not a file/],
      [text, "d1-not-a-database", /notes\.sqlite is not an SQLite database/],
      [damaged, "d1-corrupt", /hostile\.sqlite is damaged/],
    ] as const;
    for (const [file, code, message] of cases) {
      let caught: unknown;
      try {
        await dumpText(file, { format: "sql" });
      } catch (error) {
        caught = error;
      }
      expect(caught, file).toBeInstanceOf(CfprobeError);
      expect(caught).toMatchObject({ code, exitCode: 2, message });
    }
  });
});

describe("writeFileAtomically", () => {
  it("leaves nothing behind when the producer fails, and the whole file when it succeeds", async () => {
    const dir = scratch();
    const target = path.join(dir, "out.sql");
    await expect(
      writeFileAtomically(target, async (stream) => {
        stream.write("partial");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    await writeFileAtomically(target, async (stream) => {
      stream.write("complete\n");
    });
    expect(readFileSync(target, "utf8")).toBe("complete\n");
  });
});
