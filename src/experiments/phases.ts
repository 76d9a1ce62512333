// The phases of `eventbench run`, in order: the closed sweep, the open loop (when asked) and the memory experiment
// (unless --no-memory). Each is planned here, recorded in run.json with its plan, and prepared for the sweep engine
// with only what is missing: the points (or servers) kept from before are counted, and what cannot be measured any
// more (a server no longer installed, on resume) is named with the reason.
import type { ServerModel } from '../servers/types.js';
import type { MemoryRun, OpenPoint, PhasePlan, Point, RunInfo, VisitRecord } from '../results/schema.js';
import type { Experiment, Sweep } from '../sweep/engine.js';
import type { PlanInput } from '../sweep/plan.js';
import type { TrialSettings } from '../sweep/session.js';
import { closedCap, closedLoop, closedSweepsLeft } from './closed-loop.js';
import { capacityOf, checkRateFractions, openLoop, openPriors, openSweepsLeft, OPEN_MIN_DURATION_S } from './open-loop.js';
import { MEMORY_DEFAULTS, memoryPhase, memoryPriors, memorySteps, memorySweepsLeft } from './memory.js';
import { RunClock } from '../sweep/clock.js';
import { memoryConnectionsAllowed, newMemoryRun } from './memory-run.js';

/**
 * The memory phase of a run: three small levels and the probe (0, 50, 250, 500: four levels, the fewest that give
 * a fit with r some weight; every model fits, a pool's cap of 128 included up to where it stops), looked at 100 ms
 * apart, so that the phase adds at most a minute and a half with every server installed (docs/memory.md: In a run,
 * measured). The experiment on its own (`eventbench memory`) goes to 10000 connections.
 */
export const RUN_MEMORY = { levels: [0, 250, 500], settleMaxMs: 1000, settleLookMs: 100 } as const;
/** `run --quick`: smaller levels (0, 50, 100, 200), as many of them, sooner settled. */
export const RUN_MEMORY_QUICK = { levels: [0, 100, 200], settleMaxMs: 600, settleLookMs: 100 } as const;

/** Every phase the input asks for, with its plan, in the order they run. */
export function resolvePhases(input: PlanInput): PhasePlan[] {
  const phases: PhasePlan[] = [{ phase: 'closed' }];
  if (input.openLoop) phases.push({ phase: 'open', rateFractions: checkRateFractions(input.openLoop), minDurationS: OPEN_MIN_DURATION_S });
  if (input.memory !== false) {
    const m = input.quick ? RUN_MEMORY_QUICK : RUN_MEMORY;
    const { budgetBytes, idleTimeoutS } = MEMORY_DEFAULTS;
    const { settleMaxMs, settleLookMs } = m;
    const quick = input.quick === true;
    phases.push({ phase: 'memory', levels: [...m.levels], budgetBytes, idleTimeoutS, settleMaxMs, settleLookMs, quick });
  }
  return phases;
}

/** A run being measured: where it is stored, what it holds so far, and which of its servers can run. */
export interface RunState {
  dir: string;
  info: RunInfo;
  points: Point[];
  openPoints: OpenPoint[];
  /** The closed loop's sweeps as they ran (visits.jsonl; paired design). */
  visits: VisitRecord[];
  memory?: MemoryRun;
  runnable: ServerModel[];
}

/** A phase ready for the engine: its sweeps left, what it keeps from before, and what it can no longer measure. */
export interface PreparedPhase {
  experiment: Experiment<unknown>;
  sweeps: Sweep[];
  /** Points (servers, for memory) kept from before. */
  kept: number;
  /** What the user should know before it runs (servers it leaves out, and why). */
  notes: string[];
  /** Points it cannot measure, one line per server, with why; non-empty leaves the run incomplete. */
  missing: string[];
}

export interface PhaseOptions {
  trial?: TrialSettings;
  warn: (text: string) => void;
}

/**
 * What a phase still to come is priced at, s, by its own priors (the closed sweep, which runs first, is priced
 * as it goes): a run's budget keeps this much for it before adding a round.
 */
export function phaseNeedS(p: PhasePlan, s: RunState): number {
  const toPrice = (sweeps: Sweep[]) => sweeps.map((w) => ({ server: w.server, steps: w.steps, started: false }));
  if (p.phase === 'open') {
    const input = { plan: s.info.plan, rateFractions: p.rateFractions, closed: s.points, points: s.openPoints };
    return new RunClock(openPriors(s.info.plan, p.minDurationS)).remainingS(toPrice(openSweepsLeft(input, names(s))));
  }
  if (p.phase === 'memory') {
    const left = names(s).filter((n) => !(s.memory?.servers ?? []).some((r) => r.server === n));
    const sweeps = left.map((server) => ({ round: 1, server, steps: memorySteps(p.levels) }));
    return new RunClock(memoryPriors(p.settleLookMs)).remainingS(toPrice(sweeps));
  }
  return 0;
}

