// `eventbench run` as a library: plan the sweep, set up the host, measure every missing point in order, apply the
// stop rules, and keep every finished point on disk. It reports what happens through `onEvent`; the CLI draws it.
import { environment } from '../core/environment.js';
import { findModel, models as allModels, type ServerModel } from '../servers/registry.js';
import type { Plan, Point, RunInfo } from './schema.js';
import { RUN_SCHEMA } from './schema.js';
import { planPoints, pointDurationS, resolvePlan, type PlanInput } from './plan.js';
import { createThrottle, hasTaskset, hostSetup, type Throttle } from './host.js';
import { pointFlags } from './verdict.js';
import { appendPoint, createRunDir, defaultRunDir, readRun, writeRunInfo } from './store.js';
import { failedPoint, measurePoint, runTrial, startSession, type ServerSession, type TrialOptions, type TrialServer } from './trial.js';

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
  /**
   * Start each server once for all its points instead of fresh per point (--quick: server start-up would
   * otherwise be most of its time budget). Recorded in run.json's warnings.
   */
  reuseServer?: boolean;
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

export async function runExperiment(o: RunOptions): Promise<RunOutcome> {
  const catalog = o.catalog ?? allModels;
  const find = (name: string) => catalog.find((m) => m.name === name) ?? (o.catalog ? undefined : findModel(name));
  // A fault in whoever draws progress must not end a run: it is reported once and drawing stops.
  let emit = (e: RunEvent) => {
    try {
      o.onEvent?.(e);
    } catch (err) {
      emit = () => {};
      warn(`progress display failed (${(err as Error).message}); the run goes on`);
    }
  };
  let info: RunInfo;
  let dir: string;
  let points: Point[] = [];
  let runnable: ServerModel[];
  const warn = (text: string) => {
    info.warnings.push(text);
    emit({ type: 'warning', text });
  };

  if (o.resume !== undefined) {
    const stored = readRun(o.resume);
    dir = stored.dir;
    info = stored.info;
    points = stored.points;
    runnable = [];
    for (const name of info.plan.servers) {
      const model = find(name);
      const a = model ? await model.available().catch((e: Error) => ({ ok: false as const, reason: e.message, hint: '' })) : undefined;
      if (model && a?.ok) runnable.push(model);
      else info.skipped.push({ server: name, reason: `on resume: ${model ? (a && !a.ok ? a.reason : 'unavailable') : 'no longer a server model'}` });
    }
    delete info.finishedAt;
    delete info.interrupted;
    info.warnings.push(...stored.notes);
  } else {
    const resolved = await resolvePlan(o.input, undefined, catalog);
    dir = createRunDir(o.out ?? defaultRunDir());
    runnable = resolved.models;
    info = {
      schema: RUN_SCHEMA,
      id: dir.split('/').pop() ?? dir,
      startedAt: new Date().toISOString(),
      plan: resolved.plan,
      host: { throttle: { mechanism: 'none', share: 0 }, pinned: false },
      environment: environment(),
      skipped: resolved.skipped,
      warnings: [],
    };
    for (const w of resolved.warnings) warn(w);
  }
  const plan = info.plan;

  const pin = hasTaskset();
  const throttle: Throttle = createThrottle(plan.serverCpuShare);
  info.host = hostSetup(throttle, pin);
  if (!pin) warn('taskset is missing: server and client are not pinned (install util-linux)');
  if (plan.serverCpuShare > 0 && throttle.mechanism === 'none') {
    warn(`the server runs unthrottled: ${throttle.reason}; it may be as fast as the client, unlike the paper's slow server`);
  }

  // What is left to measure, and which servers the stop rules already retired (on resume).
  const done = new Set(points.map((p) => key(p.server, p.load, p.repeat)));
  const stoppedAt = new Map<string, number>();
  for (const p of points) if (p.stopped) stoppedAt.set(p.server, Math.min(stoppedAt.get(p.server) ?? Infinity, p.load));
  const names = new Set(runnable.map((m) => m.name));
  const todo = planPoints(plan).filter((p) => names.has(p.server) && !done.has(key(p.server, p.load, p.repeat)));
  let interrupted = false;
  let session: ServerSession | undefined;
  const startedMs = performance.now();
  let measured = 0;

  try {
    writeRunInfo(dir, info);
    emit({ type: 'start', dir, info, total: todo.length, done: points.length });
    const failuresInARow = new Map<string, number>();
    if (o.reuseServer) warn('each server was started once for all its loads (--quick), not fresh for every point');
    for (let i = 0; i < todo.length; i++) {
      const t = todo[i]!;
      if (o.signal?.aborted) { interrupted = true; break; }
      if ((stoppedAt.get(t.server) ?? Infinity) < t.load) continue;
      const model = runnable.find((m) => m.name === t.server)!;
      const etaS = measured > 0 ? ((performance.now() - startedMs) / 1000 / measured) * (todo.length - i) : undefined;
      emit({ type: 'point-start', server: t.server, load: t.load, repeat: t.repeat, index: i, total: todo.length, ...(etaS !== undefined ? { etaS } : {}) });
      const server: TrialServer = { name: model.name, family: model.family, ...(model.paperRow ? { paperRow: model.paperRow } : {}) };
      const previous = points.filter((p) => p.server === t.server && p.status === 'ok' && p.load < t.load).pop();
      const durationS = pointDurationS(plan, t.load, previous?.result?.throughputRps);
      const trialOptions: TrialOptions = { ...o.trial, server, load: t.load, repeat: t.repeat, plan, throttle, pin, onWarning: warn,
        ...(durationS !== undefined ? { durationS } : {}), ...(o.signal ? { signal: o.signal } : {}) };
      let point: Point | 'aborted';
      if (o.reuseServer) {
        if (session && (session.server.name !== t.server || session.exitReason())) { await session.close(); session = undefined; }
        if (!session) {
          const started = await startSession(trialOptions);
          if (started === 'aborted') { interrupted = true; break; }
          if ('failed' in started) {
            point = failedPoint(server, t.load, t.repeat, started.failed);
          } else {
            session = started;
          }
        }
        point ??= session ? await measurePoint(session, trialOptions) : 'aborted';
      } else {
        point = await runTrial(trialOptions);
      }
      if (point === 'aborted') { interrupted = true; break; }
      const fails = point.status === 'failed' ? (failuresInARow.get(t.server) ?? 0) + 1 : 0;
      failuresInARow.set(t.server, fails);
      const why = stopReason(point, plan, fails);
      if (why) {
        point.stopped = why;
        stoppedAt.set(t.server, t.load);
      }
      if (point.status === 'ok') point.flags = pointFlags(point, plan);
      appendPoint(dir, point);
      points.push(point);
      measured += 1;
      const eta = ((performance.now() - startedMs) / 1000 / measured) * (todo.length - i - 1);
      emit({ type: 'point', point, index: i, total: todo.length, etaS: eta });
    }
  } finally {
    await session?.close();
    try {
      throttle.remove();
    } catch (err) {
      warn(`could not remove the cgroup ${throttle.path}: ${(err as Error).message}; remove it with \`rmdir ${throttle.path}\``);
    }
    info.finishedAt = new Date().toISOString();
    if (interrupted || o.signal?.aborted) info.interrupted = true;
    writeRunInfo(dir, info);
  }
  return { dir, info, points, interrupted: info.interrupted === true };
}
