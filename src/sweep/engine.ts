// The one sweep engine. An experiment (src/experiments/: closed loop, open loop, memory) is a list of sweeps, each
// one server in one round measured at its steps in ascending order (loads, rates, connection levels). The engine
// sets the hosts up for the phase (the server's throttle with its period, the server and the runner pinned, or
// neither), and for each sweep starts the server fresh, warms it, runs its steps, applies the stop rules and the
// failure bookkeeping, stops the server whatever happened, prices the time left and reports progress. At the end
// it restores the runner's affinity and removes the throttle. What a step measures, judges and keeps is the
// experiment's.
import type { HostSetup, MemoryServer, OpenPoint, PhaseName, Point } from '../results/schema.js';
import type { Hosts, ServerSpec } from '../host/hosts.js';
import type { Warmup, WarmupPolicy } from '../load/warmup.js';
import { RunClock, type ClockPriors, type SweepToPrice } from './clock.js';
import { HostError } from '../core/errors.js';
import { failedPoint, measurePoint, serverSpec, sessionWarmUp, type MeasureOptions, type Session, type TrialServer } from './session.js';

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

/** One server in one round: started fresh, warmed, then measured at each step in ascending order. */
export interface Sweep {
  round: number;
  server: string;
  steps: number[];
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

export interface Experiment<R> {
  readonly phase: PhaseName;
  readonly host: PhaseHost;
  /** The clock's prices before anything of this phase was measured. */
  readonly priors: ClockPriors;
  /** Told the host set-up in force before the first sweep (whether the server is throttled). */
  setUp?(host: HostSetup): void;
  /** A server's identity (family, paper row) from its name. */
  server(name: string): TrialServer;
  /** How a sweep's server is started. */
  serverSpec(server: TrialServer): ServerSpec;
  /** A fresh server's warm-up before its first step, or undefined for none. */
  warmUp(sweep: Sweep): { concurrency: number; policy: WarmupPolicy; timeoutS: number } | undefined;
  measure(ctx: StepContext): Promise<R | 'aborted'>;
  /** The record of a step that could not be measured: its server did not start, or its host failed mid-call (why). */
  failedStart(server: TrialServer, sweep: Sweep, step: number, reason: string): R;
  /** Whether the record is a failure (the server or the client failed): two in a row retire a server. */
  isFailed(record: R): boolean;
  /** Flags the record and applies the stop rules to it (recording why on it); `failuresInARow` counts this one. */
  judge(record: R, sweep: Sweep, step: number, failuresInARow: number): StepVerdict;
  /** Keeps the record on disk; returns what it kept, for progress. */
  keep(record: R): Kept | undefined;
  /** Records on a record that its step was measured again after a host fault (`why`), before it is judged and kept. */
  retried?(record: R, why: string): void;
  /** Called before the server of a sweep is stopped; returns what it kept then, if anything. */
  endSweep?(sweep: Sweep, aborted: boolean): Kept | undefined;
  /** The highest step `server` may still be measured at, after the stop rules of what is stored. */
  stepCap(server: string): number;
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
   * Asked each time the sweeps run out, with the clock's price of sweeps (s): more sweeps to run on the same host
   * set-up (a round added where the intervals are widest, src/sweep/sharpen.ts), or none to end the phase.
   */
  more?: (priceS: (sweeps: readonly Sweep[]) => number) => Sweep[];
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

interface PhaseState<R> {
  x: Experiment<R>;
  o: EngineOptions;
  sweeps: Sweep[];
  clock: RunClock;
  failuresInARow: Map<string, number>;
  /** The step being measured again after a host fault, and why: recorded on its record once it is measured. */
  retry?: { sweep: Sweep; step: number; why: string };
  /** Steps done so far, and planned in all (an upper bound: the stop rules drop some). */
  index: number;
  total: number;
}

/** Runs one phase's sweeps on hosts set up for it; says whether it was interrupted, and the host set-up in force. */
export async function runPhase<R>(x: Experiment<R>, sweeps: Sweep[], o: EngineOptions): Promise<{ aborted: boolean; host: HostSetup }> {
  const total = sweeps.reduce((a, s) => a + s.steps.length, 0);
  const state: PhaseState<R> = { x, o, sweeps, clock: new RunClock(x.priors), failuresInARow: new Map(), index: 0, total };
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
      if (i === sweeps.length && !extend(state)) break;
      aborted = o.signal?.aborted === true || (await runSweepRetrying(state, i)) === 'aborted';
    }
    return { aborted, host };
  } finally {
    for (const w of await tearDownHosts(o.hosts)) o.warn(w);
  }
}

