// `eventbench run` as a library: plan the rounds, set up the host, then run every sweep (one server in one round:
// start it, warm it to steady state, measure it at each load) that has points missing, apply the stop rules, and
// keep every finished point on disk. It reports what happens through `onEvent`; the CLI draws it.
import { environment } from '../core/environment.js';
import { findModel, models as allModels, type ServerModel } from '../servers/registry.js';
import type { Plan, Point, RunInfo } from './schema.js';
import { RUN_SCHEMA } from './schema.js';
import { planSweeps, pointDurationS, resolvePlan, type PlanInput, type Sweep } from './plan.js';
import { RunClock } from './clock.js';
import type { Warmup } from './warmup.js';
import { createThrottle, hostSetup, type Throttle } from '../host/throttle.js';
import { allowedCpus, hasTaskset, pinSelf } from '../host/cpus.js';
import { pointFlags } from './verdict.js';
import { appendPoint, createRunDir, defaultRunDir, readRun, writeRunInfo } from './store.js';
import { failedPoint, measurePoint, startSession, trialServer, warmSession } from './session.js';
import type { ServerSession, TrialOptions, TrialServer } from './session.js';
import { recordUserServers } from '../servers/user/index.js';

export type RunEvent =
  | { type: 'start'; dir: string; info: RunInfo; total: number; done: number }
  | { type: 'point-start'; server: string; load: number; repeat: number; index: number; total: number; etaS?: number }
  | { type: 'point'; point: Point; index: number; total: number; etaS?: number }
  | { type: 'warning'; text: string };

export interface RunOptions {
  input: PlanInput;
  /** Folder for a new run (default results/<date-time>/). */
  out?: string;
  /** Folder of an earlier run to complete: its plan is reused, only missing points are measured. */
  resume?: string;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Servers to choose from (default: every model eventbench has). */
  catalog?: readonly ServerModel[];
  /** The user's own servers (--server, --servers-file), chosen from beside the catalog and recorded in the plan. */
  userModels?: readonly ServerModel[];
  /** Called with a new run's servers once its plan is checked, before anything is created or measured (run's short check). */
  preflight?: (models: readonly ServerModel[], plan: Plan) => Promise<void>;
  /** Passed to each trial (tests use tiny request counts and their own commands). */
  trial?: Pick<TrialOptions, 'serverArgv' | 'loadArgv' | 'warmupRequests' | 'readyTimeoutMs'>;
}

export interface RunOutcome {
  dir: string;
  info: RunInfo;
  /** Every point of the run, earlier ones included when resumed. */
  points: Point[];
  interrupted: boolean;
}

/** Why a server is not pushed to higher loads after this point, or undefined. */
export function stopReason(point: Point, plan: Plan, failuresInARow: number): string | undefined {
  if (point.status === 'failed') return failuresInARow >= 2 ? `${failuresInARow} failed points in a row` : undefined;
  const r = point.result!;
  if (r.latencyMs.mean !== null && r.latencyMs.mean > plan.latencyCapMs) {
    return `mean latency ${r.latencyMs.mean.toFixed(0)} ms passed the cap of ${plan.latencyCapMs} ms at load ${point.load}`;
  }
  const share = r.errors.total / Math.max(1, r.requestsCompleted);
  if (share > plan.errorShareCap) {
    return `errors were ${(share * 100).toFixed(1)}% of requests, past the cap of ${(plan.errorShareCap * 100).toFixed(1)}% at load ${point.load}`;
  }
  return undefined;
}

const key = (server: string, load: number, repeat: number) => `${server}\u0000${load}\u0000${repeat}`;

/** A run being measured: where it is stored, what it holds so far, and what it can run. */
interface RunState {
  dir: string;
  info: RunInfo;
  points: Point[];
  runnable: ServerModel[];
}

export async function runExperiment(o: RunOptions): Promise<RunOutcome> {
  const catalog = [...(o.catalog ?? allModels), ...(o.userModels ?? [])];
  // A fault in whoever draws progress must not end a run: it is reported once and drawing stops.
  const warnings: string[] = [];
  let emit = (e: RunEvent) => {
    try {
      o.onEvent?.(e);
    } catch (err) {
      emit = () => {};
      warn(`progress display failed (${(err as Error).message}); the run goes on`);
    }
  };
  const warn = (text: string) => {
    warnings.push(text);
    emit({ type: 'warning', text });
  };
  const state = o.resume !== undefined ? await resumeRun(o.resume, catalog, o.catalog === undefined) : await newRun(o, catalog);
  const { dir, info } = state;
  for (const w of warnings.splice(0)) info.warnings.push(w);
  const record = (text: string) => { info.warnings.push(text); emit({ type: 'warning', text }); };
  const plan = info.plan;
  const affinity = allowedCpus().join(',');
  const { throttle, pin } = setUpHost(info, plan, record);
  let interrupted = false;
  try {
    writeRunInfo(dir, info);
    const sweeps = sweepsLeft(plan, state);
    const total = sweeps.reduce((a, s) => a + s.loads.length, 0);
    emit({ type: 'start', dir, info, total, done: state.points.length });
    const ctx: SweepContext = { o, plan, throttle, pin, state, sweeps, clock: new RunClock(plan), failuresInARow: new Map(), index: 0, total, emit, warn: record };
    for (let i = 0; i < sweeps.length; i++) {
      if (o.signal?.aborted || (await runSweep(ctx, i)) === 'aborted') { interrupted = true; break; }
    }
  } finally {
    if (pin) pinSelf(affinity, record);
    try {
      throttle.remove();
    } catch (err) {
      record(`could not remove the cgroup ${throttle.path}: ${(err as Error).message}; remove it with \`rmdir ${throttle.path}\``);
    }
    info.finishedAt = new Date().toISOString();
    if (interrupted || o.signal?.aborted) info.interrupted = true;
    writeRunInfo(dir, info);
  }
  return { dir, info, points: state.points, interrupted: info.interrupted === true };
}

