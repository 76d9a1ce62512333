// `eventbench doctor` as a library: what on this host would distort a run, each with the command that fixes it.
// A "fail" makes a run untrustworthy (its results would measure the host, not the servers); a "warn" narrows it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PORT_RANGE_FIX, localPortRange, somaxconn, tcpMaxSynBacklog } from '../core/sysctl.js';
import { models as allModels, type ServerModel } from '../servers/registry.js';
import { CPU_SHARE_TOLERANCE, calibrateThrottle, detectCgroup } from './throttle.js';
import { allowedCpus, hasTaskset } from './cpus.js';
import { SETTINGS } from '../core/defaults.js';
import { removeLeftovers } from './leftovers.js';
import { calibrate, HEADROOM, PROBES } from './capacity.js';
import { localHosts } from './local.js';
import { tcpSocketRows } from '../core/sockets.js';
import { somaxconnFix } from '../core/backlog.js';
import { OPEN_FILES_FIX, RESERVED_FILES, openFilesLimit } from '../core/open-files.js';
import { DEFAULT_TRANSPORT, autoTransport, transportMissing } from '../load/transport.js';
import { asRoot } from '../core/format.js';

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
  for (const f of tcpSocketRows()) {
    if (f[3] !== '06') continue;
    const port = parseInt(f[1]?.split(':').pop() ?? '', 16);
    if (port >= lo && port <= hi) n += 1;
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
    return { name, status: 'warn', detail, fix: `wait a minute, or ${asRoot('sysctl -w net.ipv4.tcp_tw_reuse=1')}` };
  }
  return { name, status: 'ok', detail: `${span}, ${tw} in TIME_WAIT` };
}

/** Free local ports per client under which doctor warns (the run itself needs one per client at once). */
export const PORT_HEADROOM = 4;

/** A busy loop under the run's quota: does the kernel enforce the share asked for, within the run's tolerance? */
async function throttleCheck(target: number, periodMs: number): Promise<Check> {
  const name = 'throttle';
  const got = await calibrateThrottle(target, periodMs, SETTINGS.serverCpus.value);
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
            : 'check what else runs on CPU ' + SETTINGS.serverCpus.value + ' (top -1), or try --throttle-period-ms 20',
      };
}

/** A host limit that must reach `need` (a count of clients or descriptors): unreadable warns, below `need` fails. */
interface Limit {
  name: string;
  value: number | undefined;
  need: number;
  unreadable: string;
  ok: (v: number) => string;
  low: (v: number) => string;
  fix: string;
}

function limitCheck({ name, value, need, unreadable, ok, low, fix }: Limit): Check {
  if (value === undefined) return { name, status: 'warn', detail: unreadable };
  return value < need ? { name, status: 'fail', detail: low(value), fix } : { name, status: 'ok', detail: ok(value) };
}

/** The kernel's queues and the descriptor limit, each of which must hold the largest load's clients at once. */
function limits(largestLoad: number): { somaxconn: Limit; synBacklog: Limit; openFiles: Limit } {
  const needFiles = largestLoad + RESERVED_FILES;
  return {
    somaxconn: {
      name: 'somaxconn',
      value: somaxconn(),
      need: largestLoad,
      unreadable: 'cannot read net.core.somaxconn',
      ok: (v) => `net.core.somaxconn is ${v}`,
      low: (v) =>
        `net.core.somaxconn is ${v}, below the largest load ${largestLoad}: the accept queue overflows and measured load plateaus (the paper's Figure 1a)`,
      fix: somaxconnFix(largestLoad),
    },
    synBacklog: {
      name: 'tcp_max_syn_backlog',
      value: tcpMaxSynBacklog(),
      need: largestLoad,
      unreadable: 'cannot read net.ipv4.tcp_max_syn_backlog',
      ok: (v) => `net.ipv4.tcp_max_syn_backlog is ${v}`,
      low: (v) => `net.ipv4.tcp_max_syn_backlog is ${v}, below the largest load ${largestLoad}: connection attempts are dropped`,
      fix: asRoot(`sysctl -w net.ipv4.tcp_max_syn_backlog=${Math.max(4096, largestLoad)}`),
    },
    openFiles: {
      name: 'open files',
      value: openFilesLimit(),
      need: needFiles,
      unreadable: 'cannot read the open files limit',
      ok: (v) => `the open files limit is ${v}`,
      low: (v) => `the open files limit is ${v}; ${largestLoad} clients need at least ${needFiles} in the client and in the server`,
      fix: OPEN_FILES_FIX,
    },
  };
}

