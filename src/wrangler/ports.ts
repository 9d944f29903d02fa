import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { usageError } from "../errors.js";
import { commandLine } from "./processes.js";

export const LOOPBACK = "127.0.0.1";

/** A port the kernel says is free right now on `host`. */
export function findFreePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something can bind `host:port` now. */
export function canBind(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface PortHolder {
  pid: number;
  command: string;
}

/**
 * Who listens on a TCP port, from /proc/net/tcp{,6} and the socket links under /proc/<pid>/fd.
 * Processes of other users cannot be inspected; then the holder stays unknown.
 */
export function findPortHolder(port: number): PortHolder | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // State 0A is LISTEN.
      if (!local || fields[3] !== "0A") continue;
      if (Number.parseInt(local.split(":")[1] ?? "", 16) === port && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) {
        const pid = Number(entry);
        return { pid, command: commandLine(pid) };
      }
    }
  }
  return undefined;
}

/** Throws the documented port-in-use error, naming the holder when it can be found. */
export async function assertPortFree(port: number, host = LOOPBACK): Promise<void> {
  if (await canBind(port, host)) return;
  const holder = findPortHolder(port);
  const by = holder ? ` by pid ${holder.pid} (${truncate(holder.command, 120)})` : "";
  throw usageError("port-in-use", `Port ${port} on ${host} is already in use${by}.`, {
    hint: holder
      ? `Stop that process (kill ${holder.pid}) or choose another port with --port (0 picks a free one).`
      : "Choose another port with --port (0 picks a free one).",
    data: { port, host, ...(holder ? { holderPid: holder.pid, holderCommand: holder.command } : {}) },
  });
}

/** Waits until `port` can be bound again; returns whether it could within `timeoutMs`. */
export async function waitUntilPortFree(port: number, timeoutMs = 5000, host = LOOPBACK) {
  const deadline = Date.now() + timeoutMs;
  while (!(await canBind(port, host))) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

function truncate(text: string, max: number) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
