// The paper's experiment on the sweep engine: ApacheBench's closed loop at each offered load, in the paired design
// (run/4). In each round every server is started fresh, each in its own cgroup under the same quota on the server's
// cores, and warmed once, at the full core, to steady state; then the round's cycles sweep the servers in turn, each
// at every load in ascending order, the reference swept again after every few others (src/sweep/plan.ts
// cycleOrder), so that every ratio pairs with reference sweeps seconds away (src/analysis/paired.ts). Each point is
// flagged (src/results/verdict.ts), judged by the stop rules, and appended to points.jsonl the moment it is measured;
// each sweep, with every live server's CPU at its start and end, to visits.jsonl. Runs made before run/4 (no
// Plan.cycles) are resumed in their own design: every server started fresh for each round's one sweep.
import type { AddedCycle, AddedRound, Plan, Point, VisitRecord } from '../results/schema.js';
import { VISIT_SCHEMA } from '../results/schema.js';
import type { ServerModel } from '../servers/types.js';
import type { Experiment, PhaseHost, StepContext, Sweep, VisitTimes } from '../sweep/engine.js';
import { pairedSweeps, planSweeps, pointDurationS } from '../sweep/plan.js';
import { addedCycleSweeps, addedSweeps } from '../sweep/sharpen.js';
import { closedPriors } from '../sweep/clock.js';
import { pointFlags } from '../results/verdict.js';
import { retireTooSlow, stepCap, stopPoint } from '../sweep/stop.js';
import { appendPoint, appendVisit } from '../results/store.js';
import { VISIT_WARMUP } from '../load/warmup.js';
import {
  SESSION_WARMUP_CONCURRENCY,
  timeoutSOf,
  failedPoint,
  measurePoint,
  serverSpec,
  sessionWarmUp,
  trialServer,
  type TrialServer,
  type TrialSettings,
} from '../sweep/session.js';

export interface ClosedInput {
  dir: string;
  plan: Plan;
  /** The run's closed-loop points so far; measured points are appended. */
  points: Point[];
  models: readonly ServerModel[];
  trial?: TrialSettings;
  warn: (text: string) => void;
  /** The run's session (RunInfo.sessions): a resume measures in processes of its own. */
  session?: number;
  /** The run's visits so far (visits.jsonl); each sweep's record is appended as it ends. */
  visits?: VisitRecord[];
}

const key = (server: string, step: number, round: number, cycle?: number) => `${server}\u0000${step}\u0000${round}\u0000${cycle}`;

/**
 * The sweeps of the plan, and of the rounds or cycles added to it, with something left to measure for `servers`,
 * each with only its loads not measured. In the paired design a sweep is the reference's or another server's in one
 * cycle; the reference's several sweeps of a cycle are told apart by their order (the nth of the cycle).
 */
export function closedSweepsLeft(
  plan: Plan,
  points: readonly Point[],
  servers: readonly string[],
  added: readonly AddedRound[] = [],
  addedCycles: readonly AddedCycle[] = [],
): Sweep[] {
  if (plan.cycles !== undefined) return pairedSweepsLeft(plan, points, servers, addedCycles);
  const done = new Set(points.map((p) => key(p.server, p.load, p.round)));
  return [...planSweeps(plan), ...added.flatMap((a) => addedSweeps(plan, a))]
    .filter((s) => servers.includes(s.server))
    .map((s) => ({ ...s, steps: s.steps.filter((l) => !done.has(key(s.server, l, s.round))) }))
    .filter((s) => s.steps.length > 0);
}

