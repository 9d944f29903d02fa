import { createHash, randomBytes } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { PyodideFile } from "../files.js";
import { isCheckableIntegrity, sriOfFile } from "./integrity.js";

/** Suffix of files being written; they never have the final name until complete and verified. */
export const PARTIAL_SUFFIX = ".cfprobe-partial";

/**
 * Writes `source` to `destination` atomically: into a temporary file in the same folder, checked by
 * `verify` once complete, then renamed. On any failure the temporary file is removed and the
 * destination is left as it was.
 */
export async function writeAtomically(
  destination: string,
  source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  verify: (temporary: string) => Promise<void> = async () => {},
): Promise<void> {
  mkdirSync(path.dirname(destination), { recursive: true });
  const temporary = `${destination}.${process.pid}-${randomBytes(4).toString("hex")}${PARTIAL_SUFFIX}`;
  const sink = createWriteStream(temporary, { flags: "wx" });
  try {
    await pipeline(source, sink);
    await verify(temporary);
    renameSync(temporary, destination);
  } finally {
    // A source that fails at once can reject before the sink has even opened its file; removing
    // it before the sink closes would let the file appear afterwards.
    if (!sink.closed) await new Promise<void>((resolve) => sink.once("close", () => resolve()));
    rmSync(temporary, { force: true });
  }
}

export type FileState = "valid" | "missing" | "invalid" | "unverified";

export interface CachedFile extends PyodideFile {
  path: string;
  state: FileState;
  size?: number;
}

/** Which of `files` the cache at `root` holds, and whether each matches its integrity. */
export async function inspectCache(root: string, files: PyodideFile[]): Promise<CachedFile[]> {
  return Promise.all(
    files.map(async (file): Promise<CachedFile> => {
      const location = path.join(root, file.cachePath);
      if (!existsSync(location)) return { ...file, path: location, state: "missing" };
      const size = statSync(location).size;
      if (!isCheckableIntegrity(file.integrity))
        return { ...file, path: location, state: "unverified", size };
      const actual = await sriOfFile(location);
      return { ...file, path: location, state: actual === file.integrity ? "valid" : "invalid", size };
    }),
  );
}

export interface CacheEntry {
  workerdVersion: string;
  path: string;
  files: Array<{ path: string; size: number }>;
  bytes: number;
}

/** Every per-workerd-version cache under `base`, with its files (partial files excluded). */
export async function listCaches(base: string): Promise<CacheEntry[]> {
  if (!existsSync(base)) return [];
  const entries: CacheEntry[] = [];
  for (const version of (await readdir(base, { withFileTypes: true })).filter((entry) =>
    entry.isDirectory(),
  )) {
    const root = path.join(base, version.name);
    const files = await filesUnder(root);
    entries.push({
      workerdVersion: version.name,
      path: root,
      files,
      bytes: files.reduce((sum, file) => sum + file.size, 0),
    });
  }
  return entries.sort((a, b) => a.workerdVersion.localeCompare(b.workerdVersion));
}

async function filesUnder(root: string): Promise<Array<{ path: string; size: number }>> {
  const found: Array<{ path: string; size: number }> = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith(PARTIAL_SUFFIX)) continue;
    const full = path.join(entry.parentPath, entry.name);
    found.push({ path: path.relative(root, full), size: (await stat(full)).size });
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** Removes the caches of one workerd version, or all of them; returns what was removed. */
export async function clearCaches(base: string, workerdVersion?: string): Promise<CacheEntry[]> {
  const caches = (await listCaches(base)).filter(
    (entry) => workerdVersion === undefined || entry.workerdVersion === workerdVersion,
  );
  for (const entry of caches) rmSync(entry.path, { recursive: true, force: true });
  return caches;
}

/**
 * workerd reads a stdlib package from `<package dir>/<file>` but saves one it downloaded under
 * `<package dir>/python-package-bucket/<version>/<file>` (FACTS.md). After a run that downloaded
 * (online), move such files to where the next run reads them, if they match their integrity.
 */
export function adoptWorkerdDownloads(root: string, files: PyodideFile[]): string[] {
  const adopted: string[] = [];
  for (const file of files) {
    if (file.kind !== "package") continue;
    const wanted = path.join(root, file.cachePath);
    const written = path.join(path.dirname(wanted), file.cachePath);
    if (!existsSync(written) || existsSync(wanted)) continue;
    const bytes = readFileSync(written);
    const actual = `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
    if (isCheckableIntegrity(file.integrity) && actual !== file.integrity) continue;
    renameSync(written, wanted);
    adopted.push(wanted);
  }
  return adopted;
}
