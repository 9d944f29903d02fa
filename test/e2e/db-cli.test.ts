import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { d1FileNameFor, d1StateDir } from "../../src/d1/files.js";
import { createHostileDatabase, fingerprint, loadWithSqlite3, sqliteDump, tempDir } from "../d1-fixtures.js";
import { CLI, ROOT, runCli, startCli, withCleanups } from "./helpers.js";

const { defer } = withCleanups();

function scratch() {
  const dir = tempDir("cfprobe-db-cli-");
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function smallDatabase(file: string, rows: Array<[number, string]>) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
  const insert = db.prepare("INSERT INTO items VALUES (?, ?)");
  for (const row of rows) insert.run(...row);
  db.close();
}

/** The multi-binding fixture with its state folder: two bindings with files, one without, one stray file. */
function multiWorker() {
  const dir = scratch();
  cpSync(path.join(ROOT, "fixtures", "d1", "multi"), dir, { recursive: true });
  const state = d1StateDir(path.join(dir, ".wrangler", "state"));
  mkdirSync(state, { recursive: true });
  smallDatabase(path.join(state, d1FileNameFor("00000000-0000-0000-0000-000000000000")), [[1, "ada"]]);
  smallDatabase(path.join(state, d1FileNameFor("preview-previewed")), [
    [1, "p1"],
    [2, "p2"],
  ]);
  smallDatabase(path.join(state, d1FileNameFor("99999999-9999-9999-9999-999999999999")), [[7, "prod"]]);
  new Database(path.join(state, "metadata.sqlite")).exec("CREATE TABLE _cf_ALARM (id INTEGER)");
  return { dir, state };
}

