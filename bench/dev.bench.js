// Time from spawn to the first HTTP 200: `cfprobe dev js` against the bare
// `wrangler dev --local` it wraps, interleaved so both see the same machine load.
import {
  bareWranglerArgs,
  CFPROBE,
  cleanup,
  freePort,
  median,
  printTable,
  tempDir,
  timeToFirst200,
} from "./lib.js";

const runs = Number(process.env.BENCH_RUNS ?? 7);

async function once(kind) {
  const port = await freePort();
  const persist = tempDir("dev");
  const args =
    kind === "cfprobe"
      ? [CFPROBE, "dev", "js", "--port", String(port), "--persist-to", persist, "--quiet"]
      : bareWranglerArgs(port, persist);
  try {
    return await timeToFirst200(args, port);
  } finally {
    cleanup(persist);
  }
}

const times = { wrangler: [], cfprobe: [] };
await once("wrangler"); // warm the file cache once, unmeasured
for (let i = 0; i < runs; i += 1) {
  for (const kind of i % 2 ? ["cfprobe", "wrangler"] : ["wrangler", "cfprobe"])
    times[kind].push(await once(kind));
}
const wrangler = median(times.wrangler);
const cfprobe = median(times.cfprobe);
console.log(`dev: spawn -> first HTTP 200, median of ${runs} interleaved runs each`);
printTable([
  ["command", "median ms", "runs ms"],
  ["wrangler dev --local", wrangler.toFixed(0), times.wrangler.map((t) => t.toFixed(0)).join(" ")],
  ["cfprobe dev js", cfprobe.toFixed(0), times.cfprobe.map((t) => t.toFixed(0)).join(" ")],
  ["ratio cfprobe/wrangler", (cfprobe / wrangler).toFixed(3), ""],
]);
