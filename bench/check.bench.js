// Wall time of `cfprobe check js` (the whole default suite, one restart included) against two bare
// `wrangler dev --local` startups (spawn -> first 200), the least any restart-proving check costs.

import { spawnSync } from "node:child_process";
import {
  bareWranglerArgs,
  CFPROBE,
  cleanup,
  freePort,
  median,
  printTable,
  ROOT,
  tempDir,
  timeToFirst200,
} from "./lib.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);

async function wranglerStartup(persist) {
  const port = await freePort();
  return timeToFirst200(bareWranglerArgs(port, persist), port);
}

async function timeCheck(env) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CFPROBE, "check", "js", "--quiet"], {
    cwd: ROOT,
    stdio: "ignore",
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) throw new Error(`cfprobe check js exited ${result.status}`);
  return performance.now() - started;
}

// With Chromium hidden the three browser checks are skipped: what the HTTP, restart and D1 checks cost.
const NO_BROWSER = { CFPROBE_CHROMIUM: "/nonexistent/chromium" };
const times = { twoStartups: [], check: [], checkNoBrowser: [] };
for (let i = 0; i < runs; i += 1) {
  const persist = tempDir("check");
  times.twoStartups.push((await wranglerStartup(persist)) + (await wranglerStartup(persist)));
  cleanup(persist);
  times.check.push(await timeCheck({}));
  times.checkNoBrowser.push(await timeCheck(NO_BROWSER));
}
const bare = median(times.twoStartups);
const check = median(times.check);
const checkNoBrowser = median(times.checkNoBrowser);
const row = (label, list) => [label, median(list).toFixed(0), list.map((t) => t.toFixed(0)).join(" ")];
console.log(`check: whole default suite vs two bare wrangler startups, median of ${runs} runs each`);
printTable([
  ["measure", "median ms", "runs ms"],
  row("2 x wrangler dev startup", times.twoStartups),
  row("cfprobe check js", times.check),
  row("  without browser checks", times.checkNoBrowser),
  ["ratio check/(2 startups)", (check / bare).toFixed(3), ""],
  ["  without browser checks", (checkNoBrowser / bare).toFixed(3), ""],
]);
