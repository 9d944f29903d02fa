/**
 * Exactly which files the installed workerd downloads when it starts a Python worker: the Pyodide
 * bundle for the worker's compatibility settings and the stdlib packages of that release.
 * Everything comes from the installed workerd (its answer for the bundle, its compiled release
 * table and package locks for the rest), cached per workerd version because `dev py` asks for it
 * on every start.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { usageError } from "../errors.js";
import type { WorkerTarget } from "../project/target.js";
import { userCacheDir } from "./cache/location.js";
import { bundleNameFromWorkerd } from "./release.js";
import { installedWorkerd } from "./workerd.js";
import { bundleName, type PythonRelease, readWorkerdPythonData } from "./workerd-data.js";

export interface PyodideFile {
  kind: "bundle" | "package";
  name: string;
  url: string;
  integrity?: string;
  /** path relative to the cache root */
  cachePath: string;
}

export interface RequiredPyodideFiles {
  workerdVersion: string;
  pyodideVersion: string;
  files: PyodideFile[];
  /** `<pyodide>_<revision>_<backport>`, as in the bundle's file name. */
  bundleName: string;
  /** Folder name of the stdlib packages in python-package-bucket/, e.g. "20250808". */
  packagesVersion: string;
  /** "workerd" when derived, or the path of the manifest given by CFPROBE_PYODIDE_MANIFEST. */
  source: string;
}

/** Where workerd downloads from (workerd src/workerd/server/pyodide.c++, api/pyodide/pyodide.h). */
export const PYODIDE_HOST = "pyodide-capnp-bin.edgeworker.net";
const BASE_URL = `https://${PYODIDE_HOST}/`;

/**
 * Replaces the derived list with a JSON manifest (same shape as `cfprobe python fetch --print-urls
 * --json`). For mirrors and for tests that serve their own content; never needed otherwise.
 */
export const MANIFEST_ENV = "CFPROBE_PYODIDE_MANIFEST";

/**
 * SRI of the bundle for workerd releases whose binary does not carry it (PythonSnapshotRelease got
 * its `integrity` field after workerd 1.20260426). Values published in workerd's
 * build/python_metadata.bzl at those tags. Used only to verify a download, never to choose files:
 * a bundle missing here and in the binary is fetched unverified, with a warning.
 */
const PUBLISHED_BUNDLE_INTEGRITY: Record<string, string> = {
  "0.26.0a2_2024-03-01_78": "sha256-V1iAhkevGuXaTVQo+85FbC8CINU6F7F+H5uwnmfBHTU=",
  "0.28.2_2025-01-16_9": "sha256-uauWhzzVDWY9UUDpMOCOYxVbSHS9oCnjFizu039PL6U=",
};

/**
 * The oldest packages version is special-cased by workerd (requirements.c++ and
 * getPythonPackageFiles in pyodide.c++): it loads the stdlib modules themselves but not their
 * dependencies. The version string is a literal in workerd's code, so it is one here too.
 */
const OLDEST_PACKAGES_VERSION = "20240829.4";

export interface StdlibPackage {
  name: string;
  fileName: string;
  sha256: string;
}

/** What one workerd version says, saved so the 120 MB binary is read once per version. */
interface Derivation {
  formatVersion: 1;
  workerdVersion: string;
  releases: PythonRelease[];
  packages: Record<string, StdlibPackage[]>;
  /** "<date>|<flags>" -> bundle name, as workerd answered. */
  bundles: Record<string, string>;
}

