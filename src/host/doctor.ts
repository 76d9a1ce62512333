// `eventbench doctor` as a library: what on this host would distort a run, each with the command that fixes it.
// A "fail" makes a run untrustworthy (its results would measure the host, not the servers); a "warn" narrows it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { PORT_RANGE_FIX, localPortRange, somaxconn, tcpMaxSynBacklog } from '../core/sysctl.js';
import { models as allModels, type ServerModel } from '../servers/registry.js';
import { calibrateThrottle, detectCgroup } from './throttle.js';
import { allowedCpus, hasTaskset } from './cpus.js';
import { CPU_SHARE_TOLERANCE } from '../sweep/verdict.js';
import { RUN_DEFAULTS } from '../sweep/plan.js';
import { removeLeftovers } from './leftovers.js';
import { somaxconnFix } from '../core/backlog.js';
import { OPEN_FILES_FIX, RESERVED_FILES, openFilesLimit } from '../core/open-files.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  /** What was found. */
  detail: string;
  /** The command (or step) that fixes it, when not ok. */
  fix?: string;
}

function has(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch (err) {
    // Present but unhappy with the flag still counts as present.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as { status?: number }).status !== undefined;
  }
}

/** TIME_WAIT sockets holding a local port of the ephemeral range (what a closed-loop client runs out of). */
function timeWaitInRange(lo: number, hi: number): number {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '06') continue;
      const port = parseInt(f[1]?.split(':').pop() ?? '', 16);
      if (port >= lo && port <= hi) n += 1;
    }
  }
  return n;
}

/**
 * Local ports: the same rule as the plan's refusal (maxLoadHere: a load above the port range cannot run), then a
 * warning when TIME_WAIT leaves fewer than PORT_HEADROOM × the load free (a closed loop opens a connection per
 * request, and each closed one waits a minute before its port is free again, unless tcp_tw_reuse lets it go).
 */
function portsCheck(range: { lo: number; hi: number; ports: number }, largestLoad: number): Check {
  const { lo, hi, ports } = range;
  const tw = timeWaitInRange(lo, hi);
  const free = ports - tw;
  const name = 'local ports';
  const span = `${ports} local ports (${lo}-${hi})`;
  if (largestLoad > ports) {
    const detail = `${span}, fewer than the ${largestLoad} clients of the largest load: the run refuses it`;
    return { name, status: 'fail', detail, fix: PORT_RANGE_FIX };
  }
  if (free < PORT_HEADROOM * largestLoad) {
    const detail = `${span}, ${tw} held in TIME_WAIT: ${free} free, under ${PORT_HEADROOM} per client at a load of ${largestLoad}`;
    return { name, status: 'warn', detail, fix: `${PORT_RANGE_FIX} net.ipv4.tcp_tw_reuse=1, or wait a minute for TIME_WAIT to drain` };
  }
  if (tw > ports / 2) {
    const detail = `${tw} of ${ports} local ports are in TIME_WAIT (another benchmark just ran?)`;
    return { name, status: 'warn', detail, fix: 'wait a minute, or sudo sysctl -w net.ipv4.tcp_tw_reuse=1' };
  }
  return { name, status: 'ok', detail: `${span}, ${tw} in TIME_WAIT` };
}

/** Free local ports per client under which doctor warns (the run itself needs one per client at once). */
export const PORT_HEADROOM = 4;

/** A busy loop under the run's quota: does the kernel enforce the share asked for, within the run's tolerance? */
async function throttleCheck(target: number, periodMs: number): Promise<Check> {
  const name = 'throttle';
  const got = await calibrateThrottle(target, periodMs, RUN_DEFAULTS.serverCpus);
  if ('error' in got) return { name, status: 'warn', detail: `could not calibrate the quota: ${got.error}` };
  const off = Math.abs(got.share - target) / target;
  const detail = `a busy loop under a ${target}-core quota in ${periodMs} ms periods got ${got.share.toFixed(3)} of a core (${off <= CPU_SHARE_TOLERANCE ? 'within' : 'outside'} ±${CPU_SHARE_TOLERANCE * 100}% of the target)`;
  return off <= CPU_SHARE_TOLERANCE
    ? { name, status: 'ok', detail }
    : {
        name,
        status: 'fail',
        detail: `${detail}: the server would not run at the speed the run assumes`,
        fix:
          periodMs < 5
            ? 'use --throttle-period-ms 10 or more (the kernel enforces quotas in 5 ms slices)'
            : 'check what else runs on CPU ' + RUN_DEFAULTS.serverCpus + ' (top -1), or try --throttle-period-ms 20',
      };
}

