import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isAlive, livingGroupMembers, readProcStat, stopProcessGroup } from "./processes.js";

/**
 * Run records: each started wrangler is written down beside the worker, so that if cfprobe itself
 * is killed with SIGKILL (and so cannot stop its children), the next run finds and stops them.
 */

export interface RunRecord {
  /** The cfprobe process that owns the run. */
  ownerPid: number;
  ownerStartTime: number;
  /** Process group of wrangler and its workerd children (the leader is wrangler). */
  pgid: number;
  leaderStartTime: number;
  port: number;
  persistTo: string;
  startedAt: string;
}

export function recordsDir(workerDir: string): string {
  return path.join(workerDir, ".wrangler", "cfprobe", "runs");
}

export function writeRunRecord(workerDir: string, record: RunRecord): string {
  const dir = recordsDir(workerDir);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${record.pgid}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

export function removeRunRecord(file: string): void {
  rmSync(file, { force: true });
}

export interface ReclaimedRun {
  record: RunRecord;
  stopped: number;
}

/**
 * Stops process groups recorded by cfprobe runs whose owner is gone. Groups whose owner still
 * runs are left alone: another cfprobe is using them. A record whose processes are all gone, or
 * whose pid now belongs to an unrelated process, is just removed.
 */
export async function reclaimOrphanedRuns(workerDir: string): Promise<ReclaimedRun[]> {
  const dir = recordsDir(workerDir);
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  const reclaimed: ReclaimedRun[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    let record: RunRecord;
    try {
      record = JSON.parse(readFileSync(file, "utf8")) as RunRecord;
    } catch {
      removeRunRecord(file);
      continue;
    }
    const owner = readProcStat(record.ownerPid);
    if (owner && isAlive(record.ownerPid) && owner.startTime === record.ownerStartTime) continue;
    const members = livingGroupMembers(record.pgid);
    const leader = readProcStat(record.pgid);
    // Members of a group whose leader has exited still carry its pgid; if the leader is alive it
    // must be the very process recorded, not a newer one that reused the pid.
    const sameRun = leader ? leader.startTime === record.leaderStartTime : true;
    if (members.length > 0 && sameRun) {
      await stopProcessGroup(record.pgid);
      reclaimed.push({ record, stopped: members.length });
    }
    removeRunRecord(file);
  }
  return reclaimed;
}
