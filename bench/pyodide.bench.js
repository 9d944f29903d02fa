#!/usr/bin/env node
// Time to ready and request latency of the Python worker on cfprobe's Pyodide runtime, against the
// JavaScript worker on workerd (cfprobe dev js, i.e. wrangler dev), measured in the same run.
// Usage: npm run build && npm run bench:pyodide [-- --requests 1000 --starts 3]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "bin", "cfprobe.js");
const { values } = parseArgs({
  options: { requests: { type: "string", default: "1000" }, starts: { type: "string", default: "3" } },
});
const REQUESTS = Number(values.requests);
const STARTS = Number(values.starts);

const RUNTIMES = [
  { name: "js on workerd", args: ["js"] },
  { name: "py on pyodide", args: ["py", "--runtime", "pyodide"] },
];

/** Starts `cfprobe dev` and resolves when it prints its ready line (bounded to 120 s). */
function startDev(args, persist) {
  const began = performance.now();
  const child = spawn(
    process.execPath,
    [CLI, "dev", ...args, "--port", "0", "--persist-to", persist, "--json"],
    {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, NO_COLOR: "1" },
    },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGINT");
      reject(new Error(`cfprobe dev ${args.join(" ")} was not ready within 120 s`));
    }, 120_000);
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      const ready = JSON.parse(line);
      resolve({
        url: ready.url,
        readyMs: performance.now() - began,
        stop: async () => {
          child.kill("SIGINT");
          await exited;
        },
      });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`cfprobe dev ${args.join(" ")} exited with ${code} before it was ready`));
    });
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function latencies(url, route, agent) {
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const began = performance.now();
    const response = await request(`${url}${route}`, {
      dispatcher: agent,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${route} answered ${response.statusCode}`);
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const results = [];
for (const runtime of RUNTIMES) {
  const readyTimes = [];
  let measured;
  for (let start = 0; start < STARTS; start++) {
    const persist = mkdtempSync(path.join(tmpdir(), "cfprobe-bench-"));
    const worker = await startDev(runtime.args, persist);
    try {
      readyTimes.push(worker.readyMs);
      if (start === STARTS - 1) {
        const agent = new Agent({ keepAliveTimeout: 10_000 });
        const root = await latencies(worker.url, "/", agent);
        const counter = await latencies(worker.url, "/counter", agent);
        await agent.close();
        measured = { root, counter };
      }
    } finally {
      await worker.stop();
      rmSync(persist, { recursive: true, force: true });
    }
  }
  readyTimes.sort((a, b) => a - b);
  results.push({
    runtime: runtime.name,
    readyMs: percentile(readyTimes, 50),
    readyAll: readyTimes,
    ...measured,
  });
}

const ms = (value) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const [js, py] = results;
console.log(
  `cfprobe dev, ${STARTS} starts each (median time to ready), ${REQUESTS} sequential requests per route`,
);
console.log("runtime          ready      /  p50     /  p99     /counter p50  /counter p99");
for (const r of results) {
  console.log(
    `${r.runtime.padEnd(16)} ${ms(r.readyMs).padEnd(10)} ${ms(r.root.p50).padEnd(9)}  ${ms(r.root.p99).padEnd(9)}  ${ms(r.counter.p50).padEnd(12)}  ${ms(r.counter.p99)}`,
  );
}
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
console.log(
  `pyodide / workerd: ready ${ratio(py.readyMs, js.readyMs)}, / p50 ${ratio(py.root.p50, js.root.p50)}, /counter p50 ${ratio(py.counter.p50, js.counter.p50)}`,
);
mkdirSync(path.join(ROOT, "bench", "out"), { recursive: true });
writeFileSync(
  path.join(ROOT, "bench", "out", "pyodide.json"),
  `${JSON.stringify({ requests: REQUESTS, starts: STARTS, results }, null, 2)}\n`,
);