/** Every check, in the order a user should fix them. `largestLoad` is the biggest load the run will offer. */
export async function diagnose(
  largestLoad = Math.max(...RUN_DEFAULTS.loads),
  catalog: readonly ServerModel[] = allModels,
  throttlePeriodMs: number = RUN_DEFAULTS.throttlePeriodMs,
): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  const cap = somaxconn();
  add(
    cap === undefined
      ? { name: 'somaxconn', status: 'warn', detail: 'cannot read net.core.somaxconn' }
      : cap < largestLoad
        ? {
            name: 'somaxconn',
            status: 'fail',
            detail: `net.core.somaxconn is ${cap}, below the largest load ${largestLoad}: the accept queue overflows and measured load plateaus (the paper's Figure 1a)`,
            fix: somaxconnFix(largestLoad),
          }
        : { name: 'somaxconn', status: 'ok', detail: `net.core.somaxconn is ${cap}` },
  );

  const syn = tcpMaxSynBacklog();
  add(
    syn === undefined
      ? { name: 'tcp_max_syn_backlog', status: 'warn', detail: 'cannot read net.ipv4.tcp_max_syn_backlog' }
      : syn < largestLoad
        ? {
            name: 'tcp_max_syn_backlog',
            status: 'fail',
            detail: `net.ipv4.tcp_max_syn_backlog is ${syn}, below the largest load ${largestLoad}: connection attempts are dropped`,
            fix: `sudo sysctl -w net.ipv4.tcp_max_syn_backlog=${Math.max(4096, largestLoad)}`,
          }
        : { name: 'tcp_max_syn_backlog', status: 'ok', detail: `net.ipv4.tcp_max_syn_backlog is ${syn}` },
  );

  const range = localPortRange();
  if (range) add(portsCheck(range, largestLoad));

  const files = openFilesLimit();
  const needFiles = largestLoad + RESERVED_FILES;
  add(
    files === undefined
      ? { name: 'open files', status: 'warn', detail: 'cannot read the open files limit' }
      : files < needFiles
        ? {
            name: 'open files',
            status: 'fail',
            detail: `the open files limit is ${files}; ${largestLoad} clients need at least ${needFiles} in the client and in the server`,
            fix: OPEN_FILES_FIX,
          }
        : { name: 'open files', status: 'ok', detail: `the open files limit is ${files}` },
  );

  const cpus = allowedCpus();
  add(
    cpus.length < 2
      ? {
          name: 'cores',
          status: 'fail',
          detail: `only ${cpus.length} CPU available: server and client would share it`,
          fix: 'run on a machine (or VM) with 2 or more cores',
        }
      : {
          name: 'cores',
          status: 'ok',
          detail: `${cpus.length} CPUs available (${cpus.join(',')}): server on ${RUN_DEFAULTS.serverCpus}, client on ${RUN_DEFAULTS.clientCpus}`,
        },
  );
  add(
    hasTaskset()
      ? { name: 'taskset', status: 'ok', detail: 'taskset pins server and client' }
      : {
          name: 'taskset',
          status: 'fail',
          detail: 'taskset is missing: server and client cannot be pinned',
          fix: 'sudo apt-get install util-linux',
        },
  );

  const cg = detectCgroup();
  add(
    cg.mechanism === 'none'
      ? {
          name: 'cgroup CPU',
          status: 'fail',
          detail: `cannot throttle the server: ${cg.reason}; it would run as fast as the client, unlike the paper's slow server`,
          fix: 'run eventbench as root (sudo), or pass --server-cpu-share 0 to run unthrottled knowingly',
        }
      : { name: 'cgroup CPU', status: 'ok', detail: `${cg.mechanism} at ${cg.root} is writable` },
  );
  if (cg.mechanism !== 'none') add(await throttleCheck(RUN_DEFAULTS.serverCpuShare, throttlePeriodMs));

  const cc = has('cc');
  const missingLibs = [
    ['pth.h', 'libpth-dev'],
    ['st.h', 'libst-dev'],
  ]
    .filter(([h]) => !existsSync(`/usr/include/${h}`))
    .map(([, pkg]) => pkg!);
  add(
    !cc
      ? {
          name: 'C compiler',
          status: 'warn',
          detail: 'no C compiler: the native toy servers cannot be built',
          fix: 'sudo apt-get install gcc (or sudo scripts/install-servers.sh)',
        }
      : missingLibs.length > 0
        ? {
            name: 'C compiler',
            status: 'warn',
            detail: `cc is there, but not ${missingLibs.join(', ')}: native-pth / native-st cannot be built`,
            fix: `sudo apt-get install ${missingLibs.join(' ')}`,
          }
        : { name: 'C compiler', status: 'ok', detail: 'cc, GNU Pth and State Threads are there for the native toy servers' },
  );

  add(
    has('ab', ['-V'])
      ? { name: 'ab', status: 'ok', detail: 'ApacheBench is installed (--engine ab)' }
      : { name: 'ab', status: 'warn', detail: 'ApacheBench is missing: --engine ab cannot run', fix: 'sudo apt-get install apache2-utils' },
  );

  const removed = removeLeftovers();
  add({
    name: 'leftovers',
    status: 'ok',
    detail: removed.length === 0 ? 'no cgroup or server folder left by a killed run' : removed.join('; '),
  });

  const unavailable: string[] = [];
  const available: string[] = [];
  for (const m of catalog) {
    const a = await m.available().catch((e: Error) => ({ ok: false as const, reason: e.message, hint: '' }));
    if (a.ok) available.push(m.name);
    else unavailable.push(`${m.name} (${a.reason}${a.hint ? `; ${a.hint}` : ''})`);
  }
  add(
    unavailable.length > 0
      ? {
          name: 'servers',
          status: 'warn',
          detail: `${available.length} of ${catalog.length} servers can run; missing: ${unavailable.join(', ')}`,
          fix: 'sudo scripts/install-servers.sh',
        }
      : { name: 'servers', status: 'ok', detail: `all ${catalog.length} servers can run: ${available.join(', ') || '(none built yet)'}` },
  );
  return checks;
}
