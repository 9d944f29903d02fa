import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { type ProxyEnv, redactCredentials } from "../../net/proxy-env.js";
import { inspectExtraCaCerts } from "../../net/trust.js";
import type { WorkerTarget } from "../../project/target.js";
import { inspectCache } from "../cache/store.js";
import type { Check, RequiredFiles } from "./types.js";

/** Checks that need no network: versions, the worker's config, the cache, proxy and CA settings. */

export function versionChecks(files: RequiredFiles | undefined): Check[] {
  const group = "Versions";
  const wrangler = packageVersion("wrangler");
  const workerd = files?.workerdVersion ?? installedWorkerdVersion();
  return [
    { id: "version-node", group, title: "Node.js", status: "pass", detail: process.versions.node },
    {
      id: "version-wrangler",
      group,
      title: "wrangler",
      status: wrangler ? "pass" : "fail",
      detail: wrangler ?? "not installed",
      hint: wrangler ? undefined : "Reinstall cfprobe's dependencies with `npm ci`.",
    },
    {
      id: "version-workerd",
      group,
      title: "workerd",
      status: workerd ? "pass" : "fail",
      detail: workerd ?? "not found",
      hint: workerd ? undefined : "Reinstall cfprobe's dependencies with `npm ci`.",
    },
  ];
}

export function configChecks(target: WorkerTarget): Check[] {
  const group = "Worker config";
  const { config } = target;
  const where = path.basename(config.path);
  const entry = config.main;
  const entryExists = entry !== undefined && existsSync(entry);
  const hasFlag = config.compatibilityFlags.includes("python_workers");
  return [
    {
      id: "config-flag",
      group,
      title: "python_workers flag",
      status: hasFlag ? "pass" : "fail",
      detail: hasFlag ? `set in ${where}` : `missing from compatibility_flags in ${where}`,
      hint: hasFlag ? undefined : `Add compatibility_flags = ["python_workers"] to ${config.path}.`,
    },
    {
      id: "config-date",
      group,
      title: "compatibility date",
      status: config.compatibilityDate ? "pass" : "fail",
      detail: config.compatibilityDate ?? `missing from ${where}`,
      hint: config.compatibilityDate
        ? undefined
        : `Add compatibility_date = "2025-09-29" (or later) to ${config.path}.`,
    },
    {
      id: "config-entry",
      group,
      title: "entry module",
      status: entryExists && config.isPython ? "pass" : "fail",
      detail: !entry
        ? `no main in ${where}`
        : !entryExists
          ? `${path.relative(config.dir, entry)} does not exist`
          : config.isPython
            ? path.relative(config.dir, entry)
            : `${path.relative(config.dir, entry)} is not a .py file`,
      hint:
        entryExists && config.isPython
          ? undefined
          : `Point main in ${config.path} at the worker's .py entry module.`,
    },
    dependencyCheck(target),
  ];
}

/** Dependencies in pyproject.toml must be vendored in python_modules/ for wrangler dev to load them. */
function dependencyCheck(target: WorkerTarget): Check {
  const base = { id: "config-dependencies", group: "Worker config", title: "dependencies" };
  const pyproject = path.join(target.dir, "pyproject.toml");
  if (!existsSync(pyproject)) return { ...base, status: "pass", detail: "no pyproject.toml: none declared" };
  let declared: string[];
  try {
    const parsed = parseToml(readFileSync(pyproject, "utf8")) as { project?: { dependencies?: unknown } };
    const list = Array.isArray(parsed.project?.dependencies) ? parsed.project.dependencies : [];
    declared = list.filter((item): item is string => typeof item === "string").map(requirementName);
  } catch (error) {
    return { ...base, status: "warn", detail: `pyproject.toml does not parse: ${(error as Error).message}` };
  }
  if (declared.length === 0) return { ...base, status: "pass", detail: "none declared" };
  const vendorDir = path.join(target.dir, "python_modules");
  const missing = declared.filter((name) => !existsSync(path.join(vendorDir, name.replaceAll("-", "_"))));
  if (missing.length === 0) {
    return { ...base, status: "pass", detail: `${declared.join(", ")} vendored in python_modules/` };
  }
  return {
    ...base,
    status: "warn",
    detail: `${missing.join(", ")} declared in pyproject.toml but not vendored in python_modules/`,
    hint: `Vendor them with \`uv run pywrangler sync\` in ${target.dir} (needs the package index once).`,
  };
}

