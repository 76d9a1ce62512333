// The paper's experiment on the sweep engine: ApacheBench's closed loop at each offered load. In each round every
// server is started fresh (pinned, under its quota), warmed to steady state at its first load, then measured at
// each load in ascending order; each point is flagged (src/results/verdict.ts), judged by the stop rules, and
// appended to points.jsonl the moment it is measured.
import type { AddedRound, Plan, Point } from '../results/schema.js';
import type { ServerModel } from '../servers/types.js';
import type { Experiment, PhaseHost, Sweep } from '../sweep/engine.js';
import { planSweeps, pointDurationS } from '../sweep/plan.js';
import { addedSweeps } from '../sweep/sharpen.js';
import { closedPriors } from '../sweep/clock.js';
import { pointFlags } from '../results/verdict.js';
import { retireTooSlow, stepCap, stopPoint } from '../sweep/stop.js';
import { appendPoint } from '../results/store.js';
import {
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
}

const key = (server: string, step: number, round: number) => `${server}\u0000${step}\u0000${round}`;

/**
 * The sweeps of the plan, and of the rounds added to it, with something left to measure for `servers`, each with
 * only its loads not measured.
 */
export function closedSweepsLeft(
  plan: Plan,
  points: readonly Point[],
  servers: readonly string[],
  added: readonly AddedRound[] = [],
): Sweep[] {
  const done = new Set(points.map((p) => key(p.server, p.load, p.round)));
  return [...planSweeps(plan), ...added.flatMap((a) => addedSweeps(plan, a))]
    .filter((s) => servers.includes(s.server))
    .map((s) => ({ ...s, steps: s.steps.filter((l) => !done.has(key(s.server, l, s.round))) }))
    .filter((s) => s.steps.length > 0);
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
  let throttled = false;
  return {
    phase: 'closed',
    host: throttledHost(plan),
    priors: closedPriors(plan),
    setUp: (host) => {
      throttled = host.throttle.mechanism !== 'none';
    },
    server: (name) => serverOf(i.models, name),
    serverSpec: (server) => serverSpec(server, plan, trial),
    warmUp: (sweep) => (trial.warmupRequests === undefined ? sessionWarmUp(plan, sweep.steps[0]!) : undefined),
    async measure(c) {
      // A point at a high load is lengthened to hold its waves, by the server's throughput at its previous load.
      const previous = i.points.filter((p) => p.server === c.sweep.server && p.status === 'ok' && p.load < c.step).pop();
      const durationS = pointDurationS(plan, c.step, previous?.result?.throughputRps);
      // A server whose warm-up has just ended steady at this very load is settled there already.
      const settled = c.sessionWarmup?.steady === true && c.sessionWarmup.concurrency === c.step;
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
    },
    failedStart: (server, sweep, step, reason) => failedPoint(server, step, sweep.round, reason),
    isFailed: (p) => p.status === 'failed',
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
    stepCap: (server) => closedCap(i.points, server),
  };
}
