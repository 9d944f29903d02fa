// `npm run bench:db [-- --rows N]`: cfprobe's D1 reader against the tools a user would otherwise
// use, in one run on one generated database: SQL dump vs `sqlite3 FILE .dump` vs
// `wrangler d1 export --local`; JSON and NDJSON throughput; `db ls` latency; peak memory.
// Plain JavaScript on the built CLI (run `npm run build` first).
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CFPROBE = path.join(ROOT, "bin", "cfprobe.js");
const require = createRequire(import.meta.url);
const Database = require("better-sqlite3");
const WRANGLER = path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const QUIET = {
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
  NO_COLOR: "1",
};

const rowsArg = process.argv.indexOf("--rows");
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 300_000;
const REPEAT = 3;

/** Workerd's file name for a D1 object name (FACTS.md), via cfprobe's own build. */
const { d1FileNameFor, d1StateDir } = await import(path.join(ROOT, "dist", "d1", "files.js"));

/** A private copy of the JS worker whose .wrangler/state holds a generated page-counter database. */
function generateWorker() {
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-bench-db-"));
  cpSync(path.join(ROOT, "workers", "js-worker"), dir, {
    recursive: true,
    filter: (s) => !s.includes(".wrangler"),
  });
  const state = d1StateDir(path.join(dir, ".wrangler", "state"));
  mkdirSync(state, { recursive: true });
  const file = path.join(state, d1FileNameFor("00000000-0000-0000-0000-00000000c0de"));
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec(`CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, kind TEXT NOT NULL,
    path TEXT, score REAL, payload TEXT, created_at INTEGER NOT NULL)`);
  db.exec("CREATE INDEX events_user ON events(user_id)");
  const insert = db.prepare(
    "INSERT INTO events (user_id, kind, path, score, payload, created_at) VALUES (?,?,?,?,?,?)",
  );
  const kinds = ["view", "click", "signup", "purchase"];
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      insert.run(
        i % 5000,
        kinds[i % 4],
        `/page/${i % 977}?ref=it's-${i % 13}`,
        i % 7 === 0 ? null : (i * 1.37) % 1000,
        `{"n":${i},"note":"event number ${i} with some text to make rows realistic"}`,
        1_700_000_000 + i,
      );
    }
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return { dir, file };
}

/**
 * Runs a command under GNU time: wall time, CPU time (user + system, steadier than wall time on
 * a shared machine) and peak RSS. `shell` runs a shell line (for sqlite3's redirect).
 */
function timed(command, args, { cwd = ROOT } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-f", "%U %S %M", command, ...args], {
    cwd,
    env: { ...process.env, ...QUIET },
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr}`);
  const [user, system, rssKb] = result.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { ms, cpuMs: (user + system) * 1000, rssMb: rssKb / 1024 };
}

/** The median of a few runs (peak RSS: the highest). */
function repeat(times, run) {
  const runs = Array.from({ length: times }, run);
  const median = (key) => [...runs].sort((a, b) => a[key] - b[key])[Math.floor(runs.length / 2)][key];
  return { ms: median("ms"), cpuMs: median("cpuMs"), rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

const { dir, file } = generateWorker();
const out = (name) => path.join(dir, name);
const sizeMb = statSync(file).size / 1e6;
try {
  const cfprobeSql = repeat(REPEAT, () =>
    timed(process.execPath, [CFPROBE, "db", "dump", "--target", dir, "-o", out("cfprobe.sql")]),
  );
  const sqlite3Sql = repeat(REPEAT, () =>
    timed("sh", ["-c", `sqlite3 "${file}" .dump > "${out("sqlite3.sql")}"`]),
  );
  const wranglerSql = timed(
    process.execPath,
    [WRANGLER, "d1", "export", "page-counter", "--local", "--output", out("wrangler.sql")],
    { cwd: dir },
  );
  const json = repeat(REPEAT, () =>
    timed(process.execPath, [CFPROBE, "db", "dump", "--target", dir, "-f", "json", "-o", out("d.json")]),
  );
  const ndjson = repeat(REPEAT, () =>
    timed(process.execPath, [CFPROBE, "db", "dump", "--target", dir, "-f", "ndjson", "-o", out("d.ndjson")]),
  );
  const ls = repeat(5, () => timed(process.execPath, [CFPROBE, "db", "ls", "--target", dir]));
  const version = spawnSync(process.execPath, [CFPROBE, "--version"], { encoding: "utf8" });

  // The three SQL dumps hold the same rows.
  const inserts = (name) =>
    readFileSync(out(name), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("INSERT INTO")).length;
  const counts = {
    cfprobe: inserts("cfprobe.sql"),
    sqlite3: inserts("sqlite3.sql"),
    wrangler: inserts("wrangler.sql"),
  };

  const rate = (run) => `${Math.round(ROWS / (run.ms / 1000)).toLocaleString("en-US")} rows/s`;
  const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const line = (what, run, note) =>
    `| ${what} | ${seconds(run.ms)} | ${seconds(run.cpuMs)} | ${run.rssMb.toFixed(0)} MB | ${note} |`;
  // Targets are on wall time (what a user waits for); CPU time is shown because wall time on a
  // shared machine is noisy, and wrangler's CPU misses the workerd it runs.
  const sqlRatio = cfprobeSql.ms / sqlite3Sql.ms;
  const sqlCpuRatio = cfprobeSql.cpuMs / sqlite3Sql.cpuMs;
  const wranglerRatio = wranglerSql.ms / cfprobeSql.ms;
  console.log(
    `D1 database: ${ROWS.toLocaleString("en-US")} rows, ${sizeMb.toFixed(1)} MB (cfprobe ${version.stdout.trim()}, node ${process.version}, load ${loadavg()[0].toFixed(1)})`,
  );
  console.log(
    `INSERT lines: cfprobe ${counts.cfprobe}, sqlite3 ${counts.sqlite3}, wrangler ${counts.wrangler}\n`,
  );
  console.log("| what | wall | CPU | peak RSS | compared |");
  console.log("| --- | ---: | ---: | ---: | --- |");
  console.log(
    line(
      "`cfprobe db dump` (sql)",
      cfprobeSql,
      `${sqlRatio.toFixed(2)}x sqlite3's wall time (CPU ${sqlCpuRatio.toFixed(2)}x); ${wranglerRatio.toFixed(1)}x faster than wrangler`,
    ),
  );
  console.log(line("`sqlite3 FILE .dump`", sqlite3Sql, "reference"));
  console.log(
    line(
      "`wrangler d1 export --local`",
      wranglerSql,
      `${(wranglerSql.ms / sqlite3Sql.ms).toFixed(1)}x sqlite3's wall time`,
    ),
  );
  console.log(line("`cfprobe db dump -f json`", json, rate(json)));
  console.log(line("`cfprobe db dump -f ndjson`", ndjson, rate(ndjson)));
  console.log(line("`cfprobe db ls`", ls, "latency, whole process"));
  const failures = [];
  if (sqlRatio > 2) failures.push("SQL dump over 2x sqlite3");
  if (wranglerRatio < 10) failures.push("SQL dump not 10x faster than wrangler");
  if (ls.ms > 300) failures.push("db ls over 300 ms");
  if (counts.cfprobe !== counts.sqlite3 || counts.cfprobe !== counts.wrangler)
    failures.push("dumps differ in rows");
  console.log(failures.length ? `\nmissed targets: ${failures.join("; ")}` : "\nall targets met");
  process.exitCode = failures.length ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