/** Which required files cfprobe's cache already holds, checked against their integrity. */
export async function cacheCheck(
  files: RequiredFiles | undefined,
  cacheRoot: string | undefined,
): Promise<Check & { complete: boolean }> {
  const base = { id: "cache", group: "Pyodide files", title: "local cache" };
  if (!files || !cacheRoot)
    return { ...base, status: "skip", detail: "no file list to check", complete: false };
  const cached = await inspectCache(cacheRoot, files.files);
  const usable = cached.filter((file) => file.state === "valid" || file.state === "unverified");
  const invalid = cached.filter((file) => file.state === "invalid");
  const complete = usable.length === cached.length;
  const detail = complete
    ? `all ${cached.length} files present and valid in ${cacheRoot}`
    : `${usable.length} of ${cached.length} files present and valid in ${cacheRoot}${
        invalid.length ? `; integrity mismatch: ${invalid.map((file) => file.name).join(", ")}` : ""
      }`;
  return {
    ...base,
    status: complete ? "pass" : invalid.length ? "fail" : usable.length ? "warn" : "skip",
    detail,
    hint: complete
      ? undefined
      : "Fill it with `cfprobe python fetch` (through HTTPS_PROXY) or `cfprobe python import`.",
    complete,
  };
}

export function proxyEnvCheck(proxies: ProxyEnv): Check {
  const base = { id: "proxy-env", group: "Proxy and certificates", title: "proxy environment" };
  if (proxies.invalid.length > 0) {
    return {
      ...base,
      status: "fail",
      detail: `not an http(s) proxy URL: ${proxies.invalid.map((v) => `${v.name}=${v.redacted}`).join(", ")}`,
      hint: "Set HTTPS_PROXY=http://host:port (with user:password@ if the proxy needs them).",
    };
  }
  if (proxies.variables.length === 0) return { ...base, status: "pass", detail: "no proxy configured" };
  return {
    ...base,
    status: "pass",
    detail: proxies.variables.map((v) => `${v.name}=${redactCredentials(v.redacted)}`).join(", "),
  };
}

export function extraCaCheck(env: NodeJS.ProcessEnv): Check {
  const base = { id: "ca-extra", group: "Proxy and certificates", title: "NODE_EXTRA_CA_CERTS" };
  const report = inspectExtraCaCerts(env);
  switch (report.status) {
    case "unset":
      return { ...base, status: "pass", detail: "not set (system trust store only)" };
    case "ok":
      return { ...base, status: "pass", detail: report.detail };
    case "has-private-key":
      return {
        ...base,
        status: "fail",
        detail: `${report.detail}: workerd crashes on it`,
        hint: `Keep only the CERTIFICATE blocks: \`openssl x509 -in ${report.file} -out ca-only.pem\` (one certificate) or remove the key block, then point NODE_EXTRA_CA_CERTS at that file.`,
      };
    default:
      return {
        ...base,
        status: "fail",
        detail: report.detail,
        hint: "Point NODE_EXTRA_CA_CERTS at a readable PEM file of your proxy's CA certificate(s), or unset it.",
      };
  }
}

function requirementName(requirement: string): string {
  return (/^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(requirement.trim())?.[0] ?? requirement).toLowerCase();
}

function packageVersion(name: string, from = import.meta.url): string | undefined {
  try {
    return (createRequire(from)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** The workerd that wrangler's miniflare runs (not necessarily a top-level one). */
function installedWorkerdVersion(): string | undefined {
  try {
    const wrangler = createRequire(import.meta.url).resolve("wrangler/package.json");
    const miniflare = createRequire(wrangler).resolve("miniflare/package.json");
    return packageVersion("workerd", miniflare);
  } catch {
    return undefined;
  }
}