/** Two cores at least: the server and the client each pinned to its own. */
function coresCheck(): Check {
  const cpus = allowedCpus();
  if (cpus.length < 2) {
    const detail = `only ${cpus.length} CPU available: server and client would share it`;
    return { name: 'cores', status: 'fail', detail, fix: 'run on a machine (or VM) with 2 or more cores' };
  }
  const detail = `${cpus.length} CPUs available (${cpus.join(',')}): server on ${SETTINGS.serverCpus.value}, client on ${SETTINGS.clientCpus.value}`;
  return { name: 'cores', status: 'ok', detail };
}

function tasksetCheck(): Check {
  return hasTaskset()
    ? { name: 'taskset', status: 'ok', detail: 'taskset pins server and client' }
    : {
        name: 'taskset',
        status: 'fail',
        detail: 'taskset is missing: server and client cannot be pinned',
        fix: asRoot('apt-get install util-linux'),
      };
}

/**
 * The client's capacity, against the fastest probe server that runs here at the full core, and the headroom it leaves
 * that server at the quota a run would use (`share`, or chosen as a run chooses it: src/host/capacity.ts). A run is
 * trustworthy only with HEADROOM× at least: else the client, not the server, sets the pace of the fastest servers.
 */
async function clientCheck(catalog: readonly ServerModel[], periodMs: number, share?: number): Promise<{ check: Check; share?: number }> {
  const name = 'client';
  let probe: ServerModel | undefined;
  for (const n of PROBES) {
    const m = catalog.find((x) => x.name === n);
    if (m && (await m.available().catch(() => ({ ok: false }))).ok) {
      probe = m;
      break;
    }
  }
  if (!probe)
    return {
      check: { name, status: 'warn', detail: `no probe server (${PROBES.join(', ')}) runs here: the client's capacity was not measured` },
    };
  const backlog = SETTINGS.backlog.value;
  const serveFlags = ['--port', '0', '--backlog', String(backlog), '--page-bytes', String(SETTINGS.pageBytes.value)];
  const spec = { name: probe.name, family: probe.family, serveFlags, backlog, readyTimeoutMs: 60_000 };
  const cpus = { serverCpus: SETTINGS.serverCpus.value, clientCpus: SETTINGS.clientCpus.value };
  try {
    const c = await calibrate({ hosts: localHosts(), probe: spec, ...cpus, periodMs, ...(share !== undefined ? { share } : {}) });
    const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')} requests/s`;
    const busy = c.clientCpuShare !== undefined ? `, its core ${Math.round(c.clientCpuShare * 100)}% busy` : '';
    const detail =
      `${rate(c.clientCapacityRps)} from the client (${c.transport ?? 'its transport'}${busy}) against ${c.probe} at the full core; ` +
      `${c.probe} serves ${rate(c.probeRpsPerCore)} per core; at ${c.chosenShare} core the client has ${c.headroom.toFixed(1)}× what it needs`;
    const ok = c.headroom >= HEADROOM * 0.98;
    const fix =
      share !== undefined
        ? `a lower --server-cpu-share (at most ${Math.floor((c.clientCapacityRps / (HEADROOM * c.probeRpsPerCore)) * 1000) / 1000}), or leave it out`
        : 'a faster client: more cores for it (--client-cpus), or another host for the clients (run --client-hosts)';
    return {
      check: ok ? { name, status: 'ok', detail } : { name, status: 'fail', detail: `${detail}, under ${HEADROOM}×`, fix },
      share: c.chosenShare,
    };
  } catch (err) {
    return { check: { name, status: 'warn', detail: `the client's capacity could not be measured: ${(err as Error).message}` } };
  }
}

/** A writable cgroup slows the server like the paper's; where there is one, the quota is also calibrated. */
async function cgroupChecks(throttlePeriodMs: number, share: number): Promise<Check[]> {
  const cg = detectCgroup();
  if (cg.mechanism === 'none') {
    return [
      {
        name: 'cgroup CPU',
        status: 'fail',
        detail: `cannot throttle the server: ${cg.reason}; it would run as fast as the client, unlike the paper's slow server`,
        fix: 'run eventbench as root (sudo), or pass --server-cpu-share 0 to run unthrottled knowingly',
      },
    ];
  }
  const found: Check = { name: 'cgroup CPU', status: 'ok', detail: `${cg.mechanism} at ${cg.root} is writable` };
  return [found, await throttleCheck(share, throttlePeriodMs)];
}

