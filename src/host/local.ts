// The hosts of ./hosts.ts on this machine: servers started here with taskset and a cgroup quota, sampled from /proc,
// stopped with everything they started; loads run by an `eventbench load` process here, warm-ups in this process.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { environment } from '../core/environment.js';
import { alive, processTree, signalProcess } from '../core/proc.js';
import { startChild, stopChild, type Child } from '../core/child.js';
import { findModel, serveRuntime } from '../servers/registry.js';
import type { Availability } from '../servers/types.js';
import { runtimeArgv } from '../servers/runtime.js';
import { warmUntilSteady } from '../load/warmup.js';
import { createThrottle, hostSetup, type Throttle } from './throttle.js';
import { allowedCpus, hasTaskset, pinSelf, pinned } from './cpus.js';
import {
  AcceptQueueSampler,
  TreeSampler,
  backlogOnPort,
  establishedTo,
  listenCounters,
  listenGrowth,
  listenQueue,
  serverProcesses,
  treeMemory,
} from './sampling.js';
import type {
  ClientHost,
  KernelLook,
  LoadSpec,
  ServerHost,
  ServerHostSetUp,
  ServerSample,
  ServerSpec,
  StartedServer,
  TreeMemory,
} from './hosts.js';
import { createKernelMeter, type KernelMeter } from './memory-cgroup.js';
import { ResidentClient } from './client-process.js';

/** A server gets this long after SIGTERM before SIGKILL; whatever it leaves is then killed by pid and reported. */
export const STOP_GRACE_MS = 3000;

export const EVENTBENCH_BIN = fileURLToPath(new URL('../../../bin/eventbench.js', import.meta.url));

/** `eventbench serve NAME ...flags`; `events@bun` is `bun bin/eventbench.js serve events ...` (servers/runtime.ts). */
export function serveArgv(name: string, flags: string[]): string[] {
  const { model, runtime } = serveRuntime(name);
  const args = ['serve', model, ...flags];
  return runtime === 'node' ? [process.execPath, EVENTBENCH_BIN, ...args] : runtimeArgv(runtime, EVENTBENCH_BIN, args);
}

/** A server told to listen on `address` (`serve --host`), where another host's clients reach it; unchanged without one. */
export function listeningOn(spec: ServerSpec, address: string | undefined): ServerSpec {
  if (address === undefined || spec.argv !== undefined || spec.serveFlags.includes('--host')) return spec;
  return { ...spec, serveFlags: [...spec.serveFlags, '--host', address] };
}

