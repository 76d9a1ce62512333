// The one sweep engine. An experiment (src/experiments/: closed loop, open loop, memory) is a list of sweeps, each
// one server in one round measured at its steps in ascending order (loads, rates, connection levels). The engine
// sets the hosts up for the phase (each server under its own quota with its period, the servers and the runner
// pinned, or neither) and runs the sweeps in order, applying the stop rules and the failure bookkeeping, pricing
// the time left and reporting progress. How servers live depends on the experiment:
// - one at a time (the open loop, the memory phase): each sweep starts its server fresh, warms it, runs its steps
//   and stops it, whatever happened;
// - paired (the closed loop): the servers of one round live together, each in its own cgroup under the same quota
//   on the server's cores. A server is started and warmed once, at its first sweep of the round, and its later
//   sweeps of the round (the cycles) find it warm; every server of the round is stopped when the round ends. At
//   each sweep's start and end the engine reads every live server's CPU time, so that work a server does between
//   its sweeps (a garbage collection it deferred) can be charged to the requests that caused it.
// At the end it restores the runner's affinity and removes the quotas. What a step measures, judges and keeps is
// the experiment's.
import type { HostSetup, MemoryServer, OpenPoint, PhaseName, Point } from '../results/schema.js';
import type { Hosts, ServerSpec } from '../host/hosts.js';
import type { Warmup, WarmupPolicy } from '../load/warmup.js';
import { RunClock, type ClockPriors, type SweepToPrice } from './clock.js';
import { HostError } from '../core/errors.js';
import { HostFault, hostFault } from './host-fault.js';
import type { Session, TrialServer } from './session.js';

/** What a phase has just written to disk: a point of the closed or the open loop, or a server's memory. */
export type Kept = { phase: 'closed'; point: Point } | { phase: 'open'; point: OpenPoint } | { phase: 'memory'; server: MemoryServer };

/** How a phase sets up the hosts: cores for the server and the client (absent: unpinned), the server's quota. */
export interface PhaseHost {
  serverCpus?: string;
  clientCpus?: string;
  /** Cores of quota (0: unthrottled), in periods of periodMs. */
  cpuShare: number;
  periodMs: number;
}

/**
 * One server in one round, measured at each step in ascending order: started fresh and warmed for it, or (a paired
 * experiment) found alive and warm from an earlier sweep of the same round, its `cycle`.
 */
export interface Sweep {
  round: number;
  server: string;
  steps: number[];
  /** Its cycle within the round, from 1, in a paired experiment (the round's servers visited in turn). */
  cycle?: number;
  /** Whether its server has been started (then only its steps are left to price). */
  started?: boolean;
}

export interface StepContext {
  session: Session;
  sweep: Sweep;
  step: number;
  /** The warm-up the server got when started, until a step records it. */
  sessionWarmup?: Warmup;
  signal?: AbortSignal;
}

/** What the stop rules made of a step: why the server goes no further, the steps left. */
export interface StepVerdict {
  stop?: string;
  /** Replaces the sweep's remaining steps (the memory experiment rescales its levels to its budget). */
  next?: number[];
}

/** A fresh server's warm-up: `unthrottled` runs it at the full core and puts the server under its quota after it. */
export interface WarmUpPlan {
  concurrency: number;
  policy: WarmupPolicy;
  timeoutS: number;
  unthrottled?: boolean;
}

/**
 * A sweep of a paired experiment as it ran: when (ms on the runner's monotonic clock), and the CPU seconds every live
 * server of its round had used at its start and at its end (undefined for one whose host keeps no such count).
 */
export interface VisitTimes {
  sweep: Sweep;
  startMs: number;
  endMs: number;
  cpuStartS: Record<string, number | undefined>;
  cpuEndS: Record<string, number | undefined>;
  /** When its server's warm-up before it ended, and every live server's CPU then (a later visit of a round). */
  warmedMs?: number;
  cpuWarmedS?: Record<string, number | undefined>;
  /** Requests its server completed in the sweep: its settles' and its points', trimmed ones included. */
  requests: number;
}