export async function requiredPyodideFiles(
  target: WorkerTarget,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<RequiredPyodideFiles> {
  const env = options.env ?? process.env;
  const manifest = env[MANIFEST_ENV];
  if (manifest) return readManifest(manifest);

  const { compatibilityDate, compatibilityFlags } = target.config;
  if (!compatibilityFlags.includes("python_workers")) {
    throw usageError("not-python-worker", `${target.label} does not enable Python Workers.`, {
      hint: `Add compatibility_flags = ["python_workers"] to ${target.config.path}.`,
    });
  }
  if (!compatibilityDate) {
    throw usageError("config-invalid", `${target.config.path} has no compatibility_date.`, {
      hint: 'Add compatibility_date = "YYYY-MM-DD" (2025-09-29 or later selects Pyodide 0.28.2).',
    });
  }
  const workerd = installedWorkerd();
  // wrangler never passes workerd a date newer than the one it supports.
  const date = [compatibilityDate, workerd.compatibilityDate].sort()[0] ?? compatibilityDate;
  const flags = [...compatibilityFlags].sort();
  const key = `${date}|${flags.join(",")}`;

  const derivationFile = path.join(userCacheDir(env), "derived", `workerd-${workerd.version}.json`);
  let derivation = loadDerivation(derivationFile, workerd.version);
  let changed = false;
  if (!derivation) {
    derivation = deriveFromBinary(workerd.version, await readFile(workerd.binary));
    changed = true;
  }
  let name = derivation.bundles[key];
  if (!name) {
    name = (
      await bundleNameFromWorkerd(workerd.binary, { compatibilityDate: date, compatibilityFlags: flags })
    ).name;
    derivation.bundles[key] = name;
    changed = true;
  }
  if (changed) saveDerivation(derivationFile, derivation);

  const release = derivation.releases.find((candidate) => bundleName(candidate) === name);
  if (!release) {
    throw usageError(
      "pyodide-release-unknown",
      `workerd ${workerd.version} asks for Pyodide bundle ${name}, which is not in its release table.`,
      { hint: "This is a development bundle that is never downloaded; use the python_workers flag alone." },
    );
  }
  return {
    workerdVersion: workerd.version,
    pyodideVersion: release.realPyodideVersion,
    bundleName: name,
    packagesVersion: release.packages,
    files: filesFor(release, derivation.packages[release.packages] ?? []),
    source: "workerd",
  };
}

export function bundleFileName(name: string): string {
  return `pyodide_${name}.capnp.bin`;
}

/** The cache path of a stdlib package, as workerd names it under its package bucket. */
export function packageCachePath(packagesVersion: string, fileName: string): string {
  return `python-package-bucket/${packagesVersion}/${fileName}`;
}

export function filesFor(release: PythonRelease, packages: StdlibPackage[]): PyodideFile[] {
  const name = bundleName(release);
  const bundle = bundleFileName(name);
  const integrity = release.integrity ?? PUBLISHED_BUNDLE_INTEGRITY[name];
  return [
    {
      kind: "bundle",
      name: bundle,
      url: BASE_URL + bundle,
      ...(integrity ? { integrity } : {}),
      cachePath: bundle,
    },
    ...packages.map((pkg): PyodideFile => {
      const cachePath = packageCachePath(release.packages, pkg.fileName);
      return {
        kind: "package",
        name: pkg.fileName,
        url: BASE_URL + cachePath,
        integrity: sriFromHex(pkg.sha256),
        cachePath,
      };
    }),
  ];
}

export function deriveFromBinary(workerdVersion: string, binary: Buffer): Derivation {
  const data = readWorkerdPythonData(binary);
  if (data.releases.length === 0) {
    throw usageError(
      "pyodide-release-unknown",
      `Cannot read the Python release table from workerd ${workerdVersion}.`,
      { hint: "This workerd lays out its Python data differently; report it with `cfprobe --version`." },
    );
  }
  const packages: Record<string, StdlibPackage[]> = {};
  for (const [version, lock] of Object.entries(data.locks)) packages[version] = stdlibPackages(lock, version);
  return { formatVersion: 1, workerdVersion, releases: data.releases, packages, bundles: {} };
}

interface LockPackage {
  name: string;
  file_name: string;
  sha256: string;
  package_type: string;
  depends?: string[];
}

/**
 * The packages workerd preloads for a Python worker without requirements: every `cpython_module`
 * of the lock with its dependencies (workerd getPythonPackageNames / getPythonPackageFiles).
 * Worker requirements are not included: wrangler 4 vendors them into python_modules/.
 */
export function stdlibPackages(lockText: string, packagesVersion: string): StdlibPackage[] {
  const lock = JSON.parse(lockText) as { packages: Record<string, LockPackage> };
  const entries = Object.entries(lock.packages);
  const depends = new Map(entries.map(([key, pkg]) => [canonicalName(key), pkg.depends ?? []]));
  const wanted = new Set<string>();
  const add = (name: string) => {
    const canonical = canonicalName(name);
    if (wanted.has(canonical)) return;
    wanted.add(canonical);
    for (const dependency of depends.get(canonical) ?? []) add(dependency);
  };
  const oldest = packagesVersion === OLDEST_PACKAGES_VERSION;
  if (!oldest) for (const [key, pkg] of entries) if (pkg.package_type === "cpython_module") add(key);
  return entries
    .filter(([key, pkg]) => wanted.has(key) || (oldest && pkg.package_type === "cpython_module"))
    .map(([, pkg]) => ({ name: pkg.name, fileName: pkg.file_name, sha256: pkg.sha256 }));
}

/** Python's packaging.utils.canonicalize_name. */
function canonicalName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

export function sriFromHex(hex: string): string {
  return `sha256-${Buffer.from(hex, "hex").toString("base64")}`;
}

function loadDerivation(file: string, workerdVersion: string): Derivation | undefined {
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Derivation;
    if (saved.formatVersion === 1 && saved.workerdVersion === workerdVersion) return saved;
  } catch {
    // Missing or unreadable: derive again.
  }
  return undefined;
}

/** Best effort: a read-only cache folder only costs a re-derivation next time. */
function saveDerivation(file: string, derivation: Derivation): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(derivation));
    renameSync(temporary, file);
  } catch {
    // Ignored on purpose, see above.
  }
}

const manifestSchema = z.object({
  workerdVersion: z.string().min(1),
  pyodideVersion: z.string().min(1),
  bundleName: z.string().min(1),
  packagesVersion: z.string().min(1),
  files: z
    .array(
      z.object({
        kind: z.enum(["bundle", "package"]),
        name: z.string().regex(/^[^/\\]+$/),
        url: z.string().url(),
        integrity: z
          .string()
          .regex(/^sha256-[A-Za-z0-9+/]+=*$/)
          .optional(),
        cachePath: z
          .string()
          .min(1)
          .refine((value) => !path.isAbsolute(value) && !value.split(/[/\\]/).includes(".."), {
            message: "must be a relative path inside the cache",
          }),
      }),
    )
    .min(1),
});

function readManifest(file: string): RequiredPyodideFiles {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw usageError("manifest-invalid", `Cannot read the Pyodide manifest ${file} (${MANIFEST_ENV}).`, {
      hint: `Point ${MANIFEST_ENV} at a JSON file, or unset it.`,
      cause: error,
    });
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw usageError(
      "manifest-invalid",
      `The Pyodide manifest ${file} is invalid: ${issue?.path.join(".")} ${issue?.message}.`,
      { hint: `Fix it or unset ${MANIFEST_ENV}.` },
    );
  }
  return { ...result.data, source: file };
}