/** A new run: the plan resolved and checked, its folder created, its servers split into runnable and skipped. */
async function newRun(o: RunOptions, catalog: readonly ServerModel[]): Promise<RunState> {
  const resolved = await resolvePlan(o.input, undefined, catalog);
  Object.assign(resolved.plan, recordUserServers((o.userModels ?? []).filter((m) => resolved.plan.servers.includes(m.name))));
  await o.preflight?.(resolved.models, resolved.plan);
  const dir = createRunDir(o.out ?? defaultRunDir());
  const info: RunInfo = {
    schema: RUN_SCHEMA,
    id: dir.split('/').pop() ?? dir,
    startedAt: new Date().toISOString(),
    plan: resolved.plan,
    host: { throttle: { mechanism: 'none', share: 0 }, pinned: false },
    environment: environment(),
    skipped: resolved.skipped,
    warnings: [...resolved.warnings],
  };
  return { dir, info, points: [], runnable: resolved.models };
}

/** An earlier run to complete: its plan, its points, and which of its servers can still run here. */
async function resumeRun(folder: string, catalog: readonly ServerModel[], anyModel: boolean): Promise<RunState> {
  const stored = readRun(folder);
  const { info } = stored;
  const runnable: ServerModel[] = [];
  for (const name of info.plan.servers) {
    const model = catalog.find((m) => m.name === name) ?? (anyModel ? findModel(name) : undefined);
    const a = model ? await model.available().catch((e: Error) => ({ ok: false as const, reason: e.message, hint: '' })) : undefined;
    if (model && a?.ok) runnable.push(model);
    else info.skipped.push({ server: name, reason: `on resume: ${model ? (a && !a.ok ? a.reason : 'unavailable') : 'no longer a server model'}` });
  }
  delete info.finishedAt;
  delete info.interrupted;
  info.warnings.push(...stored.notes);
  return { dir: stored.dir, info, points: stored.points, runnable };
}

/** Pins this process to the client's cores (its warm-ups must not take the server's), and throttles the server. */
function setUpHost(info: RunInfo, plan: Plan, warn: (text: string) => void): { throttle: Throttle; pin: boolean } {
  const pin = hasTaskset();
  const throttle: Throttle = createThrottle(plan.serverCpuShare, plan.throttlePeriodMs ?? 100);
  info.host = hostSetup(throttle, pin);
  if (!pin) warn('taskset is missing: server and client are not pinned (install util-linux)');
  else pinSelf(plan.clientCpus, warn);
  if (plan.serverCpuShare > 0 && throttle.mechanism === 'none') {
    warn(`the server runs unthrottled: ${throttle.reason}; it may be as fast as the client, unlike the paper's slow server`);
  }
  return { throttle, pin };
}

interface SweepLeft extends Sweep {
  /** Whether its server has been started (then only its points are left to price). */
  started: boolean;
}

/** The sweeps with something left to measure, each with only its missing loads. */
function sweepsLeft(plan: Plan, state: RunState): SweepLeft[] {
  const done = new Set(state.points.map((p) => key(p.server, p.load, p.repeat)));
  const names = new Set(state.runnable.map((m) => m.name));
  return planSweeps(plan)
    .filter((s) => names.has(s.server))
    .map((s) => ({ ...s, loads: s.loads.filter((l) => !done.has(key(s.server, l, s.round))), started: false }))
    .filter((s) => s.loads.length > 0);
}

interface SweepContext {
  o: RunOptions;
  plan: Plan;
  throttle: Throttle;
  pin: boolean;
  state: RunState;
  sweeps: SweepLeft[];
  clock: RunClock;
  failuresInARow: Map<string, number>;
  /** Points started so far, and planned in all (an upper bound: the stop rules drop some). */
  index: number;
  total: number;
  emit: (e: RunEvent) => void;
  warn: (text: string) => void;
}