export interface Experiment<R> {
  readonly phase: PhaseName;
  readonly host: PhaseHost;
  /** The clock's prices before anything of this phase was measured. */
  readonly priors: ClockPriors;
  /** The servers of a round live together, each warmed once (see the header); absent: one server at a time. */
  readonly paired?: boolean;
  /** Told the host set-up in force before the first sweep (whether the server is throttled). */
  setUp?(host: HostSetup): void;
  /** A server's identity (family, paper row) from its name. */
  server(name: string): TrialServer;
  /** How a sweep's server is started. */
  serverSpec(server: TrialServer): ServerSpec;
  /** A fresh server's warm-up before its first step, or undefined for none. */
  warmUp(sweep: Sweep): WarmUpPlan | undefined;
  /** A live server's warm-up at the full core before each later sweep of its round (paired), or undefined for none. */
  rewarm?(sweep: Sweep): WarmUpPlan | undefined;
  measure(ctx: StepContext): Promise<R | 'aborted'>;
  /** The record of a step that could not be measured: its server did not start, or its host failed mid-call (why). */
  failedStart(server: TrialServer, sweep: Sweep, step: number, reason: string): R;
  /** Whether the record is a failure (the server or the client failed): two in a row retire a server. */
  isFailed(record: R): boolean;
  /** Requests the record's server completed for it (a paired experiment's CPU accounting); 0 when unknown. */
  requestsOf?(record: R): number;
  /** Flags the record and applies the stop rules to it (recording why on it); `failuresInARow` counts this one. */
  judge(record: R, sweep: Sweep, step: number, failuresInARow: number): StepVerdict;
  /** Keeps the record on disk; returns what it kept, for progress. */
  keep(record: R): Kept | undefined;
  /** Records on a record that its step was measured again after a host fault (`why`), before it is judged and kept. */
  retried?(record: R, why: string): void;
  /** Called before the server of a sweep is stopped; returns what it kept then, if anything. */
  endSweep?(sweep: Sweep, aborted: boolean): Kept | undefined;
  /** A paired experiment's sweep has ended (kept, with its times and every live server's CPU). */
  visited?(visit: VisitTimes): void;
  /** A paired experiment's round ends: every live server's CPU seconds just before they are stopped. */
  roundEnded?(round: number, atMs: number, cpuS: Record<string, number | undefined>): void;
  /** The highest step `server` may still be measured at, after the stop rules of what is stored. */
  stepCap(server: string): number;
  /** Whether a sweep has become pointless given the sweep that ran last (a reference sweep with no other beside it). */
  skips?(sweep: Sweep, previous: Sweep | undefined): boolean;
}

export type EngineEvent =
  | { type: 'host'; phase: PhaseName; host: HostSetup; cpus: { server?: string; client?: string } }
  | { type: 'point-start'; phase: PhaseName; server: string; round: number; step: number; index: number; total: number; etaS?: number }
  | { type: 'point'; kept: Kept; index: number; total: number; etaS?: number }
  | { type: 'warning'; text: string };

export interface EngineOptions {
  hosts: Hosts;
  signal?: AbortSignal;
  emit: (e: EngineEvent) => void;
  warn: (text: string) => void;
  /**
   * Asked at the end of each round (before the next round's first sweep, and when the sweeps run out), with the
   * clock's price of sweeps (s) and the sweeps still planned: more sweeps of the round that ends (cycles added
   * where the intervals are widest, src/sweep/sharpen.ts), or of a round added at the end; none to go on.
   */
  more?: (priceS: (sweeps: readonly Sweep[]) => number, at: { round?: number; left: readonly Sweep[] }) => Sweep[];
}

/** Sets up both hosts for a phase; what is in force, and what to warn about. */
export async function setUpHosts(hosts: Hosts, h: PhaseHost): Promise<{ host: HostSetup; warnings: string[] }> {
  const cpus = h.serverCpus !== undefined ? { cpus: h.serverCpus } : {};
  const s = await hosts.server.setUp({ ...cpus, cpuShare: h.cpuShare, periodMs: h.periodMs });
  const c = await hosts.client.setUp(h.clientCpus !== undefined ? { cpus: h.clientCpus } : {});
  return { host: { ...s.host, pinned: s.host.pinned && c.pinned }, warnings: [...s.warnings, ...c.warnings] };
}

