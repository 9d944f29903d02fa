import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { missingError, usageError } from "../../errors.js";

/**
 * Where the Python code of a worker comes from on the Pyodide runtime, never from the internet:
 * the entry module's folder, the worker's vendored `python_modules/` (the Python Workers
 * convention), and, for dependencies in pyproject.toml that are not vendored, pure-Python packages
 * installed on this machine (Debian's python3-* packages), with their own dependencies.
 */

/** Folders searched for locally installed pure-Python packages, in order. */
export const SYSTEM_PACKAGE_DIRS = ["/usr/lib/python3/dist-packages"];

/** The Python version Pyodide 0.28.2 runs, for environment markers. */
const PYTHON_VERSION = [3, 13] as const;

export interface LocalPackage {
  /** Distribution name as declared (e.g. starlette). */
  distribution: string;
  version?: string;
  /** Files or folders to put on Pyodide's sys.path, by their import name. */
  modules: { name: string; source: string }[];
}

export interface PythonSources {
  entryDir: string;
  entryModule: string;
  vendorDir?: string;
  packages: LocalPackage[];
}

export interface Requirement {
  name: string;
  marker?: string;
}

/** PEP 503 normalisation: Foo.Bar_baz -> foo-bar-baz. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Parses a PEP 508 requirement line into its name and marker (versions are not checked). */
export function parseRequirement(line: string): Requirement | undefined {
  const [spec = "", marker] = line.split(";", 2);
  const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec)?.[1];
  if (!name) return undefined;
  return marker?.trim() ? { name, marker: marker.trim() } : { name };
}

/**
 * Whether a marker holds inside Pyodide. Extras are never installed; python_version comparisons
 * are evaluated against 3.13; platform markers other than emscripten/wasm do not hold. Clauses
 * are treated as joined by `and`, which is how distribution metadata writes them in practice.
 */
export function markerHolds(marker: string | undefined): boolean {
  if (!marker) return true;
  if (/\bextra\s*==/.test(marker)) return false;
  for (const [, op, version] of marker.matchAll(
    /python_version\s*(<=|>=|==|!=|<|>)\s*["'](\d+(?:\.\d+)?)["']/g,
  )) {
    const [major = 0, minor = 0] = (version ?? "").split(".").map(Number);
    const cmp = PYTHON_VERSION[0] - major || PYTHON_VERSION[1] - minor;
    const holds = {
      "<": cmp < 0,
      "<=": cmp <= 0,
      ">": cmp > 0,
      ">=": cmp >= 0,
      "==": cmp === 0,
      "!=": cmp !== 0,
    }[op as "<"];
    if (!holds) return false;
  }
  for (const [, op, value] of marker.matchAll(
    /(?:sys_platform|platform_system|os_name)\s*(==|!=)\s*["']([^"']+)["']/g,
  )) {
    const ours = ["emscripten", "Emscripten", "posix"].includes(value ?? "");
    if ((op === "==") !== ours) return false;
  }
  return true;
}

/** The dependencies a worker declares in pyproject.toml ([project] dependencies). */
export function declaredDependencies(workerDir: string): Requirement[] {
  const file = path.join(workerDir, "pyproject.toml");
  if (!existsSync(file)) return [];
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw usageError("pyproject-invalid", `${file} is not valid TOML: ${(error as Error).message}`);
  }
  const project = parsed.project as { dependencies?: unknown } | undefined;
  const list = Array.isArray(project?.dependencies) ? project.dependencies : [];
  return list.flatMap((line) => (typeof line === "string" ? (parseRequirement(line) ?? []) : []));
}

interface InstalledDistribution {
  name: string;
  version?: string;
  metadataDir: string;
  root: string;
}

function findInstalled(name: string, roots: readonly string[]): InstalledDistribution | undefined {
  const wanted = normalizeName(name);
  for (const root of roots) {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const match = /^(.+?)-([^-]+?)(?:-py[\d.]+)?\.(dist-info|egg-info)$/.exec(entry);
      if (match && normalizeName(match[1] ?? "") === wanted) {
        return { name: match[1] ?? name, version: match[2], metadataDir: path.join(root, entry), root };
      }
    }
  }
  return undefined;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Requirements of an installed distribution, from METADATA (dist-info) or requires.txt (egg-info). */
function requirementsOf(dist: InstalledDistribution): Requirement[] {
  const metadata = readIfExists(path.join(dist.metadataDir, "METADATA"));
  if (metadata !== undefined) {
    return metadata
      .split("\n")
      .filter((line) => line.startsWith("Requires-Dist:"))
      .flatMap((line) => parseRequirement(line.slice("Requires-Dist:".length)) ?? []);
  }
  const requires = readIfExists(path.join(dist.metadataDir, "requires.txt")) ?? "";
  const result: Requirement[] = [];
  let section: string | undefined;
  for (const raw of requires.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    // [extra] sections are optional features; [:marker] sections are conditional requirements.
    if (section === undefined) result.push(...[parseRequirement(line) ?? []].flat());
    else if (section.startsWith(":")) {
      const requirement = parseRequirement(line);
      if (requirement) result.push({ ...requirement, marker: section.slice(1) });
    }
  }
  return result;
}

