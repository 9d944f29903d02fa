import { formatSeconds } from "../../net/probes.js";
import { displayProxy, readProxyEnv } from "../../net/proxy-env.js";
import { systemTrust } from "../../net/trust.js";
import type { WorkerTarget } from "../../project/target.js";
import { cacheCheck, configChecks, extraCaCheck, proxyEnvCheck, versionChecks } from "./local-checks.js";
import { type Deadline, hostChecks, probeHosts, timedOutProbes } from "./network.js";
import { runTrial, trialCheck } from "./trial.js";
import type { Check, Diagnosis, HostReport, RequiredFiles, TrialOutcome } from "./types.js";
import { decideVerdict } from "./verdict.js";

/** Time kept back at the end for stopping wrangler after the trial and for printing the report. */
const STOP_RESERVE_MS = 3000;
const REPORT_RESERVE_MS = 250;
/** Below this, wrangler cannot even load (about 1.3 s of CPU), so a trial would only say "timed out". */
const MIN_TRIAL_MS = 2000;

export interface DiagnoseOptions {
  /** The whole diagnosis finishes within this, even when every connection hangs. */
  timeoutMs: number;
  trial: boolean;
  env: NodeJS.ProcessEnv;
  /** Ctrl-C: stops the trial and the probes. */
  signal: AbortSignal;
  /** The files the installed workerd downloads for this worker (src/python/files.ts). */
  requiredFiles: (target: WorkerTarget) => RequiredFiles | Promise<RequiredFiles>;
  /** cfprobe's Pyodide cache for a workerd version (src/python/cache/location.ts). */
  cacheRoot: (workerdVersion: string) => string;
  /** Extra environment for the trial's wrangler. */
  trialEnv?: Record<string, string>;
  /** wrangler's log lines during the trial. */
  onLog?: (line: string) => void;
}

export async function diagnosePython(target: WorkerTarget, options: DiagnoseOptions): Promise<Diagnosis> {
  const started = Date.now();
  const deadlineAt = started + options.timeoutMs - REPORT_RESERVE_MS;
  const deadline = {
    signal: AbortSignal.any([options.signal, AbortSignal.timeout(Math.max(1, deadlineAt - Date.now()))]),
    remaining: () => Math.max(0, deadlineAt - Date.now()),
  };

  // The trial starts first: wrangler takes the longest, and needs nothing the other checks find.
  const config = configChecks(target);
  const configBroken = config.some((check) => check.status === "fail" && check.id !== "config-dependencies");
  const trialBudget = deadlineAt - Date.now() - STOP_RESERVE_MS;
  const trialPromise: Promise<TrialOutcome> = !options.trial
    ? Promise.resolve({ status: "skipped" })
    : configBroken
      ? Promise.resolve({ status: "skipped", reason: "fix the worker's config first" })
      : trialBudget < MIN_TRIAL_MS
        ? Promise.resolve({ status: "skipped", reason: "--timeout leaves no time to start wrangler" })
        : runTrial(target, {
            timeoutMs: trialBudget,
            signal: AbortSignal.any([options.signal, AbortSignal.timeout(trialBudget + 500)]),
            env: options.trialEnv,
            onLog: options.onLog,
          });
  // Handled below by Promise.all; this only keeps an early rejection (Ctrl-C) from counting as unhandled.
  trialPromise.catch(() => {});

  try {
    return await finishDiagnosis(target, options, { started, deadline, config, trialPromise });
  } catch (error) {
    // Whatever failed, wrangler is stopped before the error leaves.
    await trialPromise.catch(() => {});
    throw error;
  }
}

interface Started {
  started: number;
  deadline: Deadline;
  config: Check[];
  trialPromise: Promise<TrialOutcome>;
}

async function finishDiagnosis(
  target: WorkerTarget,
  options: DiagnoseOptions,
  { started, deadline, config, trialPromise }: Started,
): Promise<Diagnosis> {
  const { files, filesCheck } = await loadRequiredFiles(target, options);
  const proxies = readProxyEnv(options.env);
  const { complete: cacheComplete, ...cache } = await cacheCheck(
    files,
    files ? options.cacheRoot(files.workerdVersion) : undefined,
  );
  const localChecks: Check[] = [
    ...versionChecks(files),
    ...config,
    filesCheck,
    cache,
    proxyEnvCheck(proxies),
    extraCaCheck(options.env),
  ];

  const hostsPromise: Promise<HostReport[]> = files
    ? probeHosts(files.files, { proxies, ca: systemTrust(options.env).ca, deadline })
    : Promise.resolve([]);
  const [trial, hosts] = await Promise.all([trialPromise, hostsPromise]);

  const checks = [
    ...localChecks,
    ...hosts.flatMap((report) => hostChecks(report, proxies)),
    trialCheck(trial),
  ];
  const { ok, verdict } = decideVerdict({
    checks,
    trial,
    hosts,
    proxy: proxies.https ? displayProxy(proxies.https) : undefined,
    cacheComplete,
    targetLabel: target.label,
  });
  const timedOut = [
    ...timedOutProbes(hosts),
    ...(trial.status === "timeout" ? [`live trial (${formatSeconds(trial.durationMs)})`] : []),
  ];
  return {
    ok,
    verdict,
    checks,
    target: { label: target.label, config: target.config.path },
    workerdVersion: files?.workerdVersion,
    pyodideVersion: files?.pyodideVersion,
    urls: files?.files ?? [],
    timedOut,
    durationMs: Date.now() - started,
  };
}

async function loadRequiredFiles(
  target: WorkerTarget,
  options: DiagnoseOptions,
): Promise<{ files?: RequiredFiles; filesCheck: Check }> {
  const base = { id: "pyodide-urls", group: "Pyodide files", title: "files workerd downloads" };
  try {
    const files = await options.requiredFiles(target);
    const bundle = files.files.find((file) => file.kind === "bundle");
    const packages = files.files.filter((file) => file.kind === "package").length;
    const hosts = [...new Set(files.files.map((file) => new URL(file.url).hostname))];
    return {
      files,
      filesCheck: {
        ...base,
        status: "pass",
        detail: `Pyodide ${files.pyodideVersion}: ${bundle ? `bundle ${bundle.name}` : "no bundle"} + ${packages} package(s) from ${hosts.join(", ")}`,
      },
    };
  } catch (error) {
    return {
      filesCheck: {
        ...base,
        status: "fail",
        detail: `cannot derive them from the installed workerd: ${(error as Error).message}`,
        hint: (error as { hint?: string }).hint ?? "Reinstall cfprobe's dependencies with `npm ci`.",
      },
    };
  }
}