/** Restores the runner's affinity and removes the throttle; returns what could not be undone (a host gone, in its line). */
export async function tearDownHosts(hosts: Hosts): Promise<string[]> {
  const undo = async (h: { tearDown(): Promise<string[]> }) => {
    const r = await hostFault(h.tearDown());
    return r instanceof HostFault ? [r.why] : r;
  };
  return [...(await undo(hosts.client)), ...(await undo(hosts.server))];
}

/** A server of the round in progress: its session (or why it did not start) and the warm-up it got. */
interface Live {
  session?: Session;
  failed?: string;
  warmup?: Warmup;
}

interface PhaseState<R> {
  x: Experiment<R>;
  o: EngineOptions;
  sweeps: Sweep[];
  clock: RunClock;
  failuresInARow: Map<string, number>;
  /** The servers of the round in progress, by name (a paired experiment's; one at a time otherwise). */
  live: Map<string, Live>;
  round?: number;
  /** The sweep that ran last. */
  previous?: Sweep;
  /** The step being measured again after a host fault, and why: recorded on its record once it is measured. */
  retry?: { sweep: Sweep; step: number; why: string };
  /** Steps done so far, and planned in all (an upper bound: the stop rules drop some). */
  index: number;
  total: number;
}

/** Runs one phase's sweeps on hosts set up for it; says whether it was interrupted, and the host set-up in force. */
export async function runPhase<R>(x: Experiment<R>, sweeps: Sweep[], o: EngineOptions): Promise<{ aborted: boolean; host: HostSetup }> {
  const total = sweeps.reduce((a, s) => a + s.steps.length, 0);
  const clock = new RunClock(x.priors);
  const state: PhaseState<R> = { x, o, sweeps, clock, failuresInARow: new Map(), live: new Map(), index: 0, total };
  let aborted = false;
  try {
    const { host, warnings } = await setUpHosts(o.hosts, x.host);
    for (const w of warnings) o.warn(w);
    x.setUp?.(host);
    const pinned = (cpus: string | undefined) => (host.pinned ? cpus : undefined);
    const server = pinned(x.host.serverCpus);
    const client = pinned(x.host.clientCpus);
    o.emit({ type: 'host', phase: x.phase, host, cpus: { ...(server ? { server } : {}), ...(client ? { client } : {}) } });
    for (let i = 0; !aborted; i++) {
      const boundary = i === sweeps.length || (state.round !== undefined && state.round !== sweeps[i]!.round);
      if (boundary && !extend(state, i) && i === sweeps.length) break;
      if (state.round !== undefined && state.round !== sweeps[i]!.round) await endRound(state);
      state.round = sweeps[i]!.round;
      aborted = o.signal?.aborted === true || (await runSweepRetrying(state, i)) === 'aborted';
    }
    return { aborted, host };
  } finally {
    await endRound(state);
    for (const w of await tearDownHosts(o.hosts)) o.warn(w);
  }
}

/** Inserts at `i` the sweeps `more` asks for at a round's end, if any; says whether it added any. */
function extend<R>(st: PhaseState<R>, i: number): boolean {
  const price = (sweeps: readonly Sweep[]) => st.clock.remainingS(pricing(st, sweeps, 0));
  const next = st.o.more?.(price, { ...(st.round !== undefined ? { round: st.round } : {}), left: st.sweeps.slice(i) }) ?? [];
  st.sweeps.splice(i, 0, ...next);
  st.total += next.reduce((a, s) => a + s.steps.length, 0);
  return next.length > 0;
}

/** A sweep as the clock prices it: its server's family, its steps below the server's cap. */
function toPrice<R>(st: PhaseState<R>, s: Sweep, started: boolean): SweepToPrice {
  const cap = st.x.stepCap(s.server);
  return { server: s.server, family: st.x.server(s.server).family, steps: s.steps.filter((l) => l <= cap), started };
}

