// One point of a run: start the server fresh (pinned, under the quota), wait for its `listening on` line, warm
// it up, measure it with `eventbench load --json` from the client cores while sampling its process tree, then stop
// it and check nothing of it is left. Whatever goes wrong becomes a failed Point: a failure is data.
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadResult } from '../load/types.js';
import type { Family, Plan, Point, ServerMetrics } from './schema.js';
import { POINT_SCHEMA } from './schema.js';
import type { Throttle } from '../host/throttle.js';
import { pinned } from '../host/cpus.js';
import { AcceptQueueSampler, TreeSampler, effectiveBacklog, listenCounters, listenGrowth, processTree } from '../host/sampling.js';
import { pointTrim, RUN_DEFAULTS } from './plan.js';
import { warmUntilSteady, type Warmup } from './warmup.js';
import { alive, signalProcess } from '../core/proc.js';
import { startChild, stopChild, type Child } from '../core/child.js';
import { serveRuntime, type ServerModel } from '../servers/registry.js';
import { runtimeArgv } from '../servers/runtime.js';

/** A server gets this long after SIGTERM before SIGKILL; whatever it leaves is then killed by pid and reported. */
export const STOP_GRACE_MS = 3000;

export const EVENTBENCH_BIN = fileURLToPath(new URL('../../../bin/eventbench.js', import.meta.url));

export interface TrialServer {
  name: string;
  family: Family;
  paperRow?: string;
  /** A user's server: its label, carried into its points for the report. */
  label?: string;
  /** Flags `eventbench serve NAME` needs to find it (a user's server: --servers-file FILE or --server SPEC). */
  serveArgs?: string[];
  /** A server eventbench did not start (`run --url`): measured where it answers, never started, throttled or sampled. */
  url?: string;
}

/** What a trial needs of a model: its name, family, paper row, label, and how `serve` finds it. */
export function trialServer(model: ServerModel): TrialServer {
  return {
    name: model.name, family: model.family, ...(model.paperRow ? { paperRow: model.paperRow } : {}),
    ...(model.label ? { label: model.label } : {}), ...(model.serveArgs ? { serveArgs: model.serveArgs } : {}),
    ...(model.url ? { url: model.url } : {}),
  };
}

export interface TrialOptions {
  server: TrialServer;
  load: number;
  repeat: number;
  plan: Plan;
  throttle: Throttle;
  /** Whether to prefix commands with taskset. */
  pin: boolean;
  signal?: AbortSignal;
  /** argv starting the server; default `node bin/eventbench.js serve NAME --port 0 --backlog B --page-bytes P`. */
  serverArgv?: (server: TrialServer, plan: Plan) => string[];
  /** argv of the client; default `node bin/eventbench.js load --json ...`. */
  loadArgv?: (url: string, load: LoadArgs) => string[];
  /** How long a server may take to print its line (native servers compile on first use), ms. */
  readyTimeoutMs?: number;
  /**
   * Requests sent before the measurement instead of the plan's warm-up to steady state (0: none). Tests and
   * benches that warm by their own rule set it; a run leaves it unset.
   */
  warmupRequests?: number;
  /** This point's length, when the runner lengthened it (see pointDurationS); plan.durationS otherwise. */
  durationS?: number;
  /** Called with notes worth a warning (processes left behind...). */
  onWarning?: (text: string) => void;
}

export interface LoadArgs {
  concurrency: number;
  requests?: number;
  durationS?: number;
  timeoutS: number;
  trim: number;
  engine: Plan['engine'];
}

export function defaultServerArgv(server: TrialServer, plan: Plan): string[] {
  // `events@bun` is `bun bin/eventbench.js serve events ...` (servers/runtime.ts); a plain name runs under Node.
  const { model, runtime } = serveRuntime(server.name);
  const args = ['serve', model, '--port', '0', '--backlog', String(plan.backlog), '--page-bytes', String(plan.pageBytes)];
  // A user's server: the flags that let `serve` find it (--servers-file FILE or --server SPEC).
  args.push(...(server.serveArgs ?? []));
  return runtime === 'node' ? [process.execPath, EVENTBENCH_BIN, ...args] : runtimeArgv(runtime, EVENTBENCH_BIN, args);
}

export function defaultLoadArgv(url: string, a: LoadArgs): string[] {
  const argv = [process.execPath, EVENTBENCH_BIN, 'load', url, '-c', String(a.concurrency), '--json',
    '--timeout', String(a.timeoutS), '--trim', String(a.trim), '--engine', a.engine];
  if (a.requests !== undefined) argv.push('-n', String(a.requests));
  if (a.durationS !== undefined) argv.push('-t', String(a.durationS));
  return argv;
}