/** Resolves with the URL of the `listening on` line, or rejects with what went wrong. */
export function waitListening(child: Child, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = child.stdout().split('\n')[0] ?? '';
      const m = /^listening on (http:\/\/\S+)\s*$/.exec(line);
      if (m && child.stdout().includes('\n')) return done(() => resolve(m[1]!));
      const wrong = `first line was ${JSON.stringify(line.slice(0, 120))}, not "listening on http://HOST:PORT/"`;
      if (child.stdout().includes('\n')) done(() => reject(new Error(wrong)));
    };
    const onExit = ({ code, signal: sig }: { code: number | null; signal: NodeJS.Signals | null }) =>
      done(() => reject(new Error(`server exited (${sig ?? `code ${code}`}) before listening: ${child.stderrTail() || 'no output'}`)));
    const silent = `server printed no "listening on" line within ${timeoutMs} ms`;
    const timer = setTimeout(() => done(() => reject(new Error(silent))), timeoutMs);
    const onAbort = () => done(() => reject(new Error('aborted')));
    const done = (f: () => void) => {
      clearTimeout(timer);
      child.proc.stdout!.off('data', check);
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    child.proc.stdout!.on('data', check);
    void child.exited.then(onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** One server started here: its process, every pid it ever had (for the leftover check), and its samplers. */
class LocalServer {
  readonly seen = new Set<number>();
  sampling?: {
    tree: TreeSampler;
    queue: AcceptQueueSampler;
    periods?: { total: number; throttled: number };
    counters: ReturnType<typeof listenCounters>;
  };
  port = 0;
  /** Its memory cgroup, made at the first look at its memory (the memory experiment's), removed when it stops. */
  kernel?: KernelMeter;

  /** Whether its processes are under its quota yet (a server warmed at the full core goes under it after). */
  throttled = false;

  constructor(
    readonly spec: ServerSpec,
    readonly child: Child,
    /** Its own cgroup, under the phase's quota (an inert one when the phase is unthrottled). */
    readonly throttle: Throttle,
  ) {}

  /** Its processes now (tree and cgroup members); every pid seen is remembered. */
  members(): number[] {
    const pids = this.child.pid > 0 ? processTree(this.child.pid) : [];
    for (const p of this.throttle.pids()) pids.push(p);
    for (const p of pids) this.seen.add(p);
    return pids;
  }

  /** The node wrapper of a native or production server is not the server measured: its memory is left out. */
  get wrapperPid(): number | undefined {
    return this.spec.family === 'typescript' ? undefined : this.child.pid;
  }

  exitReason(during?: string): string | undefined {
    const p = this.child.proc;
    if (p.exitCode === null && p.signalCode === null) return undefined;
    const how = p.signalCode ?? `code ${p.exitCode}`;
    return `server exited (${how})${during ? ` ${during}` : ''}: ${this.child.stderrTail() || 'no output'}`;
  }
}

export class LocalServerHost implements ServerHost {
  /** The quota each server of the phase gets, in a cgroup of its own. */
  private quota = { cpuShare: 0, periodMs: 0 };
  private cpus: string | undefined;
  private readonly servers = new Map<string, LocalServer>();
  /** Servers eventbench did not start (`run --url`), by id: nothing to sample or stop. */
  private readonly externals = new Set<string>();
  private next = 0;

  /** `address`: where its servers listen (`serve --host`) when clients on other hosts reach them; loopback by default. */
  constructor(readonly address?: string) {}

  async environment() {
    return environment();
  }

  async available(name: string): Promise<Availability> {
    const model = findModel(name);
    const list = 'see `eventbench serve --list` there';
    if (!model) return { ok: false, reason: `${name} is not a server model of eventbench here`, hint: list };
    return model.available().catch((err: Error) => ({
      ok: false as const,
      reason: `its availability check failed: ${err.message}`,
      hint: 'run `eventbench doctor` there',
    }));
  }

  async setUp(o: ServerHostSetUp) {
    const warnings: string[] = [];
    const pin = o.cpus !== undefined && hasTaskset();
    this.cpus = pin ? o.cpus : undefined;
    this.quota = { cpuShare: o.cpuShare, periodMs: o.periodMs };
    if (o.cpus !== undefined && !pin) warnings.push('taskset is missing: server and client are not pinned (install util-linux)');
    // Each server gets a cgroup of its own when it starts: one made and removed here says what they will be.
    const probe = createThrottle(o.cpuShare, o.periodMs);
    probe.remove();
    if (o.cpuShare > 0 && probe.mechanism === 'none') {
      warnings.push(`the server runs unthrottled: ${probe.reason}; it may be as fast as the client, unlike the paper's slow server`);
    }
    return { host: hostSetup(probe, pin), warnings };
  }

  /** The cgroup of the server started last, while it runs (tests read its quota while a phase runs). */
  get cgroupPath(): string | undefined {
    return [...this.servers.values()].at(-1)?.throttle.path;
  }

  async start(spec: ServerSpec, signal?: AbortSignal): Promise<StartedServer | { failed: string } | 'aborted'> {
    if (spec.url !== undefined) return this.external(spec.url, spec.backlog);
    const argv = spec.argv ?? serveArgv(spec.name, listeningOn(spec, this.address).serveFlags);
    const command = this.cpus !== undefined ? pinned(this.cpus, argv, true) : argv;
    const child = startChild(command[0]!, command.slice(1), { keepStdout: true });
    const id = String(++this.next);
    const server = new LocalServer(spec, child, createThrottle(this.quota.cpuShare, this.quota.periodMs));
    this.servers.set(id, server);
    if (child.pid < 0) {
      await this.stop(id);
      return { failed: `could not start the server: ${child.stderrTail()}` };
    }
    let url: string;
    try {
      url = await waitListening(child, spec.readyTimeoutMs, signal);
    } catch (err) {
      await this.stop(id);
      return signal?.aborted ? 'aborted' : { failed: (err as Error).message };
    }
    const warnings = spec.throttleAfterWarmUp ? [] : this.throttleTree(server);
    server.port = Number(new URL(url).port);
    return { id, url, backlog: { requested: spec.backlog, effective: backlogOnPort(server.port, spec.backlog) }, warnings };
  }

  /**
   * The server starts unthrottled (a node process needs ~0.2 CPU s to start: at a quarter core that would cost most
   * of a short point) and goes under the quota once ready, before any load: its whole tree now, and every process it
   * starts later, which inherits the cgroup. A second pass catches a late fork.
   */
  private throttleTree(server: LocalServer): string[] {
    const warnings: string[] = [];
    server.throttled = true;
    if (server.throttle.mechanism === 'none') return warnings;
    for (let pass = 0; pass < 2; pass++) {
      const inGroup = new Set(server.throttle.pids());
      for (const p of server.members()) {
        if (inGroup.has(p)) continue;
        try {
          server.throttle.add(p);
        } catch (err) {
          if (alive(p)) warnings.push(`could not throttle ${server.spec.name} (pid ${p}): ${(err as Error).message}`);
        }
      }
    }
    return warnings;
  }

  private get(id: string): LocalServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no server ${id} on this host`);
    return s;
  }

  /** A server eventbench did not start: a handle with its URL, so the engine measures it as it measures the others. */
  private external(url: string, backlog: number): StartedServer {
    const id = `url-${++this.next}`;
    this.externals.add(id);
    return { id, url, backlog: { requested: backlog, effective: backlog }, warnings: [], external: true };
  }

  async throttle(id: string): Promise<string[]> {
    if (this.externals.has(id)) return [];
    const s = this.get(id);
    if (!s.throttled) return this.throttleTree(s);
    s.throttle.limit(true);
    return [];
  }

  async unthrottle(id: string): Promise<string[]> {
    if (!this.externals.has(id)) this.get(id).throttle.limit(false);
    return [];
  }

  async cpuUsage(ids: readonly string[]): Promise<Record<string, number | undefined>> {
    const out: Record<string, number | undefined> = {};
    for (const id of ids) {
      const s = this.servers.get(id);
      out[id] = s?.throttled ? s.throttle.usageS() : undefined;
    }
    return out;
  }

  async exitReason(id: string, during?: string) {
    return this.externals.has(id) ? undefined : this.get(id).exitReason(during);
  }

  async startSampling(id: string) {
    const s = this.get(id);
    const tree = new TreeSampler(
      () => s.members(),
      s.wrapperPid,
      () => s.throttle.usageS(),
    );
    const queue = new AcceptQueueSampler(s.port);
    s.sampling = { tree, queue, periods: s.throttle.periods(), counters: listenCounters() };
    queue.start();
    tree.start();
  }

  async stopSampling(id: string, loadSpan?: { fromMs: number; toMs: number }) {
    const s = this.get(id);
    const on = s.sampling;
    if (!on) throw new Error(`server ${id} is not being sampled`);
    s.sampling = undefined;
    const usage = on.tree.stop();
    const acceptQueue = on.queue.stop();
    const after = listenCounters();
    const unread = 'ListenOverflows and ListenDrops could not be read from /proc/net/netstat: this point records none';
    const warnings = on.counters && after ? [] : [unread];
    const loadCpuShare = loadSpan ? on.tree.cpuShareBetween(loadSpan.fromMs, loadSpan.toMs) : undefined;
    const p = s.throttle.periods();
    const quotaPeriods =
      on.periods && p ? { quotaPeriods: { total: p.total - on.periods.total, throttled: p.throttled - on.periods.throttled } } : {};
    const sample: ServerSample = {
      ...usage,
      ...(loadCpuShare !== undefined ? { loadCpuShare } : {}),
      ...quotaPeriods,
      ...(acceptQueue ? { acceptQueue } : {}),
      idleRssBytes: on.tree.idleRssBytes,
      ...listenGrowth(on.counters, after),
    };
    return { sample, warnings };
  }

  async memory(id: string): Promise<TreeMemory & { hostAvailableBytes: number; kernel: KernelLook }> {
    const s = this.get(id);
    const pids = s.members();
    // Its processes are charged from their first look on; what they allocated before stays with their old group and
    // only moves the intercept. Processes they start later (a fork per connection) are born inside.
    s.kernel ??= createKernelMeter();
    s.kernel.add(serverProcesses(pids, s.wrapperPid).map((p) => p.pid));
    const kernel = s.kernel.read();
    const look: KernelLook = {
      source: s.kernel.source,
      ...(s.kernel.reason ? { reason: s.kernel.reason } : {}),
      ...(kernel ? { memory: kernel } : {}),
    };
    return { ...treeMemory(pids, s.wrapperPid), hostAvailableBytes: availableHostBytes(), kernel: look };
  }

  async connections(id: string) {
    const port = this.get(id).port;
    const established = establishedTo(port);
    const queued = listenQueue(port)?.queued;
    return { ...(established !== undefined ? { established } : {}), ...(queued !== undefined ? { queued } : {}) };
  }

  async stop(id: string): Promise<string[]> {
    if (this.externals.delete(id)) return [];
    const s = this.servers.get(id);
    if (!s) return [];
    this.servers.delete(id);
    s.sampling?.tree.stop();
    s.sampling?.queue.stop();
    s.members();
    await stopChild(s.child, STOP_GRACE_MS);
    const warnings = await reapLeftovers(s.seen, s.throttle, s.spec.name);
    s.kernel?.remove();
    try {
      s.throttle.remove();
    } catch (err) {
      const path = s.throttle.path;
      warnings.push(`could not remove the cgroup ${path}: ${(err as Error).message}; remove it with \`rmdir ${path}\``);
    }
    return warnings;
  }

  async tearDown(): Promise<string[]> {
    const warnings: string[] = [];
    for (const id of [...this.servers.keys()]) warnings.push(...(await this.stop(id)));
    this.quota = { cpuShare: 0, periodMs: 0 };
    return warnings;
  }
}

