/**
 * Reads the Python release table and the stdlib package locks that are compiled into the workerd
 * binary as Cap'n Proto constants (workerd src/pyodide/pyodide_extra.capnp: `releases` and
 * `packageLocks`). Reading them from the installed binary keeps cfprobe right for every workerd
 * release without a table of our own.
 */

/** One entry of workerd's `releases` constant (struct PythonSnapshotRelease). */
export interface PythonRelease {
  pyodide: string;
  pyodideRevision: string;
  packages: string;
  backport: number;
  /** The capnp name of the compatibility flag that selects it, e.g. "pythonWorkers20250116". */
  flagName: string;
  realPyodideVersion: string;
  /** SRI of the bundle; only workerd releases whose struct has the `integrity` field carry it. */
  integrity?: string;
}

export interface WorkerdPythonData {
  releases: PythonRelease[];
  /** packages version (e.g. "20250808") -> pyodide-lock.json text. */
  locks: Record<string, string>;
}

const WORD = 8;
// Field order of PythonSnapshotRelease: pointers pyodide@0, pyodideRevision@1, packages@2,
// baselineSnapshotHash@4, fieldName@5, flagName@6, realPyodideVersion@7, integrity@8 (newer
// releases); data word 0 is backport@3.
const RELEASE_POINTERS = { pyodide: 0, revision: 1, packages: 2, flagName: 5, real: 6, integrity: 7 };
const RELEASE_MIN_POINTERS = 7;

/**
 * Scans the binary for Cap'n Proto inline-composite list tags whose shape matches the two
 * constants, and keeps the ones whose contents read back as a release table and a lock list.
 */
export function readWorkerdPythonData(binary: Buffer): WorkerdPythonData {
  let releases: PythonRelease[] | undefined;
  const locks: Record<string, string> = {};
  for (let offset = 0; offset + WORD <= binary.length; offset += WORD) {
    const high = binary.readUInt32LE(offset + 4);
    const dataWords = high & 0xffff;
    const pointerWords = high >>> 16;
    const isReleaseShape = dataWords === 1 && pointerWords >= RELEASE_MIN_POINTERS && pointerWords <= 16;
    const isLockShape = dataWords === 0 && pointerWords === 2;
    if (!isReleaseShape && !isLockShape) continue;
    const low = binary.readUInt32LE(offset);
    if ((low & 3) !== 0) continue;
    const count = low >>> 2;
    if (count < 1 || count > 64) continue;
    const element = (index: number) => offset + WORD + index * (dataWords + pointerWords) * WORD;
    const pointer = (index: number, slot: number) => element(index) + (dataWords + slot) * WORD;

    if (isReleaseShape && !releases) {
      const found = readReleases(binary, count, element, pointer, pointerWords);
      if (found) releases = found;
    } else if (isLockShape) {
      for (let index = 0; index < count; index++) {
        const date = readText(binary, pointer(index, 0));
        const lock = readText(binary, pointer(index, 1));
        if (date && /^[0-9][0-9.]*$/.test(date) && lock?.startsWith('{"info"')) locks[date] = lock;
      }
    }
  }
  return { releases: releases ?? [], locks };
}

function readReleases(
  binary: Buffer,
  count: number,
  element: (index: number) => number,
  pointer: (index: number, slot: number) => number,
  pointerWords: number,
): PythonRelease[] | undefined {
  const releases: PythonRelease[] = [];
  for (let index = 0; index < count; index++) {
    const text = (slot: number) => readText(binary, pointer(index, slot));
    const pyodide = text(RELEASE_POINTERS.pyodide);
    const pyodideRevision = text(RELEASE_POINTERS.revision);
    const packages = text(RELEASE_POINTERS.packages);
    const flagName = text(RELEASE_POINTERS.flagName);
    const realPyodideVersion = text(RELEASE_POINTERS.real);
    if (!pyodide || !pyodideRevision || !packages || !flagName || !realPyodideVersion) return undefined;
    if (!/^python[A-Za-z0-9]+$/.test(flagName) || !/^[0-9a-z.]+$/.test(pyodide)) return undefined;
    const integrity =
      pointerWords > RELEASE_POINTERS.integrity ? text(RELEASE_POINTERS.integrity) : undefined;
    releases.push({
      pyodide,
      pyodideRevision,
      packages,
      backport: Number(binary.readBigInt64LE(element(index))),
      flagName,
      realPyodideVersion,
      ...(integrity?.startsWith("sha256-") ? { integrity } : {}),
    });
  }
  return releases;
}

/** A Cap'n Proto Text pointer at `at`: a list pointer of bytes ending in NUL. */
function readText(binary: Buffer, at: number): string | undefined {
  if (at + WORD > binary.length) return undefined;
  const low = binary.readInt32LE(at);
  const high = binary.readUInt32LE(at + 4);
  if ((low & 3) !== 1 || (high & 7) !== 2) return undefined;
  const length = high >>> 3;
  const start = at + WORD + (low >> 2) * WORD;
  if (length < 1 || start < 0 || start + length > binary.length || binary[start + length - 1] !== 0) {
    return undefined;
  }
  return binary.toString("utf8", start, start + length - 1);
}

/** workerd's name for a bundle: `<pyodide>_<revision>_<backport>` (getPythonBundleName). */
export function bundleName(release: PythonRelease): string {
  return release.pyodide === "dev"
    ? "dev"
    : `${release.pyodide}_${release.pyodideRevision}_${release.backport}`;
}
