#!/usr/bin/env node
// How long it takes to learn which Pyodide bundle URL the installed workerd needs:
// `cfprobe python fetch --print-urls` (derivation cached per workerd version) against what a user
// would otherwise do, start `wrangler dev` on the Python worker and read the URL from its failure
// (offline: the DNS error; run with --verbose so workerd logs the URL). One run, ratio printed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CFPROBE, QUIET_WRANGLER_ENV, ROOT, WRANGLER } from "./lib.js";

const state = mkdtempSync(path.join(tmpdir(), "cfprobe-bench-"));
const env = {
  ...process.env,
  ...QUIET_WRANGLER_ENV,
  NO_COLOR: "1",
};

function timed(label, command, args, options) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: "utf8", env, timeout: 120_000, ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const text = `${result.stdout}\n${result.stderr}`;
  const url = /https:\/\/pyodide-capnp-bin\.edgeworker\.net\/pyodide_[^\s;]+\.capnp\.bin/.exec(text)?.[0];
  console.log(`${label.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  ${url ?? "(no URL found)"}`);
  return ms;
}

try {
  // Warm the derivation cache once, as any earlier cfprobe run would have.
  spawnSync(process.execPath, [CFPROBE, "python", "fetch", "--print-urls"], {
    env,
  });
  const ours = timed("cfprobe python fetch --print-urls", process.execPath, [
    CFPROBE,
    "python",
    "fetch",
    "--print-urls",
  ]);
  const theirs = timed(
    "wrangler dev (read the failure)",
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--local",
      "--port",
      "0",
      "--ip",
      "127.0.0.1",
      "--log-level",
      "debug",
      "--persist-to",
      state,
      "--show-interactive-dev-session=false",
    ],
    { cwd: path.join(ROOT, "workers", "py-worker") },
  );
  console.log(`ratio: wrangler dev / cfprobe = ${(theirs / ours).toFixed(1)}x`);
} finally {
  rmSync(state, { recursive: true, force: true });
}
