// The one home of the kernel tunables eventbench reads from /proc/sys, each parsed once here: the cap on listen
// backlogs, the SYN queue, and the local port range a client's connections come from.
import { readFileSync } from 'node:fs';
import { asRoot } from './format.js';

/** A kernel tunable from /proc/sys, as text, or undefined where it cannot be read. */
export function sysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function positiveInteger(path: string): number | undefined {
  const value = Number(sysctl(path));
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** net.core.somaxconn (the kernel's cap on a listen backlog), or undefined where it cannot be read (not Linux). */
export const somaxconn = (): number | undefined => positiveInteger('net.core.somaxconn');

/** net.ipv4.tcp_max_syn_backlog (half-open connections queued per listener), or undefined. */
export const tcpMaxSynBacklog = (): number | undefined => positiveInteger('net.ipv4.tcp_max_syn_backlog');

/** net.ipv4.ip_local_port_range: the ports a client's connections come from, and how many. */
export function localPortRange(): { lo: number; hi: number; ports: number } | undefined {
  const [lo, hi] = (sysctl('net.ipv4.ip_local_port_range') ?? '').split(/\s+/).map(Number);
  return Number.isInteger(lo) && Number.isInteger(hi) && hi! >= lo! ? { lo: lo!, hi: hi!, ports: hi! - lo! + 1 } : undefined;
}

/** The command that widens the local port range. */
export const PORT_RANGE_FIX = asRoot('sysctl -w net.ipv4.ip_local_port_range="1024 65535"');