/**
 * Debian strips some requirements from the metadata it installs (python3-anyio's requires.txt
 * lacks idna and sniffio) and keeps them as package dependencies instead; this reads those from
 * dpkg's database: `python3-x` dependencies, skipping alternatives that Python itself satisfies.
 */
export function debianRequirements(distribution: string, dpkgStatus: string): Requirement[] {
  const packageName = `python3-${normalizeName(distribution)}`;
  const stanza = dpkgStatus.split("\n\n").find((block) => block.startsWith(`Package: ${packageName}\n`));
  const depends = /^Depends: (.*)$/m.exec(stanza ?? "")?.[1] ?? "";
  return depends.split(",").flatMap((clause) => {
    const alternatives = clause.split("|").map((alternative) => alternative.trim().split(/[\s:(]/)[0] ?? "");
    const first = alternatives[0] ?? "";
    if (!first.startsWith("python3-") || alternatives.some((name) => name === "python3")) return [];
    return [{ name: first.slice("python3-".length) }];
  });
}

let dpkgStatusCache: string | undefined;
function dpkgStatus(): string {
  dpkgStatusCache ??= readIfExists("/var/lib/dpkg/status") ?? "";
  return dpkgStatusCache;
}

/** Import names a distribution provides: top_level.txt, else the top folders of RECORD. */
function modulesOf(dist: InstalledDistribution): { name: string; source: string }[] {
  const topLevel = readIfExists(path.join(dist.metadataDir, "top_level.txt"));
  let names = topLevel?.split("\n").map((line) => line.trim()) ?? [];
  if (names.length === 0 || names.every((name) => !name)) {
    const record = readIfExists(path.join(dist.metadataDir, "RECORD")) ?? "";
    names = record.split("\n").map((line) => line.split(/[/,]/)[0] ?? "");
  }
  const found = new Map<string, string>();
  for (const name of names) {
    if (!name || name.endsWith(".dist-info") || name.endsWith(".egg-info") || name === "__pycache__")
      continue;
    const dir = path.join(dist.root, name);
    const file = `${dir}.py`;
    if (existsSync(dir) && statSync(dir).isDirectory()) found.set(name, dir);
    else if (existsSync(file)) found.set(name, file);
  }
  return [...found].map(([name, source]) => ({ name, source }));
}

function isVendored(name: string, vendorDir: string | undefined): boolean {
  if (!vendorDir) return false;
  const importName = name.toLowerCase().replace(/[-.]/g, "_");
  return existsSync(path.join(vendorDir, importName)) || existsSync(path.join(vendorDir, `${importName}.py`));
}

/** Resolves the Python sources of a worker, failing clearly on a dependency found nowhere. */
export function resolvePythonSources(
  workerDir: string,
  entry: string,
  roots: readonly string[] = SYSTEM_PACKAGE_DIRS,
): PythonSources {
  const vendor = path.join(workerDir, "python_modules");
  const vendorDir = existsSync(vendor) ? vendor : undefined;
  const packages: LocalPackage[] = [];
  const seen = new Set<string>();
  const queue: Array<Requirement & { requiredBy: string }> = declaredDependencies(workerDir).map((req) => ({
    ...req,
    requiredBy: "pyproject.toml",
  }));
  while (queue.length > 0) {
    const requirement = queue.shift()!;
    const key = normalizeName(requirement.name);
    if (seen.has(key) || !markerHolds(requirement.marker)) continue;
    seen.add(key);
    if (isVendored(requirement.name, vendorDir)) continue;
    const dist = findInstalled(requirement.name, roots);
    if (!dist) {
      throw missingError(
        "python-package-missing",
        `The Python package "${requirement.name}" (required by ${requirement.requiredBy}) is neither in ${vendor} nor installed in ${roots.join(", ")}.`,
        {
          hint: `Vendor it into python_modules/ (\`uv run pywrangler sync\`), or install it locally: \`apt-get install python3-${key}\`.`,
          data: { package: requirement.name, requiredBy: requirement.requiredBy },
        },
      );
    }
    packages.push({ distribution: dist.name, version: dist.version, modules: modulesOf(dist) });
    const requirements = [...requirementsOf(dist), ...debianRequirements(dist.name, dpkgStatus())];
    for (const next of requirements) queue.push({ ...next, requiredBy: dist.name });
  }
  return {
    entryDir: path.dirname(entry),
    entryModule: path.basename(entry, ".py"),
    vendorDir,
    packages,
  };
}
