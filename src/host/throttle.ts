// The cgroup CPU quota that makes the server the slow side (as the paper's downclocked laptop was). Works with
// cgroup v1 (cpu.cfs_quota_us), cgroup v2 (cpu.max), or neither (then the run is unthrottled, says so, and records
// it). Everything created is removed.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { localPortRange, somaxconn, tcpMaxSynBacklog } from '../core/sysctl.js';
import { SETTINGS } from '../core/defaults.js';
import { pinned } from './cpus.js';

const V1_ROOT = '/sys/fs/cgroup/cpu';
/** cgroup v1 keeps CPU accounting in its own hierarchy where it is mounted apart from `cpu` (as on Debian). */
export const V1_ACCT_ROOT = '/sys/fs/cgroup/cpuacct';
const V2_ROOT = '/sys/fs/cgroup';
/**
 * A throttled server's CPU share over its load may stray this far from the target before its point is flagged:
 * above, the kernel did not enforce the quota (periods under its 5 ms bandwidth slice); below, at a load that
 * should saturate it, the server waited on something other than its CPU.
 */
export const CPU_SHARE_TOLERANCE = 0.2;

/**
 * The quota's period. The kernel's default, 100 ms, lets a quarter-core server run 25 ms and then stall 75 ms:
 * medians stay low while means and p99 carry the stalls, and event loops batch whole accept queues during a stall,
 * which a slow CPU never does. 10 ms behaves like a slow CPU (median ≈ mean, as on the paper's downclocked laptop);
 * below about 5 ms the kernel's bandwidth slice (sched_cfs_bandwidth_slice_us, 5 ms) no longer enforces the quota.
 */
export const DEFAULT_THROTTLE_PERIOD_MS = SETTINGS.throttlePeriodMs.value;
export const MIN_THROTTLE_PERIOD_MS = 1;
export const MAX_THROTTLE_PERIOD_MS = 1000;
const PREFIX = 'eventbench-';

export type ThrottleMechanism = 'cgroup-v1' | 'cgroup-v2' | 'none';