/**
 * The highest load a server may still be measured at, after the stop rules: the load whose mean latency passed the
 * cap (later rounds repeat the loads up to it: its latency still belongs to the curve); the load below one whose
 * errors passed the cap (those points hold no latency to repeat); or 0 when failures retired it (not started again).
 */
function stoppedAt(points: readonly Point[], server: string): number {
  return points.reduce((a, p) => (p.server === server && p.stopped ? Math.min(a, retiredAbove(p)) : a), Infinity);
}

const retiredAbove = (p: Point): number => (p.status === 'failed' ? 0 : p.result && p.result.requests === 0 ? p.load - 1 : p.load);

/**
 * One sweep: start the server fresh, warm it to steady state, then measure it at each of its loads in ascending
 * order, applying the stop rules after each point; the server is stopped at the end, whatever happened.
 */
async function runSweep(ctx: SweepContext, i: number): Promise<'done' | 'aborted'> {
  const { o, plan, state } = ctx;
  const sweep = ctx.sweeps[i]!;
  const model = state.runnable.find((m) => m.name === sweep.server)!;
  const server: TrialServer = trialServer(model);
  const base: TrialOptions = { ...o.trial, server, load: 0, repeat: sweep.round, plan, throttle: ctx.throttle, pin: ctx.pin, onWarning: ctx.warn, ...(o.signal ? { signal: o.signal } : {}) };
  sweep.loads = sweep.loads.filter((l) => l <= stoppedAt(state.points, sweep.server));
  if (sweep.loads.length === 0) return 'done';

  const t0 = performance.now();
  const started = await startSession(base);
  if (started === 'aborted') return 'aborted';
  let session: ServerSession | undefined;
  let sessionWarmup: Warmup | undefined;
  let firstPoint: Point | undefined;
  if ('failed' in started) {
    firstPoint = failedPoint(server, sweep.loads[0]!, sweep.round, started.failed);
  } else {
    session = started;
    if (o.trial?.warmupRequests === undefined) {
      sessionWarmup = await warmSession(session, plan, sweep.loads[0]!, o.signal);
      if (o.signal?.aborted) { await session.close(); return 'aborted'; }
    }
  }
  sweep.started = true;
  ctx.clock.recordSession(sweep.server, (performance.now() - t0) / 1000, model.family);
  try {
    for (const load of [...sweep.loads]) {
      const tp = performance.now();
      ctx.emit({ type: 'point-start', server: sweep.server, load, repeat: sweep.round, index: ctx.index, total: ctx.total, etaS: eta(ctx, i) });
      let point: Point | 'aborted';
      if (firstPoint) {
        point = firstPoint;
      } else {
        const previous = state.points.filter((p) => p.server === sweep.server && p.status === 'ok' && p.load < load).pop();
        const durationS = pointDurationS(plan, load, previous?.result?.throughputRps);
        point = await measurePoint(session!, { ...base, load, ...(durationS !== undefined ? { durationS } : {}) });
      }
      if (point === 'aborted') return 'aborted';
      if (sessionWarmup && point.status === 'ok') {
        point.warmup = { session: sessionWarmup, ...point.warmup };
        sessionWarmup = undefined;
      }
      const why = applyStopRules(ctx, point);
      sweep.loads = sweep.loads.filter((l) => l !== load);
      appendPoint(state.dir, point);
      state.points.push(point);
      ctx.index += 1;
      ctx.clock.recordPoint(sweep.server, load, (performance.now() - tp) / 1000);
      const over = why !== undefined || point.status === 'failed';
      if (over) {
        // Retired, or the server is not running: this sweep is over; the next round starts it afresh.
        ctx.total -= sweep.loads.length;
        sweep.loads = [];
      }
      ctx.emit({ type: 'point', point, index: ctx.index - 1, total: ctx.total, etaS: eta(ctx, i) });
      if (o.signal?.aborted) return 'aborted';
      if (over) break;
    }
  } finally {
    await session?.close();
  }
  return 'done';
}

/** Flags the point, applies the stop rules (recording why on the point), and drops retired loads from later sweeps. */
function applyStopRules(ctx: SweepContext, point: Point): string | undefined {
  if (point.status === 'ok') point.flags = pointFlags(point, ctx.plan, ctx.throttle.mechanism !== 'none');
  const fails = point.status === 'failed' ? (ctx.failuresInARow.get(point.server) ?? 0) + 1 : 0;
  ctx.failuresInARow.set(point.server, fails);
  const why = stopReason(point, ctx.plan, fails);
  if (!why) return undefined;
  point.stopped = why;
  for (const s of ctx.sweeps) {
    if (s.server !== point.server || s.started) continue;
    const before = s.loads.length;
    s.loads = s.loads.filter((l) => l <= retiredAbove(point));
    ctx.total -= before - s.loads.length;
  }
  return why;
}

function eta(ctx: SweepContext, i: number): number {
  const familyOf = (name: string) => ctx.state.runnable.find((m) => m.name === name)?.family;
  return ctx.clock.remainingS(ctx.sweeps.slice(i).map((s) => ({ ...s, family: familyOf(s.server) })));
}