function start(argv: string[]): Child {
  return startChild(argv[0]!, argv.slice(1), { keepStdout: true });
}

/** Resolves with the URL of the `listening on` line, or rejects with what went wrong. */
export function waitListening(child: Child, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = child.stdout().split('\n')[0] ?? '';
      const m = /^listening on (http:\/\/\S+)\s*$/.exec(line);
      if (m && child.stdout().includes('\n')) done(() => resolve(m[1]!));
      else if (child.stdout().includes('\n')) done(() => reject(new Error(`first line was ${JSON.stringify(line.slice(0, 120))}, not "listening on http://HOST:PORT/"`)));
    };
    const onExit = ({ code, signal: sig }: { code: number | null; signal: NodeJS.Signals | null }) =>
      done(() => reject(new Error(`server exited (${sig ?? `code ${code}`}) before listening: ${child.stderrTail() || 'no output'}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`server printed no "listening on" line within ${timeoutMs} ms`))), timeoutMs);
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

/** Runs the client to the end; returns its parsed LoadResult or why there is none. */
async function runClient(argv: string[], limitS: number, signal?: AbortSignal): Promise<{ result?: LoadResult; error?: string; aborted?: boolean }> {
  const client = start(argv);
  const onAbort = () => client.proc.kill('SIGINT');
  signal?.addEventListener('abort', onAbort, { once: true });
  const hung = setTimeout(() => client.proc.kill('SIGKILL'), limitS * 1000);
  const { code, signal: sig } = await client.exited;
  clearTimeout(hung);
  signal?.removeEventListener('abort', onAbort);
  if (signal?.aborted) return { aborted: true };
  try {
    const result = JSON.parse(client.stdout()) as LoadResult;
    if (typeof result.requests === 'number') return { result };
  } catch { /* fall through */ }
  return { error: `client ended (${sig ?? `code ${code}`}) without a result${sig === 'SIGKILL' ? ` after ${limitS} s` : ''}: ${client.stderrTail() || 'no output'}` };
}

/** What every point of `server` at `load` records, whatever its outcome. */
export function pointBase(server: TrialServer, load: number, repeat: number, startedAt = new Date().toISOString()) {
  return {
    schema: POINT_SCHEMA, server: server.name, family: server.family, ...(server.paperRow ? { paperRow: server.paperRow } : {}),
    ...(server.label ? { label: server.label } : {}), ...(server.url ? { url: server.url } : {}), load, repeat, startedAt,
  } as const;
}

/** The one builder of a failed point: a failure is data, with why. */
export function failedPoint(server: TrialServer, load: number, repeat: number, reason: string, startedAt?: string): Point {
  return { ...pointBase(server, load, repeat, startedAt), status: 'failed', reason };
}

/** A started server under test: where it answers, its process tree, and how to stop it. */
export interface ServerSession {
  server: TrialServer;
  url: string;
  backlog: { requested: number; effective: number };
  /** Why it is no longer running, or undefined while it runs. */
  exitReason(during?: string): string | undefined;
  /** Its processes now (tree and cgroup members); every pid seen is remembered for the leftover check. */
  members(): number[];
  rootPid: number;
  /** SIGTERM, SIGKILL after STOP_GRACE_MS, then kill (by pid) anything of it left, with a warning. */
  close(): Promise<void>;
}

type SessionOptions = Pick<TrialOptions, 'server' | 'plan' | 'throttle' | 'pin' | 'signal' | 'serverArgv' | 'readyTimeoutMs' | 'onWarning'>;

/**
 * A session without a process, for a server eventbench did not start (`run --url`): it has no pid to pin, throttle,
 * sample or stop (rootPid 0, so its points carry no metrics), and is running as long as it answers.
 */
function urlSession(server: TrialServer, url: string, plan: Plan): ServerSession {
  const port = Number(new URL(url).port || 80);
  return {
    server, url, backlog: { requested: plan.backlog, effective: effectiveBacklog(port, plan.backlog) },
    exitReason: () => undefined, members: () => [], rootPid: 0, close: async () => {},
  };
}

/** Starts the server and waits for its line; resolves to the session, to why it failed, or to 'aborted'. */
export async function startSession(o: SessionOptions): Promise<ServerSession | { failed: string } | 'aborted'> {
  const { plan, server } = o;
  if (server.url) return urlSession(server, server.url, plan);
  const warn = o.onWarning ?? (() => {});
  const child = start(pinned(plan.serverCpus, (o.serverArgv ?? defaultServerArgv)(server, plan), o.pin));
  const rootPid = child.proc.pid;
  // Everything the server ever ran, so that leftovers can be found even after they were reparented.
  const seen = new Set<number>();
  const members = () => {
    const pids = rootPid === undefined ? [] : processTree(rootPid);
    for (const p of o.throttle.pids()) pids.push(p);
    for (const p of pids) seen.add(p);
    return pids;
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    members();
    await stopChild(child, STOP_GRACE_MS);
    await reapLeftovers(seen, o.throttle, server.name, warn);
  };
  const exitReason = (during?: string) => (child.proc.exitCode !== null || child.proc.signalCode !== null
    ? `server exited (${child.proc.signalCode ?? `code ${child.proc.exitCode}`})${during ? ` ${during}` : ''}: ${child.stderrTail() || 'no output'}` : undefined);
  if (rootPid === undefined) {
    await close();
    return { failed: `could not start the server: ${child.stderrTail()}` };
  }
  let url: string;
  try {
    url = await waitListening(child, o.readyTimeoutMs ?? 60_000, o.signal);
  } catch (err) {
    await close();
    return o.signal?.aborted ? 'aborted' : { failed: (err as Error).message };
  }
  // The server starts unthrottled (a node process needs ~0.2 CPU s to start: at a quarter core that would
  // cost most of a short point) and goes under the quota once ready, before any load: its whole tree now,
  // and every process it starts later, which inherits the cgroup. A second pass catches a late fork.
  if (o.throttle.mechanism !== 'none') {
    for (let pass = 0; pass < 2; pass++) {
      const inGroup = new Set(o.throttle.pids());
      for (const p of members()) if (!inGroup.has(p)) try { o.throttle.add(p); } catch (err) { if (alive(p)) warn(`could not throttle ${server.name} (pid ${p}): ${(err as Error).message}`); }
    }
  }
  const port = Number(new URL(url).port);
  return { server, url, backlog: { requested: plan.backlog, effective: effectiveBacklog(port, plan.backlog) }, exitReason, members, rootPid, close };
}

/** Quota periods during the measurement, and in how many the server ran out of quota (it was CPU-bound). */
function throttledPeriods(before?: { total: number; throttled: number }, after?: { total: number; throttled: number }): Pick<ServerMetrics, 'quotaPeriods'> {
  if (!before || !after) return {};
  return { quotaPeriods: { total: after.total - before.total, throttled: after.throttled - before.throttled } };
}

type MeasureOptions = Pick<TrialOptions, 'throttle' | 'load' | 'repeat' | 'plan' | 'pin' | 'signal' | 'loadArgv' | 'warmupRequests' | 'durationS' | 'onWarning'>;

/** Warms up and measures one point on a running server. Resolves to the Point, or 'aborted' (nothing recorded). */
export async function measurePoint(session: ServerSession, o: MeasureOptions): Promise<Point | 'aborted'> {
  const { plan, load } = o;
  const { server, url } = session;
  const base = pointBase(server, load, o.repeat);
  const failed = (reason: string): Point => failedPoint(server, load, o.repeat, reason, base.startedAt);
  const warn = o.onWarning ?? (() => {});
  const timeoutS = Math.max(1, plan.latencyCapMs / 1000);
  const dead = session.exitReason('before the point');
  if (dead) return failed(dead);

  // Warm-up from the runner's own process (pinned to the client cores) with the load library: the server
  // settles at this load before it is measured; its first warm-up, when it was started, was done by warmSession.
  let warmup: Warmup | undefined;
  if (o.warmupRequests !== 0) {
    const policy = o.warmupRequests !== undefined
      ? { windowS: 3600, agree: 1, tolerance: 1, minRequests: o.warmupRequests, maxRequests: o.warmupRequests, maxS: 120 }
      : (plan.warmup ?? RUN_DEFAULTS.warmup).load;
    warmup = await warmUntilSteady(url, load, policy, timeoutS, o.signal);
    if (o.signal?.aborted) return 'aborted';
    const gone = session.exitReason('during the warm-up');
    if (gone) return failed(gone);
  }

  // The node wrapper of a native or production server is not the server measured: its memory and its own
  // process and thread are left out (its CPU stays in, since it spends the same quota).
  const sampler = new TreeSampler(() => session.members(), server.family === 'typescript' ? undefined : session.rootPid, () => o.throttle?.usageS());
  const periodsBefore = o.throttle?.periods();
  const queue = new AcceptQueueSampler(Number(new URL(url).port));
  queue.start();
  const before = listenCounters();
  sampler.start();
  const durationS = o.durationS ?? plan.durationS;
  const limitS = (durationS ?? 600) + timeoutS + 15;
  const measured = await runClient(pinned(plan.clientCpus, (o.loadArgv ?? defaultLoadArgv)(url, {
    concurrency: load, requests: plan.requests, durationS, timeoutS, trim: pointTrim(plan, load), engine: plan.engine,
  }), o.pin), limitS, o.signal);
  const usage = sampler.stop();
  const acceptQueue = queue.stop();
  const after = listenCounters();
  if (!before || !after) warn('ListenOverflows and ListenDrops could not be read from /proc/net/netstat: this point records none');
  if (measured.aborted) return 'aborted';
  const gone = session.exitReason('during the measurement');
  if (gone) return failed(gone);
  if (!measured.result) return failed(measured.error ?? 'no result');
  const loadFromMs = Date.parse(measured.result.startedAt);
  const loadCpuShare = sampler.cpuShareBetween(loadFromMs, loadFromMs + measured.result.totalDurationS * 1000);
  const metrics: ServerMetrics = {
    ...usage,
    ...(loadCpuShare !== undefined ? { loadCpuShare } : {}),
    ...throttledPeriods(periodsBefore, o.throttle?.periods()),
    ...(acceptQueue ? { acceptQueue } : {}),
    idleRssBytes: sampler.idleRssBytes,
    ...listenGrowth(before, after),
    backlog: session.backlog,
  };
  // A server eventbench did not start (urlSession) had no process to sample: its point records no metrics at all.
  const sampled = session.rootPid > 0 ? { metrics } : {};
  return { ...base, status: 'ok', result: measured.result, ...sampled, ...(warmup ? { warmup: { load: warmup } } : {}) };
}

/**
 * A fresh server is first warmed at its first load, at most this many clients: V8 compiles the same code at any
 * load, and a server that takes seconds per request (a process per connection) is not flooded with requests it
 * would still be serving when its first point starts.
 */
export const SESSION_WARMUP_CONCURRENCY = 50;

/** A freshly started server's first warm-up, to steady state at its first load (at most SESSION_WARMUP_CONCURRENCY clients). */
export async function warmSession(session: ServerSession, plan: Plan, firstLoad: number, signal?: AbortSignal): Promise<Warmup> {
  const timeoutS = Math.max(1, plan.latencyCapMs / 1000);
  const concurrency = Math.min(SESSION_WARMUP_CONCURRENCY, firstLoad);
  return warmUntilSteady(session.url, concurrency, (plan.warmup ?? RUN_DEFAULTS.warmup).session, timeoutS, signal, session.server.family === 'typescript');
}

/** One point on a fresh server: start it, warm it to steady state, measure, stop it and check nothing of it is left. */
export async function runTrial(o: TrialOptions): Promise<Point | 'aborted'> {
  const startedAt = new Date().toISOString();
  const session = await startSession(o);
  if (session === 'aborted') return 'aborted';
  if ('failed' in session) {
    return failedPoint(o.server, o.load, o.repeat, session.failed, startedAt);
  }
  try {
    // A fresh server is warmed to steady state first, as every sweep of a run does (unless told a fixed warm-up).
    const first = o.warmupRequests === undefined ? await warmSession(session, o.plan, o.load, o.signal) : undefined;
    if (o.signal?.aborted) return 'aborted';
    const point = await measurePoint(session, o);
    if (point !== 'aborted' && first && point.status === 'ok') point.warmup = { session: first, ...point.warmup };
    return point === 'aborted' ? point : { ...point, startedAt };
  } finally {
    await session.close();
  }
}

/** Kills (by pid) whatever the server started and left behind, and says so. */
async function reapLeftovers(seen: Set<number>, throttle: Throttle, name: string, warn: (t: string) => void): Promise<void> {
  const left = () => [...new Set([...seen].filter(alive).concat(throttle.pids()))].filter((p) => p !== process.pid);
  for (let i = 0; i < 20 && left().length > 0; i++) await sleep(50);
  const still = left();
  if (still.length === 0) return;
  warn(`${name} left ${still.length} process(es) behind after SIGTERM (pids ${still.join(',')}); killed them`);
  for (const p of still) signalProcess(p, 'SIGKILL');
  for (let i = 0; i < 20 && left().length > 0; i++) await sleep(50);
}