/** The paired design's sweeps left: a sweep is done when its visit's points are all stored, matched in order. */
function pairedSweepsLeft(plan: Plan, points: readonly Point[], servers: readonly string[], addedCycles: readonly AddedCycle[]): Sweep[] {
  // The visits stored, by (server, round, cycle): how many of that server's sweeps of the cycle ran, and their loads.
  const visits = new Map<string, Map<number, Set<number>>>();
  for (const p of points) {
    if (p.cycle === undefined || p.visit === undefined) continue;
    const k = key(p.server, 0, p.round, p.cycle);
    const byVisit = visits.get(k) ?? new Map<number, Set<number>>();
    byVisit.set(p.visit, (byVisit.get(p.visit) ?? new Set()).add(p.load));
    visits.set(k, byVisit);
  }
  const seen = new Map<string, number>();
  // In the order they run: each round's planned cycles, then the cycles added at its end.
  const planned = pairedSweeps(plan);
  const rounds = [...new Set([...planned.map((w) => w.round), ...addedCycles.map((a) => a.round)])].sort((x, y) => x - y);
  const inOrder = rounds.flatMap((r) => [
    ...planned.filter((w) => w.round === r),
    ...addedCycles.filter((a) => a.round === r).flatMap((a) => addedCycleSweeps(plan, a)),
  ]);
  const all = withoutRepeatedReference(plan, inOrder);
  return all.flatMap((s) => {
    const k = key(s.server, 0, s.round, s.cycle);
    const nth = seen.get(k) ?? 0;
    seen.set(k, nth + 1);
    const ran = [...(visits.get(k)?.entries() ?? [])].sort((a, b) => a[0] - b[0])[nth];
    // A sweep cut short (a run interrupted mid-sweep) is taken up at the loads it missed, by the resumed session's
    // process: a visit of its own, each load still measured once.
    const steps = s.steps.filter((l) => !ran?.[1].has(l));
    return servers.includes(s.server) && steps.length > 0 ? [{ ...s, steps }] : [];
  });
}

/**
 * The sweeps in order without a reference sweep that follows another of the same round (a cycle ends with the
 * reference and the next begins with it: one sweep serves both), as the run skips them (`skips` below).
 */
function withoutRepeatedReference(plan: Plan, sweeps: readonly Sweep[]): Sweep[] {
  return sweeps.filter((s, k) => {
    const before = sweeps[k - 1];
    return !(s.server === plan.reference && before?.server === s.server && before.round === s.round);
  });
}

/** The highest load `server` may still be measured at, after the stop rules of `points`. */
export const closedCap = (points: readonly Point[], server: string): number => stepCap(points, server, (p) => p.load);

/** The host set-up of a phase that measures speed: the server pinned and under the plan's quota, the client pinned. */
export function throttledHost(plan: Plan): PhaseHost {
  const { serverCpus, clientCpus } = plan;
  return { serverCpus, clientCpus, cpuShare: plan.serverCpuShare, periodMs: plan.throttlePeriodMs ?? 100 };
}

/** A model of `models` by name, as its points name it. */
export function serverOf(models: readonly ServerModel[], name: string): TrialServer {
  const model = models.find((m) => m.name === name);
  if (!model) throw new Error(`${name} is not a server of this run`);
  return trialServer(model);
}

export function closedLoop(i: ClosedInput): Experiment<Point> {
  const { plan } = i;
  const trial = i.trial ?? {};
  const paired = plan.cycles !== undefined;
  const session = i.session ?? 1;
  let throttled = false;
  const visitOf = visitNumbers(i.points);
  const tag = (p: Point, sweep: Sweep): Point =>
    paired ? { ...p, ...(sweep.cycle !== undefined ? { cycle: sweep.cycle } : {}), visit: visitOf(sweep), session } : p;
  return {
    phase: 'closed',
    host: throttledHost(plan),
    priors: closedPriors(plan),
    ...(paired ? { paired: true } : {}),
    setUp: (host) => {
      throttled = host.throttle.mechanism !== 'none';
    },
    server: (name) => serverOf(i.models, name),
    serverSpec: (server) => serverSpec(server, plan, trial),
    warmUp: (sweep) =>
      trial.warmupRequests === undefined
        ? { ...sessionWarmUp(plan, sweep.steps[0]!), ...(paired ? { unthrottled: true } : {}) }
        : undefined,
    ...(paired && trial.warmupRequests === undefined
      ? { rewarm: () => ({ concurrency: SESSION_WARMUP_CONCURRENCY, policy: VISIT_WARMUP, timeoutS: timeoutSOf(plan) }) }
      : {}),
    async measure(c) {
      const p = await measureClosed(i, c, paired);
      return p === 'aborted' ? p : tag(p, c.sweep);
    },
    failedStart: (server, sweep, step, reason) => tag(failedPoint(server, step, sweep.round, reason), sweep),
    isFailed: (p) => p.status === 'failed',
    requestsOf: (p) => (p.result?.requestsCompleted ?? 0) + (p.warmup?.load?.requests ?? 0),
    retried: (p, why) => {
      p.retried = why;
    },
    judge(p, _sweep, step, failuresInARow) {
      if (p.status === 'ok') p.flags = pointFlags(p, plan, throttled);
      if (step === plan.loads[0] && p.flags?.some((f) => f.kind === 'too-slow')) return retireTooSlow(p, `load ${step}`);
      return stopPoint(p, plan, failuresInARow, `load ${step}`);
    },
    keep(p) {
      appendPoint(i.dir, p);
      i.points.push(p);
      return { phase: 'closed', point: p };
    },
    visited: (v) => keepVisit(i, visitOf(v.sweep), session, v),
    roundEnded: (round, atMs, cpuS) => keepRoundEnd(i, round, session, atMs, cpuS),
    stepCap: (server) => closedCap(i.points, server),
    // A reference sweep right after another, none between them (a cycle's last and the next one's first, or the
    // servers between them retired), pairs with nothing the first does not.
    skips: (sweep, previous) =>
      paired && sweep.server === plan.reference && previous?.server === sweep.server && previous.round === sweep.round,
  };
}

