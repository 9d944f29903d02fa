// `npm run bench:db [-- --rows N]`: cfprobe's D1 reader against the tools a user would otherwise
// use, in one run on one generated database: SQL dump vs `sqlite3 FILE .dump` vs
// `wrangler d1 export --local`; JSON and NDJSON throughput; `db ls` latency; peak memory.
// Plain JavaScript on the built CLI (run `npm run build` first).
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
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
  cpSync(path.join(ROOT, "workers", "js-worker"), dir, { recursive: true, filter: (s) => !s.includes(".wrangler") });
  const state = d1StateDir(path.join(dir, ".wrangler", "state"));
  mkdirSync(state, { recursive: true });
  const file = path.join(state, d1FileNameFor("00000000-0000-0000-0000-00000000c0de"));
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec(`CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, kind TEXT NOT NULL,
    path TEXT, score REAL, payload TEXT, created_at INTEGER NOT NULL)`);
  db.exec("CREATE INDEX events_user ON events(user_id)");
  const insert = db.prepare("INSERT INTO events (user_id, kind, path, score, payload, created_at) VALUES (?,?,?,?,?,?)");
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

/** Runs a command, returns wall time in ms and peak RSS in MB (GNU time), failing loudly. */
function timed(command, args, { cwd = ROOT, stdout } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-f", "%M", command, ...args], {
    cwd,
    env: { ...process.env, ...QUIET },
    stdio: ["ignore", stdout ?? "ignore", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr}`);
  const rssKb = Number(result.stderr.trim().split("\n").at(-1));
  return { ms, rssMb: rssKb / 1024 };
}

function best(runs) {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return { ms: sorted[Math.floor(sorted.length / 2)].ms, rssMb: Math.max(...runs.map((run) => run.rssMb)) };
}

function repeat(times, run) {
  return best(Array.from({ length: times }, run));
}

const { dir, file } = generateWorker();
const out = (name) => path.join(dir, name);
const sizeMb = statSync(file).size / 1e6;
try {
  const cfprobeSql = repeat(REPEAT, () => timed(process.execPath, [CFPROBE, "db", "dump", "--target", dir, "-o", out("cfprobe.sql")]));
  const sqlite3Sql = repeat(REPEAT, () => {
    const started = process.hrtime.bigint();
    const result = spawnSync("sh", ["-c", `sqlite3 "${file}" .dump > "${out("sqlite3.sql")}"`]);
    if (result.status !== 0) throw new Error(`sqlite3 failed: ${result.stderr}`);
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, rssMb: 0 };
  });
  const wranglerSql = timed(process.execPath, [WRANGLER, "d1", "export", "page-counter", "--local", "--output", out("wrangler.sql")], { cwd: dir });
  const json = repeat(REPEAT, () => timed(process.execPath, [CFPROBE, "db", "dump", "--target", dir, "-f", "json", "-o", out("d.json")]));
  const ndjson = repeat(REPEAT, () => timed(process.execPath, [CFPROBE, "db", "dump", "--target", dir, "-f", "ndjson", "-o", out("d.ndjson")]));
  const ls = repeat(5, () => timed(process.execPath, [CFPROBE, "db", "ls", "--target", dir]));
  const version = spawnSync(process.execPath, [CFPROBE, "--version"], { encoding: "utf8" });
  const startup = repeat(5, () => timed(process.execPath, [CFPROBE, "--version"]));

  // The three SQL dumps hold the same rows.
  const inserts = (name) => readFileSync(out(name), "utf8").split("\n").filter((l) => l.startsWith("INSERT INTO")).length;
  const counts = { cfprobe: inserts("cfprobe.sql"), sqlite3: inserts("sqlite3.sql"), wrangler: inserts("wrangler.sql") };

  const rate = (run) => `${Math.round(ROWS / (run.ms / 1000)).toLocaleString("en-US")} rows/s`;
  const line = (what, run, note) =>
    `| ${what.padEnd(36)} | ${`${(run.ms / 1000).toFixed(2)} s`.padStart(8)} | ${run.rssMb ? `${run.rssMb.toFixed(0)} MB`.padStart(7) : "      -"} | ${note} |`;
  console.log(`D1 database: ${ROWS.toLocaleString("en-US")} rows, ${sizeMb.toFixed(1)} MB (cfprobe ${version.stdout.trim()}, node ${process.version})`);
  console.log(`INSERT lines: cfprobe ${counts.cfprobe}, sqlite3 ${counts.sqlite3}, wrangler ${counts.wrangler}\n`);
  console.log("| what                                 |     time | peak RSS | compared |");
  console.log("| --- | ---: | ---: | --- |");
  console.log(line("cfprobe db dump (sql)", cfprobeSql, `${(cfprobeSql.ms / sqlite3Sql.ms).toFixed(2)}x sqlite3's time; ${(wranglerSql.ms / cfprobeSql.ms).toFixed(1)}x faster than wrangler`));
  console.log(line("sqlite3 FILE .dump", sqlite3Sql, "reference"));
  console.log(line("wrangler d1 export --local", wranglerSql, `${(wranglerSql.ms / sqlite3Sql.ms).toFixed(1)}x sqlite3's time`));
  console.log(line("cfprobe db dump -f json", json, rate(json)));
  console.log(line("cfprobe db dump -f ndjson", ndjson, rate(ndjson)));
  console.log(line("cfprobe db ls", ls, `node + cfprobe startup alone: ${(startup.ms / 1000).toFixed(2)} s`));
  const failures = [];
  if (cfprobeSql.ms > 2 * sqlite3Sql.ms) failures.push("SQL dump slower than 2x sqlite3");
  if (wranglerSql.ms < 10 * cfprobeSql.ms) failures.push("SQL dump not 10x faster than wrangler");
  if (ls.ms > 300) failures.push("db ls over 300 ms");
  if (new Set(Object.values(counts)).size !== 1 || counts.cfprobe !== ROWS) failures.push("dumps differ in rows");
  console.log(failures.length ? `\nmissed targets: ${failures.join("; ")}` : "\nall targets met");
  process.exitCode = failures.length ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