/** Kills (by pid) whatever the server started and left behind, and says so. */
async function reapLeftovers(seen: Set<number>, throttle: Throttle, name: string): Promise<string[]> {
  const left = () => [...new Set([...seen].filter(alive).concat(throttle.pids()))].filter((p) => p !== process.pid);
  for (let i = 0; i < 20 && left().length > 0; i++) await sleep(50);
  const still = left();
  if (still.length === 0) return [];
  for (const p of still) signalProcess(p, 'SIGKILL');
  for (let i = 0; i < 20 && left().length > 0; i++) await sleep(50);
  return [`${name} left ${still.length} process(es) behind after SIGTERM (pids ${still.join(',')}); killed them`];
}

/** Memory the host has available (MemAvailable), bytes; Infinity where unreadable. */
export function availableHostBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'latin1'));
    return m ? Number(m[1]) * 1024 : Infinity;
  } catch {
    return Infinity;
  }
}

export class LocalClientHost implements ClientHost {
  private cpus: string | undefined;
  /** The phase's load client, one process for all its points (./client-process.ts). */
  private client: ResidentClient | undefined;
  private affinity: string | undefined;

  async environment() {
    return environment();
  }

  async setUp(o: { cpus?: string }) {
    const warnings: string[] = [];
    this.cpus = o.cpus !== undefined && hasTaskset() ? o.cpus : undefined;
    if (this.cpus !== undefined) {
      // The runner's own warm-ups run in this process: pinned, they cannot take the server's core.
      this.affinity = allowedCpus().join(',');
      pinSelf(this.cpus, (w) => warnings.push(w));
    }
    return { pinned: this.cpus !== undefined, warnings };
  }

  async warm(o: Parameters<ClientHost['warm']>[0], signal?: AbortSignal) {
    return warmUntilSteady(o.url, o.concurrency, o.policy, o.timeoutS, signal, o.jit);
  }

  /** One load, by the resident client of this phase (started on the first, pinned as the phase pins the client). */
  async load(spec: LoadSpec, signal?: AbortSignal) {
    if (!this.client) {
      const argv = [process.execPath, EVENTBENCH_BIN, 'load', '--lines'];
      this.client = new ResidentClient(this.cpus !== undefined ? pinned(this.cpus, argv, true) : argv);
    }
    return this.client.load(spec.url, spec.flags, spec.limitS, signal);
  }

  async tearDown(): Promise<string[]> {
    const warnings: string[] = [];
    await this.client?.stop();
    this.client = undefined;
    if (this.affinity !== undefined) pinSelf(this.affinity, (w) => warnings.push(w));
    this.affinity = undefined;
    this.cpus = undefined;
    return warnings;
  }
}

/** This machine as both hosts. */
export function localHosts(): { server: LocalServerHost; client: LocalClientHost } {
  return { server: new LocalServerHost(), client: new LocalClientHost() };
}