export function preparePhase(p: PhasePlan, s: RunState, o: PhaseOptions): PreparedPhase {
  if (p.phase === 'closed') return prepareClosed(s, o);
  if (p.phase === 'open') return prepareOpen(p, s, o);
  return prepareMemory(p, s, o);
}

const names = (s: RunState) => s.runnable.map((m) => m.name);
const trialOf = (o: PhaseOptions) => (o.trial ? { trial: o.trial } : {});

/** The servers of the plan that cannot run any more, each with the reason it was skipped on resume. */
function gone(s: RunState): { server: string; why: string }[] {
  return s.info.plan.servers
    .filter((n) => !names(s).includes(n))
    .map((server) => ({ server, why: s.info.skipped.find((k) => k.server === server)?.reason ?? 'it cannot run here' }));
}

const count = (sweeps: Sweep[]) => sweeps.reduce((a, w) => a + w.steps.length, 0);

function prepareClosed(s: RunState, o: PhaseOptions): PreparedPhase {
  const { plan } = s.info;
  const added = s.info.addedRounds ?? [];
  const cycles = s.info.addedCycles ?? [];
  const missing = gone(s).flatMap(({ server, why }) => {
    const cap = closedCap(s.points, server);
    const left = closedSweepsLeft(plan, s.points, [server], added, cycles);
    const n = count(left.map((w) => ({ ...w, steps: w.steps.filter((l) => l <= cap) })));
    return n > 0 ? [`${server}: ${n} point(s) not measured (${why})`] : [];
  });
  const experiment = closedLoop({
    dir: s.dir,
    plan,
    points: s.points,
    visits: s.visits,
    models: s.runnable,
    warn: o.warn,
    session: s.info.sessions ?? 1,
    ...trialOf(o),
  });
  const sweeps = closedSweepsLeft(plan, s.points, names(s), added, cycles);
  return { experiment: experiment as Experiment<unknown>, sweeps, kept: s.points.length, notes: [], missing };
}

function prepareOpen(p: Extract<PhasePlan, { phase: 'open' }>, s: RunState, o: PhaseOptions): PreparedPhase {
  const { rateFractions, minDurationS } = p;
  const input = { dir: s.dir, plan: s.info.plan, rateFractions, minDurationS, closed: s.points, points: s.openPoints };
  const notes = names(s)
    .filter((n) => s.points.some((q) => q.server === n) && capacityOf(s.points, n) === undefined)
    .map((n) => `open loop: ${n} skipped: no closed-loop point measured its capacity`);
  const missing = gone(s).flatMap(({ server, why }) => {
    const n = count(openSweepsLeft(input, [server]));
    return n > 0 ? [`${server}: ${n} open-loop point(s) not measured (${why})`] : [];
  });
  const experiment = openLoop({ ...input, models: s.runnable, warn: o.warn, ...trialOf(o) });
  const sweeps = openSweepsLeft(input, names(s));
  return { experiment: experiment as Experiment<unknown>, sweeps, kept: s.openPoints.length, notes, missing };
}

function prepareMemory(p: Extract<PhasePlan, { phase: 'memory' }>, s: RunState, o: PhaseOptions): PreparedPhase {
  s.memory ??= newMemoryRun(p);
  const run = s.memory;
  if (memorySweepsLeft(run, names(s)).length > 0) delete run.finishedAt;
  const missing = gone(s)
    .filter(({ server }) => !run.servers.some((r) => r.server === server))
    .map(({ server, why }) => `${server}: its memory not measured (${why})`);
  const experiment = memoryPhase({
    dir: s.dir,
    run,
    plan: s.info.plan,
    settleMaxMs: p.settleMaxMs,
    settleLookMs: p.settleLookMs,
    maxConnections: memoryConnectionsAllowed(),
    models: s.runnable,
    ...(o.trial?.serverArgv ? { trial: { serverArgv: o.trial.serverArgv } } : {}),
  });
  const order = s.info.plan.servers.filter((n) => names(s).includes(n));
  const sweeps = memorySweepsLeft(run, order);
  return { experiment: experiment as Experiment<unknown>, sweeps, kept: run.servers.length, notes: [], missing };
}