/**
 * A sweep, run again from its step that failed for a host reason (its agent or link gone, or stuck past a deadline):
 * that host's link was cut, so the next start opens a fresh one (a new agent, a fresh server), and the step is
 * measured once more, its record saying why (Experiment.retried). A garbled answer (not a transient fault), or a
 * second host fault at the same step, is thrown: the phase stops, with that host's line, and keeps what it measured.
 */
async function runSweepRetrying<R>(st: PhaseState<R>, i: number): Promise<'done' | 'aborted'> {
  const sweep = st.sweeps[i]!;
  const before = st.previous;
  for (;;) {
    const r = await runSweep(st, i);
    if (!(r instanceof HostFault)) return r;
    st.previous = before; // tried again, the sweep is judged against the one before it, not against itself
    const step = sweep.steps[0]!;
    const again = st.retry?.sweep === sweep && st.retry.step === step;
    if (r.error.fault === 'garbled' || again) {
      const after = again ? '; the second time at this point, on a fresh link' : '';
      delete st.retry;
      throw new HostError(r.error.host, `${r.why.slice(r.error.host.length + 2)}${after}`, r.error.fault);
    }
    // The host's link was cut, and the servers it ran with it (stopping them where a host still answers): the retry
    // starts afresh what it needs.
    for (const name of [...st.live.keys()]) await stopServer(st, name);
    st.retry = { sweep, step, why: r.why };
    st.o.warn(`${r.why}; measuring ${sweep.server} at ${step} again, once, on a fresh link`);
  }
}

/**
 * One sweep: its server started fresh and warmed (or found alive, in a paired experiment), its steps, and (one
 * server at a time) the server stopped whatever happened; a host fault is returned.
 */
async function runSweep<R>(st: PhaseState<R>, i: number): Promise<'done' | 'aborted' | HostFault> {
  const { x, o } = st;
  const sweep = st.sweeps[i]!;
  const cap = x.stepCap(sweep.server);
  dropSteps(st, sweep, (s) => s <= cap && !x.skips?.(sweep, st.previous));
  if (sweep.steps.length === 0) return 'done';
  st.previous = sweep;
  let outcome: 'done' | 'aborted' | HostFault = 'aborted';
  try {
    const found = st.live.get(sweep.server);
    const live = found ?? (await startServer(st, sweep));
    if (live === 'aborted' || o.signal?.aborted) return outcome;
    if (live instanceof HostFault) {
      outcome = live;
      return outcome;
    }
    // The visit's CPU is read before its warm-up (what the server did since its last visit is told apart from it) and
    // after (what its points cost).
    const startMs = performance.now();
    const before = x.paired ? await cpuNow(st) : undefined;
    const rewarmed = found?.session ? await rewarm(st, sweep, found.session) : undefined;
    if (rewarmed instanceof HostFault) {
      outcome = rewarmed;
      return outcome;
    }
    if (rewarmed) live.warmup = rewarmed;
    sweep.started = true;
    const warmed = rewarmed && x.paired ? { warmedMs: performance.now(), cpuWarmedS: await cpuNow(st) } : {};
    const counted = { requests: 0 };
    outcome = await runSteps(st, i, live.failed ?? live.session!, live.warmup, counted);
    live.warmup = undefined;
    // Interrupted, or a host fault cut the link: nothing more is asked of that host here (the phase's end stops what
    // still runs; a retry starts afresh what it needs).
    if (outcome !== 'done') return outcome;
    if (before) {
      const cpuEndS = await cpuNow(st);
      x.visited?.({ sweep, startMs, ...warmed, endMs: performance.now(), cpuStartS: before, cpuEndS, requests: counted.requests });
    }
    // A server that failed is not running: the round's later sweeps of it start it afresh.
    if (live.failed !== undefined || (live.session && (await o.hosts.server.exitReason(live.session.started.id))))
      await stopServer(st, sweep.server);
    return outcome;
  } finally {
    const kept = x.endSweep?.(sweep, outcome === 'aborted');
    if (kept) o.emit({ type: 'point', kept, index: st.index - 1, total: st.total });
    if (!x.paired) await stopServer(st, sweep.server);
  }
}

