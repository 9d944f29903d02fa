#!/usr/bin/env node
// How long until a user knows why the Python worker does not start on this machine:
// `cfprobe diagnose-python` (probes + live trial, verdict with the fix) against what they would
// otherwise do, run `wrangler dev` on the Python worker and wait for it to fail. One run each,
// ratio printed. Offline, wrangler fails fast with a kj::Exception; behind a firewall that drops
// packets it hangs until the kernel gives up, where cfprobe still answers within --timeout.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CFPROBE, QUIET_WRANGLER_ENV, ROOT, WRANGLER } from "./lib.js";

const state = mkdtempSync(path.join(tmpdir(), "cfprobe-bench-"));
const env = {
  ...process.env,
  ...QUIET_WRANGLER_ENV,
  WRANGLER_LOG_PATH: state,
  NO_COLOR: "1",
};

function timed(label, args, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: "utf8", env, timeout: 180_000, ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const last = `${result.stdout}\n${result.stderr}`
    .split("\n")
    .find((line) => /^✗ |DNS lookup failed|could not resolve/.test(line));
  console.log(
    `${label.padEnd(38)} ${ms.toFixed(0).padStart(6)} ms  exit ${result.status}  ${(last ?? "").slice(0, 90)}`,
  );
  return ms;
}

try {
  // Warm the per-workerd derivation cache once, as any earlier cfprobe run would have.
  spawnSync(process.execPath, [CFPROBE, "python", "fetch", "--print-urls"], { env });
  const probesOnly = timed("cfprobe diagnose-python --no-trial", [CFPROBE, "diagnose-python", "--no-trial"]);
  const full = timed("cfprobe diagnose-python", [CFPROBE, "diagnose-python"]);
  const theirs = timed(
    "wrangler dev (wait for the failure)",
    [
      WRANGLER,
      "dev",
      "--local",
      "--port",
      "0",
      "--ip",
      "127.0.0.1",
      "--persist-to",
      state,
      "--show-interactive-dev-session=false",
    ],
    { cwd: path.join(ROOT, "workers", "py-worker") },
  );
  console.log(`ratio: wrangler dev / cfprobe diagnose-python = ${(theirs / full).toFixed(2)}x`);
  console.log(
    `ratio: wrangler dev / cfprobe diagnose-python --no-trial = ${(theirs / probesOnly).toFixed(2)}x`,
  );
} finally {
  rmSync(state, { recursive: true, force: true });
}