/** cc and the two thread libraries the native toy servers link against. */
function compilerCheck(): Check {
  const name = 'C compiler';
  if (!has('cc')) {
    const detail = 'no C compiler: the native toy servers cannot be built';
    return { name, status: 'warn', detail, fix: `${asRoot('apt-get install gcc')} (or ${asRoot('scripts/install-servers.sh')})` };
  }
  const missingLibs = [
    ['pth.h', 'libpth-dev'],
    ['st.h', 'libst-dev'],
  ]
    .filter(([h]) => !existsSync(`/usr/include/${h}`))
    .map(([, pkg]) => pkg!);
  if (missingLibs.length > 0) {
    const detail = `cc is there, but not ${missingLibs.join(', ')}: native-pth / native-st cannot be built`;
    return { name, status: 'warn', detail, fix: asRoot(`apt-get install ${missingLibs.join(' ')}`) };
  }
  return { name, status: 'ok', detail: 'cc, GNU Pth and State Threads are there for the native toy servers' };
}

function abCheck(): Check {
  return has('ab', ['-V'])
    ? { name: 'ab', status: 'ok', detail: 'ApacheBench is installed (--engine ab)' }
    : {
        name: 'ab',
        status: 'warn',
        detail: 'ApacheBench is missing: --engine ab cannot run',
        fix: asRoot('apt-get install apache2-utils'),
      };
}

/** Which transport the load client takes here (`--transport`): the default, and what `auto` would take, with why. */
function transportCheck(): Check {
  const auto = autoTransport();
  const fallback = DEFAULT_TRANSPORT !== 'auto' && transportMissing(DEFAULT_TRANSPORT);
  return {
    name: 'transport',
    status: 'ok',
    detail: `the client's connections go through ${DEFAULT_TRANSPORT === 'auto' || fallback ? auto.name : DEFAULT_TRANSPORT} by default${fallback ? ` (${DEFAULT_TRANSPORT} cannot run here: ${fallback})` : ''}; --transport auto takes ${auto.why}`,
  };
}

/** Doctor also cleans up: what a killed run left behind is removed here, and named. */
function leftoversCheck(): Check {
  const removed = removeLeftovers();
  return {
    name: 'leftovers',
    status: 'ok',
    detail: removed.length === 0 ? 'no cgroup or server folder left by a killed run' : removed.join('; '),
  };
}

/** Which servers of the catalog can run here, and why each other one cannot. */
async function serversCheck(catalog: readonly ServerModel[]): Promise<Check> {
  const unavailable: string[] = [];
  const available: string[] = [];
  for (const m of catalog) {
    const a = await m.available().catch((e: Error) => ({ ok: false as const, reason: e.message, hint: '' }));
    if (a.ok) available.push(m.name);
    else unavailable.push(`${m.name} (${a.reason}${a.hint ? `; ${a.hint}` : ''})`);
  }
  return unavailable.length > 0
    ? {
        name: 'servers',
        status: 'warn',
        detail: `${available.length} of ${catalog.length} servers can run; missing: ${unavailable.join(', ')}`,
        fix: asRoot('scripts/install-servers.sh'),
      }
    : { name: 'servers', status: 'ok', detail: `all ${catalog.length} servers can run: ${available.join(', ') || '(none built yet)'}` };
}

/**
 * Every check, in the order a user should fix them. `largestLoad` is the biggest load the run will offer; `share` a
 * quota the run will be given (--server-cpu-share), else the one it would choose from the client's capacity.
 */
export async function diagnose(
  largestLoad = Math.max(...SETTINGS.loads.value),
  catalog: readonly ServerModel[] = allModels,
  throttlePeriodMs: number = SETTINGS.throttlePeriodMs.value,
  share?: number,
): Promise<Check[]> {
  const limit = limits(largestLoad);
  const checks: Check[] = [limitCheck(limit.somaxconn), limitCheck(limit.synBacklog)];
  const range = localPortRange();
  if (range) checks.push(portsCheck(range, largestLoad));
  checks.push(limitCheck(limit.openFiles), coresCheck(), tasksetCheck());
  const client = detectCgroup().mechanism === 'none' ? undefined : await clientCheck(catalog, throttlePeriodMs, share);
  if (client) checks.push(client.check);
  checks.push(...(await cgroupChecks(throttlePeriodMs, client?.share ?? share ?? SETTINGS.serverCpuShare.value)));
  checks.push(compilerCheck(), abCheck(), transportCheck(), leftoversCheck(), await serversCheck(catalog));
  return checks;
}
