// Wall time of `cfprobe check js` (the whole default suite, one restart included) against two bare
// `wrangler dev --local` startups (spawn -> first 200), the least any restart-proving check costs.

import { spawnSync } from "node:child_process";
import path from "node:path";
import {
  CFPROBE,
  cleanup,
  freePort,
  median,
  msUntil200,
  printTable,
  QUIET_WRANGLER_ENV,
  ROOT,
  startGroup,
  tempDir,
  WRANGLER,
} from "./lib.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const worker = path.join(ROOT, "workers", "js-worker");

async function wranglerStartup(persist) {
  const port = await freePort();
  const started = performance.now();
  const group = startGroup(
    process.execPath,
    [WRANGLER, "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist],
    {
      cwd: worker,
      env: QUIET_WRANGLER_ENV,
      port,
    },
  );
  try {
    return await msUntil200(`http://127.0.0.1:${port}/`, started);
  } finally {
    await group.stop();
  }
}

const times = { twoStartups: [], check: [] };
for (let i = 0; i < runs; i += 1) {
  const persist = tempDir("check");
  times.twoStartups.push((await wranglerStartup(persist)) + (await wranglerStartup(persist)));
  cleanup(persist);
  const started = performance.now();
  const result = spawnSync(process.execPath, [CFPROBE, "check", "js", "--quiet"], {
    cwd: ROOT,
    stdio: "ignore",
  });
  times.check.push(performance.now() - started);
  if (result.status !== 0) throw new Error(`cfprobe check js exited ${result.status}`);
}
const bare = median(times.twoStartups);
const check = median(times.check);
console.log(`check: whole default suite vs two bare wrangler startups, median of ${runs} runs each`);
printTable([
  ["measure", "median ms", "runs ms"],
  ["2 x wrangler dev startup", bare.toFixed(0), times.twoStartups.map((t) => t.toFixed(0)).join(" ")],
  ["cfprobe check js", check.toFixed(0), times.check.map((t) => t.toFixed(0)).join(" ")],
  ["ratio check/(2 startups)", (check / bare).toFixed(3), ""],
]);