describe("cfprobe db ls", () => {
  it("maps each binding to its file by wrangler's id rule and lists the files left over", async () => {
    const { dir, state } = multiWorker();
    const result = await runCli(["db", "ls", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout);
    expect(
      listing.databases.map((db: { binding: string; id: string; exists: boolean }) => [
        db.binding,
        db.id,
        db.exists,
      ]),
    ).toEqual([
      ["USERS", "00000000-0000-0000-0000-000000000000", true],
      ["PREVIEWED", "preview-previewed", true],
      ["LOCAL_ONLY", "LOCAL_ONLY", false],
    ]);
    expect(listing.databases[1].tables).toEqual([{ name: "items", rows: 2 }]);
    expect(listing.unmatched.map((db: { file: string }) => path.basename(db.file))).toEqual([
      d1FileNameFor("99999999-9999-9999-9999-999999999999"),
    ]);
    expect(listing.metadataFile).toBe(path.join(state, "metadata.sqlite"));

    const human = await runCli(["db", "ls"], { cwd: dir });
    expect(human.stdout).toContain("USERS (users-db)  id 00000000-0000-0000-0000-000000000000");
    expect(human.stdout).toContain("tables    items  1 row");
    expect(human.stdout).toContain("no file yet");
    expect(human.stdout).toContain("unmatched files");
    expect(human.stdout).toContain("metadata.sqlite: the runtime's alarm scheduler");

    const prod = JSON.parse((await runCli(["db", "ls", "--env", "prod", "--json"], { cwd: dir })).stdout);
    expect(prod.databases[0]).toMatchObject({ binding: "USERS", databaseName: "users-prod", exists: true });
  });

  it("explains a missing state folder (exit 2)", async () => {
    const dir = scratch();
    cpSync(path.join(ROOT, "fixtures", "d1", "multi"), dir, { recursive: true });
    const result = await runCli(["db", "ls", "--persist-to", "nowhere"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `No local D1 files for ${path.join(dir, "wrangler.toml")} in ${path.join(dir, "nowhere")}`,
    );
    expect(result.stderr).toContain("hint: Run the worker once");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("cfprobe db dump and query", () => {
  it("picks a database by binding or database_name and refuses an ambiguous or unknown one", async () => {
    const { dir } = multiWorker();
    const byBinding = await runCli(["db", "dump", "PREVIEWED", "--format", "csv"], { cwd: dir });
    // (execa drops the last line ending of stdout)
    expect(byBinding.stdout).toBe("id,name\r\n1,p1\r\n2,p2");
    const byName = await runCli(["db", "query", "SELECT name FROM items", "users-db", "--format", "ndjson"], {
      cwd: dir,
    });
    expect(byName.stdout).toBe('{"name":"ada"}');
    const ambiguous = await runCli(["db", "dump"], { cwd: dir });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain("declares 3 D1 databases (USERS, PREVIEWED, LOCAL_ONLY); name one");
    const unknown = await runCli(["db", "dump", "NOPE", "--json"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toEqual({
      ok: false,
      error: expect.objectContaining({
        code: "d1-unknown-database",
        message: expect.stringContaining('No D1 database "NOPE"'),
      }),
    });
    const json = await runCli(["db", "dump", "USERS", "--json"], { cwd: dir });
    expect(JSON.parse(json.stdout)).toEqual({ items: [{ id: 1, name: "ada" }] });
    const clash = await runCli(["db", "dump", "USERS", "--json", "--format", "sql"], { cwd: dir });
    expect(clash.code).toBe(2);
    expect(JSON.parse(clash.stdout).error.message).toContain("cannot go with --format sql");
    const noFile = await runCli(["db", "dump", "LOCAL_ONLY"], { cwd: dir });
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("D1 database LOCAL_ONLY (id LOCAL_ONLY) has no local file yet");
  });

  it("writes -o atomically: the complete dump loads with sqlite3, a failed one leaves no file", async () => {
    const dir = scratch();
    mkdirSync(path.join(dir, "data"));
    const file = path.join(dir, "data", "hostile.sqlite");
    createHostileDatabase(file);
    const before = fingerprint(file);
    const ok = await runCli(["db", "dump", "--file", file, "-o", "out.sql", "--include-internal"], {
      cwd: dir,
    });
    expect(ok.code).toBe(0);
    loadWithSqlite3(readFileSync(path.join(dir, "out.sql"), "utf8"), path.join(dir, "copy.sqlite"));
    expect(sqliteDump(path.join(dir, "copy.sqlite"))).toBe(sqliteDump(file));
    const failed = await runCli(["db", "dump", "--file", file, "--table", "missing", "-o", "bad.sql"], {
      cwd: dir,
    });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('No table "missing" in');
    expect(existsSync(path.join(dir, "bad.sql"))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes("bad.sql"))).toEqual([]);
    expect(fingerprint(file)).toEqual(before);
  });

  it("queries read-only with bound parameters and reports writes, bad SQL and bad files (exit 2)", async () => {
    const dir = scratch();
    mkdirSync(path.join(dir, "data"));
    const file = path.join(dir, "data", "items.sqlite");
    smallDatabase(file, [
      [1, "one"],
      [2, "two"],
    ]);
    const before = fingerprint(file);
    const rows = await runCli([
      "db",
      "query",
      "SELECT * FROM items WHERE id > :min",
      "--param",
      "min=1",
      "--file",
      file,
      "--json",
    ]);
    expect(JSON.parse(rows.stdout)).toEqual([{ id: 2, name: "two" }]);
    const table = await runCli(["db", "query", "SELECT * FROM items", "--file", file]);
    expect(table.stdout).toBe("id  name\n--  ----\n1   one\n2   two");

    const write = await runCli(["db", "query", "UPDATE items SET name = 'x'", "--file", file]);
    expect(write.code).toBe(2);
    expect(write.stderr).toContain("error: cfprobe db query is read-only; SQLite refused to write to");
    const bad = await runCli(["db", "query", "SELECT * FROM nope", "--file", file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`The query failed on ${file}: no such table: nope.`);
    expect(fingerprint(file)).toEqual(before);

    const text = path.join(dir, "notes.txt");
    writeFileSync(text, "hello, not a database at all, just text that is long enough\n");
    const notDb = await runCli(["db", "dump", "--file", text]);
    expect(notDb.code).toBe(2);
    expect(notDb.stderr).toContain(`${text} is not an SQLite database`);
    const missing = await runCli(["db", "ls", "--file", path.join(dir, "missing.sqlite")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No SQLite file at ${path.join(dir, "missing.sqlite")}`);
  });

  it("stops on Ctrl-C with exit 130 and leaves no partial -o file", async () => {
    const dir = scratch();
    const file = path.join(dir, "big.sqlite");
    const db = new Database(file);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    db.exec(`WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 400000)
      INSERT INTO t (v) SELECT printf('%.200c', 'x') FROM s`);
    db.close();
    const cli = startCli(["db", "dump", "--file", file, "-o", "out.sql"], { cwd: dir });
    defer(() => cli.child.kill("SIGKILL"));
    const deadline = Date.now() + 20_000;
    while (!readdirSync(dir).some((name) => name.endsWith(".tmp")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(readdirSync(dir).some((name) => name.startsWith(".out.sql."))).toBe(true);
    cli.child.kill("SIGINT");
    expect(await cli.exit()).toBe(130);
    expect(readdirSync(dir)).toEqual(["big.sqlite"]);
  });

  it("ends quietly (exit 0) when the reader closes the pipe early, in every format", async () => {
    const dir = scratch();
    const file = path.join(dir, "many.sqlite");
    const db = new Database(file);
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
      WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 50000)
      INSERT INTO t (v) SELECT printf('%.100c', 'y') FROM s`);
    db.close();
    for (const format of ["sql", "json", "ndjson", "csv", "table"]) {
      const shell = `set -o pipefail; "${process.execPath}" "${CLI}" db dump --file "${file}" -f ${format} | head -c 1000 > /dev/null`;
      // execFileSync throws on a non-zero exit, with stderr in the message.
      expect(
        () => execFileSync("bash", ["-c", shell], { stdio: ["ignore", "ignore", "pipe"] }),
        format,
      ).not.toThrow();
    }
    const unknown = await runCli(["db", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "db nope"');
  });
});
