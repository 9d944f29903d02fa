import { cpSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { d1FileNameFor, d1StateDir } from "../../src/d1/files.js";
import { fingerprint } from "../d1-fixtures.js";
import { http, killGroup, portIsFree, ROOT, runCli, startCli, withCleanups } from "./helpers.js";

const { defer, tempDir } = withCleanups();

describe("cfprobe db against a running wrangler dev", () => {
  it("dumps the /counter count while wrangler runs and after, leaving the files unchanged", async () => {
    const worker = tempDir("db-jsw");
    cpSync(path.join(ROOT, "workers", "js-worker"), worker, {
      recursive: true,
      filter: (source) => !source.includes(".wrangler"),
    });
    const persistTo = tempDir("db-state");
    const cli = startCli(["dev", worker, "--port", "0", "--persist-to", persistTo, "--json"]);
    let wranglerPid = 0;
    defer(async () => {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
      if (wranglerPid) killGroup(wranglerPid);
    });
    const ready = JSON.parse(await cli.waitForLine(/"url"/)) as { url: string; pid: number; port: number };
    wranglerPid = ready.pid;
    for (let i = 1; i <= 3; i++) {
      expect(JSON.parse((await http(`${ready.url}/counter`)).body)).toEqual({ page: "counter", count: i });
    }

    const source = ["--target", worker, "--persist-to", persistTo];
    // wrangler's id precedence: this binding has a database_id and no preview id.
    const file = path.join(d1StateDir(persistTo), d1FileNameFor("00000000-0000-0000-0000-00000000c0de"));
    const whileRunning = fingerprint(file);
    expect(Object.keys(whileRunning)).toEqual(["folder", "db", "-wal", "-shm"]);

    const dump = await runCli(["db", "dump", ...source]);
    expect(dump.stderr).toBe(`dumped 1 table(s), 1 row(s) from ${file}`);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain(`INSERT INTO "page_views" VALUES('counter',3);`);
    const ls = await runCli(["db", "ls", ...source, "--json"]);
    expect(ls.code).toBe(0);
    const listing = JSON.parse(ls.stdout);
    expect(listing.databases).toEqual([
      expect.objectContaining({
        binding: "DB",
        databaseName: "page-counter",
        file,
        exists: true,
        strategy: "shared-wal",
        tables: [{ name: "page_views", rows: 1 }],
      }),
    ]);
    const query = await runCli([
      "db",
      "query",
      "SELECT count FROM page_views WHERE page = ?",
      "DB",
      "--param",
      "counter",
      "--json",
      ...source,
    ]);
    expect(JSON.parse(query.stdout)).toEqual([{ count: 3 }]);
    expect(fingerprint(file)).toEqual(whileRunning);

    // The worker still writes after our reads, and we see the new value.
    expect(JSON.parse((await http(`${ready.url}/counter`)).body).count).toBe(4);
    const again = await runCli(["db", "dump", "--format", "ndjson", ...source]);
    expect(again.stdout).toBe('{"table":"page_views","row":{"page":"counter","count":4}}');

    cli.child.kill("SIGINT");
    expect(await cli.exit()).toBe(130);
    expect(await portIsFree(ready.port)).toBe(true);
    const stopped = fingerprint(file);
    const afterStop = await runCli(["db", "dump", "--format", "json", ...source]);
    expect(JSON.parse(afterStop.stdout)).toEqual({ page_views: [{ page: "counter", count: 4 }] });
    expect(fingerprint(file)).toEqual(stopped);
  });
});