/** Which cgroup CPU controller we could use here, and if none, why. */
export function detectCgroup(): { mechanism: ThrottleMechanism; root?: string; reason?: string } {
  if (existsSync(join(V1_ROOT, 'cpu.cfs_quota_us'))) {
    return writable(V1_ROOT)
      ? { mechanism: 'cgroup-v1', root: V1_ROOT }
      : { mechanism: 'none', reason: `${V1_ROOT} is not writable (run as root)` };
  }
  const controllers = readText(join(V2_ROOT, 'cgroup.controllers'));
  if (controllers !== undefined) {
    if (!controllers.split(/\s+/).includes('cpu')) return { mechanism: 'none', reason: 'cgroup v2 without the cpu controller' };
    return writable(V2_ROOT)
      ? { mechanism: 'cgroup-v2', root: V2_ROOT }
      : { mechanism: 'none', reason: `${V2_ROOT} is not writable (run as root)` };
  }
  return { mechanism: 'none', reason: 'no cgroup CPU controller is mounted' };
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A CPU quota on a group of processes; children of a member inherit it. */
export interface Throttle {
  mechanism: ThrottleMechanism;
  /** Cores allowed (0.25 = a quarter of one core); 0 when unthrottled. */
  share: number;
  /** The quota's period, ms (the quota is share × period); 0 when unthrottled. */
  periodMs: number;
  /** Why there is no throttle, when there is none. */
  reason?: string;
  /** The cgroup folder, when there is one. */
  path?: string;
  /** Puts a process (and so its future children) under the quota. */
  add(pid: number): void;
  /** Processes currently in the group. */
  pids(): number[];
  /**
   * CPU seconds used by everything ever in the group, exited threads and reaped children included (cgroup v2
   * cpu.stat usage_usec; v1 cpuacct.usage of a twin group), or undefined where the kernel keeps no such count.
   */
  usageS(): number | undefined;
  /** Quota periods elapsed and those in which the group was throttled (ran out of quota), or undefined. */
  periods(): { total: number; throttled: number } | undefined;
  /** Lifts the quota (false: the group runs at the full core) or puts it back (true); its processes stay in it. */
  limit(on: boolean): void;
  /** Removes the cgroup (after moving out anything still in it). Safe to call twice. */
  remove(): void;
}

let counter = 0;

const inert = (reason: string): Throttle => ({
  mechanism: 'none',
  share: 0,
  periodMs: 0,
  reason,
  add() {},
  pids: () => [],
  usageS: () => undefined,
  periods: () => undefined,
  limit() {},
  remove() {},
});

/** Creates a fresh cgroup with a `share`-of-a-core quota, or an inert throttle saying why it could not. */
export function createThrottle(share: number, periodMs: number = DEFAULT_THROTTLE_PERIOD_MS): Throttle {
  if (share <= 0) return inert('unthrottled on request (--server-cpu-share 0)');
  const found = detectCgroup();
  if (found.mechanism === 'none' || !found.root) return inert(found.reason ?? 'no cgroup');
  removeStaleCgroups(found.root);
  const name = `${PREFIX}${process.pid}-${++counter}`;
  const path = join(found.root, name);
  const periodUs = Math.round(periodMs * 1000);
  const quotaUs = Math.max(1000, Math.round(share * periodUs));
  try {
    mkdirSync(path);
    if (found.mechanism === 'cgroup-v1') {
      writeFileSync(join(path, 'cpu.cfs_period_us'), String(periodUs));
      writeFileSync(join(path, 'cpu.cfs_quota_us'), String(quotaUs));
    } else {
      // The root's subtree_control must hand the cpu controller down before cpu.max exists.
      if (!existsSync(join(path, 'cpu.max'))) writeFileSync(join(found.root, 'cgroup.subtree_control'), '+cpu');
      writeFileSync(join(path, 'cpu.max'), `${quotaUs} ${periodUs}`);
    }
  } catch (err) {
    try {
      rmdirSync(path);
    } catch {
      /* never created */
    }
    return inert(`could not set up ${path}: ${(err as Error).message}`);
  }
  return groupThrottle(found.mechanism, found.root, path, share, periodUs / 1000, accountingTwin(found.mechanism, name), quotaUs);
}

/** v1: a twin group under cpuacct, holding the same processes, counts their CPU time; undefined where there is none. */
function accountingTwin(mechanism: ThrottleMechanism, name: string): string | undefined {
  if (mechanism !== 'cgroup-v1' || !existsSync(join(V1_ACCT_ROOT, 'cpuacct.usage')) || !writable(V1_ACCT_ROOT)) return undefined;
  removeStaleCgroups(V1_ACCT_ROOT);
  try {
    mkdirSync(join(V1_ACCT_ROOT, name));
    return join(V1_ACCT_ROOT, name);
  } catch {
    return undefined; // no accounting: usageS says so
  }
}

/** A cgroup's flat-keyed file (cpu.stat): each `key value` line. */
const stat = (file: string): Record<string, number> =>
  Object.fromEntries(
    (readText(file) ?? '')
      .split('\n')
      .map((l) => l.split(/\s+/))
      .filter((f) => f.length === 2)
      .map(([k, v]) => [k!, Number(v)]),
  );

/** Moves `pid` into the cgroup at `dir`, unless it has exited meanwhile (then there is nothing to move). */
export function moveToCgroup(dir: string, pid: number | string): void {
  try {
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  } catch {
    /* gone meanwhile */
  }
}

/** Removes an emptied cgroup folder; one already gone counts as removed, any other failure is thrown. */
export function removeCgroupDir(path: string): void {
  try {
    rmdirSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The throttle of the cgroup at `path` (with its accounting twin `acct`, under v1). */
function groupThrottle(
  mechanism: 'cgroup-v1' | 'cgroup-v2',
  root: string,
  path: string,
  share: number,
  periodMs: number,
  acct: string | undefined,
  quotaUs: number,
): Throttle {
  const procsFile = join(path, 'cgroup.procs');
  let removed = false;
  return {
    mechanism,
    share,
    periodMs,
    path,
    add(pid) {
      writeFileSync(procsFile, String(pid));
      if (acct) moveToCgroup(acct, pid);
    },
    pids: () => (readText(procsFile) ?? '').split('\n').filter(Boolean).map(Number),
    usageS() {
      if (mechanism === 'cgroup-v2') {
        const us = stat(join(path, 'cpu.stat')).usage_usec;
        return us === undefined ? undefined : us / 1e6;
      }
      const ns = acct ? Number(readText(join(acct, 'cpuacct.usage'))) : NaN;
      return Number.isFinite(ns) ? ns / 1e9 : undefined;
    },
    periods() {
      const s = stat(join(path, 'cpu.stat'));
      return s.nr_periods === undefined || s.nr_throttled === undefined ? undefined : { total: s.nr_periods, throttled: s.nr_throttled };
    },
    limit(on) {
      const periodUs = Math.round(periodMs * 1000);
      if (mechanism === 'cgroup-v1') writeFileSync(join(path, 'cpu.cfs_quota_us'), String(on ? quotaUs : -1));
      else writeFileSync(join(path, 'cpu.max'), `${on ? quotaUs : 'max'} ${periodUs}`);
    },
    remove() {
      if (removed) return;
      // Anything left is moved back to the root so the folder can go; the server's host has already killed its own.
      for (const pid of this.pids()) {
        moveToCgroup(root, pid);
        if (acct) moveToCgroup(V1_ACCT_ROOT, pid);
      }
      if (acct)
        try {
          rmdirSync(acct);
        } catch {
          /* swept by the next run's removeStaleCgroups */
        }
      removeCgroupDir(path);
      removed = true;
    },
  };
}

/** The cgroup quota actually in force, read back from the files (for tests and doctor). */
export function readQuota(path: string): { quotaUs: number; periodUs: number } | undefined {
  const v1q = readText(join(path, 'cpu.cfs_quota_us'));
  const v1p = readText(join(path, 'cpu.cfs_period_us'));
  if (v1q !== undefined && v1p !== undefined) return { quotaUs: Number(v1q), periodUs: Number(v1p) };
  const max = readText(join(path, 'cpu.max'))?.split(/\s+/);
  if (max?.length === 2) return { quotaUs: max[0] === 'max' ? -1 : Number(max[0]), periodUs: Number(max[1]) };
  return undefined;
}

/**
 * Removes the cgroups left by a runner killed with -9 (named PREFIX + its pid + a count, the pid gone); returns what
 * it did, one line each, for the user. A group that still holds processes is named and left.
 */
export function removeStaleCgroups(root = detectCgroup().root, prefix = PREFIX): string[] {
  if (!root) return [];
  let entries: string[] = [];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const said: string[] = [];
  for (const name of entries) {
    const m = new RegExp(`^${prefix}(\\d+)-\\d+$`).exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    try {
      rmdirSync(join(root, name));
      said.push(`removed the cgroup ${join(root, name)}, left by eventbench pid ${m[1]}, which is gone`);
    } catch (err) {
      said.push(`the cgroup ${join(root, name)} of eventbench pid ${m[1]} (gone) could not be removed: ${(err as Error).message}`);
    }
  }
  return said;
}

/** The host settings recorded with a run. */
export function hostSetup(throttle: Throttle, isPinned: boolean): HostSetup {
  const range = localPortRange();
  return {
    somaxconn: somaxconn(),
    tcpMaxSynBacklog: tcpMaxSynBacklog(),
    ipLocalPortRange: range ? `${range.lo}-${range.hi}` : undefined,
    throttle: {
      mechanism: throttle.mechanism,
      share: throttle.share,
      periodMs: throttle.periodMs,
      ...(throttle.reason ? { reason: throttle.reason } : {}),
    },
    pinned: isPinned,
  };
}

/**
 * The CPU share the kernel really enforces for a quota of `share` cores in every `periodMs`: a busy loop runs for
 * `seconds` under the quota, pinned to `cpus`, and reports the CPU time it got over the wall time. A period under
 * the kernel's bandwidth slice (5 ms) is not enforced, so this is worth checking before a run.
 */
export async function calibrateThrottle(
  share: number,
  periodMs: number,
  cpus: string,
  seconds = 1,
): Promise<{ share: number } | { error: string }> {
  const throttle = createThrottle(share, periodMs);
  if (throttle.mechanism === 'none') return { error: throttle.reason ?? 'no cgroup' };
  // The loop waits until it is in the cgroup (the parent writes its pid, then a line to its stdin), then spins.
  const script = `process.stdin.once('data', () => { const c0 = process.cpuUsage(), t0 = performance.now();
    while (performance.now() - t0 < ${seconds * 1000}) {}
    const c = process.cpuUsage(c0); console.log((c.user + c.system) / 1000 / (performance.now() - t0)); process.exit(0); });`;
  const { spawn } = await import('node:child_process');
  const argv = pinned(cpus, [process.execPath, '-e', script]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // taskset execs node in the same process, so its pid is the loop's.
    throttle.add(child.pid!);
    child.stdin!.write('go\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 10) * 1000);
    await exited;
    clearTimeout(timer);
    const measured = Number(out.trim());
    return Number.isFinite(measured) ? { share: measured } : { error: `the busy loop printed ${JSON.stringify(out.trim())}` };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    try {
      throttle.remove();
    } catch {
      /* reported by the next run's stale-cgroup sweep */
    }
  }
}

export interface HostSetup {
  /** somaxconn, tcp_max_syn_backlog, ip_local_port_range as read from /proc/sys. */
  somaxconn?: number;
  tcpMaxSynBacklog?: number;
  ipLocalPortRange?: string;
  /** How the server was throttled: "cgroup-v1", "cgroup-v2" or "none" (with why). */
  throttle: {
    mechanism: 'cgroup-v1' | 'cgroup-v2' | 'none';
    share: number;
    /** The quota's period, ms (absent in runs made before it was recorded: those used the kernel's 100 ms). */
    periodMs?: number;
    reason?: string;
  };
  /** Whether taskset pinning was applied. */
  pinned: boolean;
}
