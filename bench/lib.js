// Shared pieces of the benchmark scripts: start a command in its own process group, time it to the
// first HTTP 200, stop the whole group, and summarise. Plain JavaScript so a bench needs no build
// beyond cfprobe's own.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CFPROBE = path.join(ROOT, "bin", "cfprobe.js");
export const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
export const QUIET_WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
};

export function tempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), `cfprobe-bench-${prefix}-`));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canBind(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function groupAlive(pgid) {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) return true;
    } catch {}
  }
  return false;
}

/** Starts `command` in a process group of its own; stop() ends the group and frees the port. */
export function startGroup(command, args, { cwd = ROOT, env = {}, port } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "ignore", "ignore"],
  });
  return {
    child,
    async stop() {
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {}
      for (let i = 0; i < 200 && groupAlive(child.pid); i += 1) await sleep(25);
      if (groupAlive(child.pid)) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
        for (let i = 0; i < 200 && groupAlive(child.pid); i += 1) await sleep(25);
      }
      if (port) for (let i = 0; i < 200 && !(await canBind(port)); i += 1) await sleep(25);
    },
  };
}

/** Milliseconds from `since` until GET url answers 200 (bounded by `timeoutMs`). */
export async function msUntil200(url, since, timeoutMs = 60_000) {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {}
    await sleep(10);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Prints an aligned table on stdout. */
export function printTable(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  for (const row of rows)
    console.log(row.map((cell, column) => String(cell).padEnd(widths[column])).join("  "));
}

export const JS_WORKER = path.join(ROOT, "workers", "js-worker");

/**
 * Milliseconds from spawning `node args…` in the JS worker's folder until it answers 200 on
 * `port`; the process group is stopped and the port freed before this returns.
 */
export async function timeToFirst200(args, port) {
  const started = performance.now();
  const group = startGroup(process.execPath, args, { cwd: JS_WORKER, env: QUIET_WRANGLER_ENV, port });
  try {
    return await msUntil200(`http://127.0.0.1:${port}/`, started);
  } finally {
    await group.stop();
  }
}

/** The bare `wrangler dev --local` a user would run, on `port` with state in `persist`. */
export function bareWranglerArgs(port, persist) {
  return [WRANGLER, "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist];
}