/** Starts a sweep's server and warms it (then puts it under its quota, when warmed at the full core); keeps it live. */
async function startServer<R>(st: PhaseState<R>, sweep: Sweep): Promise<Live | 'aborted' | HostFault> {
  const { x, o } = st;
  const server = x.server(sweep.server);
  const t0 = performance.now();
  const warm = x.warmUp(sweep);
  const spec = { ...x.serverSpec(server), ...(warm?.unthrottled ? { throttleAfterWarmUp: true } : {}) };
  const call = await hostFault(o.hosts.server.start(spec, o.signal));
  if (call === 'aborted' || (call instanceof HostFault && o.signal?.aborted)) return 'aborted';
  if (call instanceof HostFault) return call;
  const live: Live = {};
  st.live.set(sweep.server, live);
  if ('failed' in call) {
    live.failed = call.failed;
    return live;
  }
  live.session = { server, hosts: o.hosts, started: call };
  for (const w of call.warnings) o.warn(w);
  if (warm) {
    const jit = server.family === 'typescript';
    const warmup = await hostFault(o.hosts.client.warm({ url: call.url, ...warm, jit }, o.signal));
    if (o.signal?.aborted) return live;
    if (warmup instanceof HostFault) return warmup;
    live.warmup = warmup;
    if (warm.unthrottled) for (const w of await o.hosts.server.throttle(call.id)) o.warn(w);
  }
  st.clock.recordSession(sweep.server, (performance.now() - t0) / 1000, server.family);
  return live;
}

/**
 * A live server's warm-up before a later sweep of its round (Experiment.rewarm), at the full core, then its quota put
 * back: idle between its sweeps, a JIT server loses compiled code (V8 flushes what has not run for a while), and its
 * next sweep would measure it compiling again, not its steady state.
 */
async function rewarm<R>(st: PhaseState<R>, sweep: Sweep, session: Session): Promise<Warmup | HostFault | undefined> {
  const { x, o } = st;
  const warm = x.rewarm?.(sweep);
  if (!warm || session.started.external) return undefined;
  const id = session.started.id;
  const lifted = await hostFault(o.hosts.server.unthrottle(id));
  if (lifted instanceof HostFault) return lifted;
  const jit = session.server.family === 'typescript';
  const warmup = await hostFault(o.hosts.client.warm({ url: session.started.url, ...warm, jit }, o.signal));
  const back = await hostFault(o.hosts.server.throttle(id));
  if (back instanceof HostFault) return back;
  for (const w of [...lifted, ...back]) o.warn(w);
  return warmup;
}

/** Stops a live server, if any, and forgets it. */
async function stopServer<R>(st: PhaseState<R>, name: string): Promise<void> {
  const live = st.live.get(name);
  st.live.delete(name);
  if (!live?.session) return;
  const stopped = await hostFault(st.o.hosts.server.stop(live.session.started.id));
  for (const w of stopped instanceof HostFault ? [stopped.why] : stopped) st.o.warn(w);
}

/** The end of a round: a paired experiment is told every live server's CPU, then each is stopped. */
async function endRound<R>(st: PhaseState<R>): Promise<void> {
  if (st.live.size === 0) return;
  if (st.x.paired && st.round !== undefined) st.x.roundEnded?.(st.round, performance.now(), await cpuNow(st));
  for (const name of [...st.live.keys()]) await stopServer(st, name);
}

/** The CPU seconds every live server has used, by name (a host that cannot say leaves it undefined). */
async function cpuNow<R>(st: PhaseState<R>): Promise<Record<string, number | undefined>> {
  const ids = [...st.live].filter(([, l]) => l.session && !l.session.started.external).map(([n, l]) => [n, l.session!.started.id] as const);
  const usage = await hostFault(st.o.hosts.server.cpuUsage(ids.map(([, id]) => id)));
  const out: Record<string, number | undefined> = {};
  for (const [name, id] of ids) out[name] = usage instanceof HostFault ? undefined : usage[id];
  return out;
}

