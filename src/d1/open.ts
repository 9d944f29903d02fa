import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { usageError } from "../errors.js";

// better-sqlite3 reads this once, when its native addon first loads (at the first `new Database`):
// the `mode`, `immutable` and `readonly_shm` parameters below only exist in SQLite URI filenames.
process.env.SQLITE_USE_URI = "1";
const { default: Database } = await import("better-sqlite3");

export type SqliteDatabase = import("better-sqlite3").Database;

/**
 * How a file was opened without writing anything beside it:
 * - `shared-wal`: -wal and -shm exist (wrangler may be running). SQLite's read-only shared-memory
 *   protocol (`readonly_shm=1`) opens the -shm read-only: it reads the WAL index of a live writer,
 *   or rebuilds one in private memory when no process holds the file, and never writes either.
 * - `immutable`: no -wal, so the .sqlite alone is the whole database and nobody has it open in WAL
 *   mode; `immutable=1` reads it without locks and without creating a -wal or -shm.
 * - `snapshot`: a -wal without its -shm (left by a crash). SQLite would have to create the -shm, so
 *   the .sqlite and -wal are copied to a private folder and the copy is opened.
 */
export type ReadStrategy = "shared-wal" | "immutable" | "snapshot";

export interface ReadOnlyDatabase {
  db: SqliteDatabase;
  file: string;
  strategy: ReadStrategy;
  close(): void;
}

const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

/** Opens a local D1 (or any SQLite) file read-only, leaving the file, -wal and -shm untouched. */
export function openReadOnly(file: string): ReadOnlyDatabase {
  const absolute = path.resolve(file);
  assertSqliteFile(absolute);
  const hasWal = existsSync(`${absolute}-wal`);
  const hasShm = existsSync(`${absolute}-shm`);
  if (hasWal && !hasShm) return openSnapshot(absolute);
  const strategy: ReadStrategy = hasWal ? "shared-wal" : "immutable";
  const db = openUri(absolute, strategy === "shared-wal" ? "readonly_shm=1" : "immutable=1");
  return { db, file: absolute, strategy, close: () => db.close() };
}

function openSnapshot(file: string): ReadOnlyDatabase {
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-d1-"));
  const copy = path.join(dir, "snapshot.sqlite");
  try {
    copyFileSync(file, copy);
    copyFileSync(`${file}-wal`, `${copy}-wal`);
    const db = openUri(copy, "");
    return {
      db,
      file,
      strategy: "snapshot",
      close: () => {
        try {
          db.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function openUri(file: string, parameter: string): SqliteDatabase {
  const uri = `file:${encodeUriPath(file)}?mode=ro${parameter ? `&${parameter}` : ""}`;
  let db: SqliteDatabase;
  try {
    db = new Database(uri, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw sqliteFileError(file, error);
  }
  try {
    // Reading the schema is where SQLite notices a file that is not a database or is damaged.
    db.prepare("SELECT count(*) FROM sqlite_schema").get();
  } catch (error) {
    db.close();
    throw sqliteFileError(file, error);
  }
  return db;
}

/** SQLite URI paths are percent-encoded; `?`, `#` and `%` in a folder name would otherwise cut it. */
function encodeUriPath(file: string): string {
  return Array.from(Buffer.from(file, "utf8"))
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9/._~-]/.test(char) ? char : `%${byte.toString(16).padStart(2, "0")}`;
    })
    .join("");
}

function assertSqliteFile(file: string): void {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw usageError("d1-not-a-file", `${file} is not a file.`);
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw usageError("d1-file-missing", `No SQLite file at ${file}.`, {
      hint: "Check the path; `cfprobe db ls` lists the local D1 files of a worker.",
    });
  }
  if (size === 0) return;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, "r");
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) throw notADatabase(file);
}

function notADatabase(file: string) {
  return usageError("d1-not-a-database", `${file} is not an SQLite database (its header is wrong).`, {
    hint: "Point --file at a .sqlite file, or run `cfprobe db ls` to see the worker's D1 files.",
  });
}

/** Turns SQLite's failures to open or read a file (not a database, damaged) into errors naming it. */
export function sqliteFileError(file: string, error: unknown) {
  const code = (error as { code?: string }).code ?? "";
  const message = (error as Error).message;
  if (code.startsWith("SQLITE_NOTADB")) return notADatabase(file);
  if (code.startsWith("SQLITE_CORRUPT")) {
    return usageError("d1-corrupt", `${file} is damaged: ${message}.`, {
      hint: `Check it with \`sqlite3 ${file} "PRAGMA integrity_check"\`, or restore it from a backup.`,
      cause: error,
    });
  }
  if (code === "SQLITE_CANTOPEN" && !existsSync(file)) {
    return usageError("d1-file-missing", `No SQLite file at ${file}.`, { cause: error });
  }
  return usageError("d1-open-failed", `Cannot read ${file}: ${message} (${code || "no code"}).`, {
    cause: error,
  });
}
