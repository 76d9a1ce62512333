// The kernel's table of TCP sockets (/proc/net/tcp and tcp6), read in one place: for the listening ports of a
// process (a server that listens on another port than it was told) and the doctor's count of TIME_WAIT sockets.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The socket rows of /proc/net/tcp and tcp6, each split into its fields (local address 1, state 3, inode 9). */
export function tcpSocketRows(): string[][] {
  const rows: string[][] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) if (line.trim() !== '') rows.push(line.trim().split(/\s+/));
  }
  return rows;
}

/**
 * The TCP ports the processes `pids` listen on: their socket descriptors matched, by inode, with the LISTEN
 * entries of /proc/net/tcp and tcp6. Tells a server that listens on another port than it was given.
 */
export function listeningPorts(pids: readonly number[]): number[] {
  const byInode = new Map<string, number>();
  for (const f of tcpSocketRows()) if (f[3] === '0A' && f[9]) byInode.set(f[9], parseInt(f[1]?.split(':').pop() ?? '', 16));
  const ports = new Set<number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link = '';
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const port = byInode.get(/^socket:\[(\d+)\]$/.exec(link)?.[1] ?? '');
      if (port !== undefined) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * The process that listens on TCP `port` (the root of those holding its socket, when several share it), found by
 * the socket's inode among the descriptors this user may read; undefined when none is found.
 */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const f of tcpSocketRows()) if (f[3] === '0A' && f[9] && parseInt(f[1]?.split(':').pop() ?? '', 16) === port) inodes.add(f[9]);
  if (inodes.size === 0) return undefined;
  const holders: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
      } catch {
        return false;
      }
    });
    if (holds) holders.push(pid);
  }
  const parentOf = (pid: number) => Number(/^PPid:\s*(\d+)/m.exec(readText(`/proc/${pid}/status`))?.[1] ?? 0);
  return holders.find((p) => !holders.includes(parentOf(p))) ?? holders[0];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