/** Appends the sweeps `more` asks for, if any; says whether there is a sweep left to run. */
function extend<R>(st: PhaseState<R>): boolean {
  const next = st.o.more?.((sweeps) => st.clock.remainingS(sweeps.map((s) => toPrice(st, s, false)))) ?? [];
  st.sweeps.push(...next);
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
  for (;;) {
    const r = await runSweep(st, i);
    if (!(r instanceof HostFault)) return r;
    const step = sweep.steps[0]!;
    const again = st.retry?.sweep === sweep && st.retry.step === step;
    if (r.error.fault === 'garbled' || again) {
      const after = again ? '; the second time at this point, on a fresh link' : '';
      delete st.retry;
      throw new HostError(r.error.host, `${r.why.slice(r.error.host.length + 2)}${after}`, r.error.fault);
    }
    st.retry = { sweep, step, why: r.why };
    st.o.warn(`${r.why}; measuring ${sweep.server} at ${step} again, once, on a fresh link`);
  }
}

/** One sweep: the server started fresh and warmed, its steps, and the server stopped whatever happened; a host fault is returned. */
async function runSweep<R>(st: PhaseState<R>, i: number): Promise<'done' | 'aborted' | HostFault> {
  const { x, o } = st;
  const sweep = st.sweeps[i]!;
  const cap = x.stepCap(sweep.server);
  dropSteps(st, sweep, (s) => s <= cap);
  if (sweep.steps.length === 0) return 'done';
  const server = x.server(sweep.server);
  const t0 = performance.now();
  const started = await hostFault(o.hosts.server.start(x.serverSpec(server), o.signal));
  if (started === 'aborted' || (started instanceof HostFault && o.signal?.aborted)) return 'aborted';
  if (started instanceof HostFault) return started;
  sweep.started = true;
  let outcome: 'done' | 'aborted' | HostFault = 'aborted';
  const session: Session | undefined = 'failed' in started ? undefined : { server, hosts: o.hosts, started };
  try {
    for (const w of session?.started.warnings ?? []) o.warn(w);
    const warm = session && x.warmUp(sweep);
    const jit = server.family === 'typescript';
    const warming = session && warm ? o.hosts.client.warm({ url: session.started.url, ...warm, jit }, o.signal) : undefined;
    const warmup = warming && (await hostFault(warming));
    if (o.signal?.aborted) return outcome;
    if (warmup instanceof HostFault) {
      outcome = warmup;
      return outcome;
    }
    st.clock.recordSession(sweep.server, (performance.now() - t0) / 1000, server.family);
    outcome = await runSteps(st, i, 'failed' in started ? started.failed : session!, warmup);
    return outcome;
  } finally {
    const kept = x.endSweep?.(sweep, outcome === 'aborted');
    if (kept) o.emit({ type: 'point', kept, index: st.index - 1, total: st.total });
    const stopped = session ? await hostFault(o.hosts.server.stop(session.started.id)) : [];
    for (const w of stopped instanceof HostFault ? [stopped.why] : stopped) o.warn(w);
  }
}

/**
 * Another host that failed mid-call (its agent or its ssh gone, stuck or garbled, src/host/link.ts) fails that call
 * with one line naming it: the engine measures that step again on a fresh link, once (runSweepRetrying). Any other
 * error is a bug, and goes up.
 */
async function hostFault<T>(call: Promise<T>): Promise<T | HostFault> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof HostError) return new HostFault(err);
    throw err;
  }
}

class HostFault {
  constructor(readonly error: HostError) {}

  get why(): string {
    return this.error.message;
  }
}

/** The steps of a started sweep, or the one failed record of a sweep whose server did not start (`reason`). */
async function runSteps<R>(
  st: PhaseState<R>,
  i: number,
  session: Session | string,
  warmup?: Warmup,
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

function eta<R>(st: PhaseState<R>, i: number): number {
  return st.clock.remainingS(st.sweeps.slice(i).map((s) => toPrice(st, s, s.started === true)));
}

/**
 * One point on a fresh server, outside any run (the benches): start it, warm it as a run does (unless told a fixed
 * warm-up), measure, stop it and check nothing of it is left. The hosts must be set up (setUpHosts).
 */
export async function runTrial(hosts: Hosts, o: MeasureOptions & { server: TrialServer; spec?: ServerSpec }): Promise<Point | 'aborted'> {
  const started = await hosts.server.start(o.spec ?? serverSpec(o.server, o.plan), o.signal);
  if (started === 'aborted') return 'aborted';
  if ('failed' in started) return failedPoint(o.server, o.load, o.round, started.failed);
  try {
    const warm = o.warmupRequests === undefined ? sessionWarmUp(o.plan, o.load) : undefined;
    const jit = o.server.family === 'typescript';
    const first = warm ? await hosts.client.warm({ url: started.url, ...warm, jit }, o.signal) : undefined;
    if (o.signal?.aborted) return 'aborted';
    const point = await measurePoint({ server: o.server, hosts, started }, o);
    if (point !== 'aborted' && first && point.status === 'ok') point.warmup = { session: first, ...point.warmup };
    return point;
  } finally {
    for (const w of await hosts.server.stop(started.id)) o.onWarning?.(w);
  }
}