/** The steps of a started sweep, or the one failed record of a sweep whose server did not start (`reason`). */
async function runSteps<R>(
  st: PhaseState<R>,
  i: number,
  session: Session | string,
  warmup: Warmup | undefined,
  counted: { requests: number },
): Promise<'done' | 'aborted' | HostFault> {
  const { x, o } = st;
  const sweep = st.sweeps[i]!;
  while (sweep.steps.length > 0) {
    const step = sweep.steps[0]!;
    const tp = performance.now();
    const { server, round } = sweep;
    o.emit({ type: 'point-start', phase: x.phase, server, round, step, index: st.index, total: st.total, etaS: eta(st, i) });
    const ctx = { session, sweep, step, ...(warmup ? { sessionWarmup: warmup } : {}), ...(o.signal ? { signal: o.signal } : {}) };
    const measured = typeof ctx.session === 'string' ? ctx.session : await hostFault(x.measure({ ...ctx, session: ctx.session }));
    if (measured === 'aborted' || (measured instanceof HostFault && o.signal?.aborted)) return 'aborted';
    if (measured instanceof HostFault) return measured;
    const record = typeof measured === 'string' ? x.failedStart(x.server(sweep.server), sweep, step, measured) : measured;
    if (st.retry?.sweep === sweep && st.retry.step === step) {
      x.retried?.(record, st.retry.why);
      delete st.retry;
    }
    warmup = undefined;
    counted.requests += x.requestsOf?.(record) ?? 0;
    const v = judge(st, sweep, record, step);
    sweep.steps.shift();
    if (v.next) dropSteps(st, sweep, () => false, v.next);
    const kept = x.keep(record);
    if (v.stop !== undefined) retireLater(st, sweep.server);
    st.index += 1;
    st.clock.recordPoint(sweep.server, step, (performance.now() - tp) / 1000);
    // Retired, or the server is not running: this sweep is over; the next round starts it afresh.
    if (v.stop !== undefined || x.isFailed(record)) dropSteps(st, sweep, () => false);
    if (kept) o.emit({ type: 'point', kept, index: st.index - 1, total: st.total, etaS: eta(st, i) });
    if (o.signal?.aborted) return 'aborted';
  }
  return 'done';
}

/** The experiment's verdict on a step, with the failures in a row counted. */
function judge<R>(st: PhaseState<R>, sweep: Sweep, record: R, step: number): StepVerdict {
  const fails = st.x.isFailed(record) ? (st.failuresInARow.get(sweep.server) ?? 0) + 1 : 0;
  st.failuresInARow.set(sweep.server, fails);
  return st.x.judge(record, sweep, step, fails);
}

/** After a stop rule: the later rounds of `server` keep only the steps below its cap. */
function retireLater<R>(st: PhaseState<R>, server: string): void {
  const cap = st.x.stepCap(server);
  for (const s of st.sweeps) if (s.server === server && !s.started) dropSteps(st, s, (x) => x <= cap);
}

/** Keeps the steps of `sweep` that pass `keep` (then appends `more`), and counts the difference in the total. */
function dropSteps<R>(st: PhaseState<R>, sweep: Sweep, keep: (step: number) => boolean, more: number[] = []): void {
  const before = sweep.steps.length;
  sweep.steps = [...sweep.steps.filter(keep), ...more];
  st.total += sweep.steps.length - before;
}

/** The clock's price of the sweeps from `i` on. */
function eta<R>(st: PhaseState<R>, i: number): number {
  return st.clock.remainingS(pricing(st, st.sweeps, i));
}

/** Sweeps as the clock prices them: a server pays its start once a round (paired: its first sweep), or once a sweep. */
function pricing<R>(st: PhaseState<R>, sweeps: readonly Sweep[], from: number): SweepToPrice[] {
  const key = (round: number | undefined, server: string) => `${round}\u0000${server}`;
  const seen = new Set(st.x.paired ? [...st.live.keys()].map((n) => key(st.round, n)) : []);
  return sweeps.slice(from).map((s) => {
    const started = s.started === true || seen.has(key(s.round, s.server));
    if (st.x.paired) seen.add(key(s.round, s.server));
    return toPrice(st, s, started);
  });
}