/** Each sweep's number in the run, given when its first step is measured, counting on from what is stored. */
function visitNumbers(points: readonly Point[]): (sweep: Sweep) => number {
  const visits = new Map<Sweep, number>();
  let last = points.reduce((a, p) => Math.max(a, p.visit ?? 0), 0);
  return (sweep) => {
    if (!visits.has(sweep)) visits.set(sweep, ++last);
    return visits.get(sweep)!;
  };
}

/** One closed-loop point of a sweep: lengthened to hold its waves, settled at its load unless just warmed there. */
async function measureClosed(i: ClosedInput, c: StepContext, paired: boolean): Promise<Point | 'aborted'> {
  const { plan } = i;
  const trial = i.trial ?? {};
  // A point at a high load is lengthened to hold its waves, by the server's throughput at its previous load.
  const previous = i.points.filter((p) => p.server === c.sweep.server && p.status === 'ok' && p.load < c.step).pop();
  const durationS = pointDurationS(plan, c.step, previous?.result?.throughputRps);
  // A server whose warm-up has just ended steady at this very load, under its quota, is settled there already; so is
  // one warmed at the full core just before its sweep's first load (paired), hot from it.
  const settled =
    (!paired && c.sessionWarmup?.steady === true && c.sessionWarmup.concurrency === c.step) || (paired && c.sessionWarmup !== undefined);
  const warmupRequests = trial.warmupRequests ?? (settled ? 0 : undefined);
  const p = await measurePoint(c.session, {
    plan,
    load: c.step,
    round: c.sweep.round,
    onWarning: i.warn,
    ...(durationS !== undefined ? { durationS } : {}),
    ...(warmupRequests !== undefined ? { warmupRequests } : {}),
    ...(c.signal ? { signal: c.signal } : {}),
  });
  if (p !== 'aborted' && c.sessionWarmup && p.status === 'ok') p.warmup = { session: c.sessionWarmup, ...p.warmup };
  return p;
}

/** The runner's monotonic ms as wall-clock ms (visits.jsonl), to the microsecond. */
const wall = (ms: number) => Math.round((performance.timeOrigin + ms) * 1000) / 1000;
/** CPU seconds by server, those a host could not count left out. */
const counted = (m: Record<string, number | undefined>) =>
  Object.fromEntries(Object.entries(m).filter(([, x]) => x !== undefined)) as Record<string, number>;

/** A sweep of the paired design as it ran: appended to visits.jsonl, and to the run's visits in memory. */
function keepVisit(i: ClosedInput, visit: number, session: number, v: VisitTimes): void {
  const { server, round, cycle } = v.sweep;
  const line = {
    ...({ schema: VISIT_SCHEMA, kind: 'visit', server, round, cycle: cycle ?? 1, visit, session } as const),
    ...{
      startMs: wall(v.startMs),
      endMs: wall(v.endMs),
      cpuStartS: counted(v.cpuStartS),
      cpuEndS: counted(v.cpuEndS),
      ...(v.warmedMs !== undefined && v.cpuWarmedS ? { warmedMs: wall(v.warmedMs), cpuWarmedS: counted(v.cpuWarmedS) } : {}),
      requests: v.requests,
    },
  };
  appendVisit(i.dir, line);
  i.visits?.push(line);
}

/** A round's end, with every live server's CPU before they are stopped. */
function keepRoundEnd(i: ClosedInput, round: number, session: number, atMs: number, cpuS: Record<string, number | undefined>): void {
  const line = { schema: VISIT_SCHEMA, kind: 'round-end', round, session, atMs: wall(atMs), cpuS: counted(cpuS) } as const;
  appendVisit(i.dir, line);
  i.visits?.push(line);
}
