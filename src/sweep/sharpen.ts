// Rounds added where the uncertainty is (run --precision, --budget). After the planned rounds of the closed sweep,
// while the budget lasts, a round of fresh processes for the servers whose ratio intervals to the reference are
// widest, with the reference itself, since a ratio pairs the two servers' rounds. An added round is a round like
// the others (a fresh server per sweep, every load, the same point rules, a seeded order), numbered on from the
// planned ones, so the report, the intervals and --resume read it as one. The choices here are pure; the runner
// (src/experiments/run.ts) asks for the next round through the engine's `more` hook, priced by the run's clock.
import type { AddedCycle, AddedRound, Plan, Point, PrecisionOutcome, VisitRecord } from '../results/schema.js';
import type { Sweep } from './engine.js';
import { cycleOrder, roundOrder } from './plan.js';
import { precisionStanding, ratioPrecision, ratioReferenceOf, type RatioPrecision } from '../analysis/ratios.js';
import { halfWidthText } from '../core/format.js';
import { varianceWith } from '../core/nested.js';

/**
 * How many servers an added round sharpens at most, beside the reference. A round pays the reference's sweep
 * once, and it costs about as much as any other server's (4.7 s for lighttpd in the default plan against 4.6 to
 * 6.5 s): with one server it is half the round, with four a sixth, with eight a tenth, so four servers get 83%
 * of the server-rounds that a round of every server would. Past four the reference's share falls little, while
 * the round takes in servers whose intervals are narrower and lasts longer, so that its servers are paired with
 * a reference measured half a minute away rather than seconds (the drift a ratio cancels is the drift within its
 * round). Fewer than four when fewer miss the precision, or when the budget left holds fewer.
 */
export const ADDED_ROUND_SERVERS = 4;
/** A server is not given more rounds than `--repeat` allows. */
export const MAX_ROUNDS = 100;

/** The sweeps of an added round: each of its servers, fresh, at every load of the plan. */
export function addedSweeps(plan: Plan, added: AddedRound): Sweep[] {
  return added.servers.map((server) => ({ round: added.round, server, steps: [...plan.loads] }));
}

const widest = (p: RatioPrecision) => p.halfWidth ?? -1;

/**
 * The servers the next added round sharpens: those whose ratio interval is wider than `asked`, widest first
 * (unbounded ones first of all; or by `rank`, highest first), at most `most`, each taken only if the round with it still `fits` (the reference
 * and the servers taken before it included); a wide server that does not fit leaves room for a narrower, cheaper
 * one. A server with no ratio (no positive slope) is left out: more rounds of what gave no line give none.
 */
export function chooseSharpened(
  precision: readonly RatioPrecision[],
  asked: number,
  fits: (servers: readonly string[]) => boolean,
  most = ADDED_ROUND_SERVERS,
  rank: (p: RatioPrecision) => number = widest,
): RatioPrecision[] {
  const chosen: RatioPrecision[] = [];
  const candidates = precision.filter((p) => p.halfWidth !== null && p.halfWidth > asked && p.rounds < MAX_ROUNDS);
  for (const p of [...candidates].sort((a, b) => rank(b) - rank(a))) {
    if (chosen.length >= most) break;
    if (fits([...chosen, p].map((c) => c.server))) chosen.push(p);
  }
  return chosen;
}

export interface NextRoundInput {
  plan: Plan;
  /** The run's closed-loop points so far, every round. */
  points: readonly Point[];
  /** The rounds added so far. */
  added: readonly AddedRound[];
  /** The servers that can still run here. */
  servers: readonly string[];
  /** Seconds of the budget this round may take: what is left, less what the phases after it and the report need. */
  leftS: number;
  /** The clock's price of sweeps, s (src/sweep/clock.ts: by what the same servers cost in earlier rounds). */
  priceS: (sweeps: readonly Sweep[]) => number;
}

export type NextRound = { round: AddedRound; priceS: number } | { stopped: string; outcome: PrecisionOutcome | null };

/** The next round to add, or why none is: every server meets the precision, or the next round does not fit. */
export function nextAddedRound(i: NextRoundInput): NextRound {
  const asked = i.plan.precision!;
  const reference = ratioReferenceOf(i.points, i.plan, i.plan.reference);
  if (reference === null) return { stopped: 'no server has a positive slope to divide by, so no ratio can be sharpened', outcome: null };
  const precision = ratioPrecision(i.points, i.plan, reference);
  const outcomeWith = (stopped: string) => ({ stopped, outcome: precisionOutcome(precision, asked, reference, stopped) });
  if (!i.servers.includes(reference)) return outcomeWith(`the reference, ${reference}, can no longer run here`);
  const round = Math.max(i.plan.rounds, ...i.added.map((a) => a.round)) + 1;
  const order = (servers: readonly string[]) => {
    const inPlanOrder = i.plan.servers.filter((s) => s === reference || servers.includes(s));
    return roundOrder(i.plan, round, inPlanOrder);
  };
  const sweepsOf = (servers: readonly string[]) => addedSweeps(i.plan, { round, servers: order(servers), reference, sharpening: [] });
  const runnable = precision.filter((p) => i.servers.includes(p.server));
  const chosen = chooseSharpened(runnable, asked, (servers) => i.priceS(sweepsOf(servers)) <= i.leftS);
  if (chosen.length === 0) return outcomeWith(whyNoRound(runnable, asked, i, sweepsOf, reference));
  const servers = chosen.map((p) => p.server);
  const sharpening = chosen.map((p) => ({ server: p.server, halfWidth: finiteOrNull(p.halfWidth), rounds: p.rounds }));
  return { round: { round, servers: order(servers), reference, sharpening }, priceS: i.priceS(sweepsOf(servers)) };
}

/** Why no round is added: none misses the precision, or the cheapest round that would sharpen one does not fit. */
function whyNoRound(
  runnable: readonly RatioPrecision[],
  asked: number,
  i: NextRoundInput,
  sweepsOf: (s: readonly string[]) => Sweep[],
  reference: string,
): string {
  const missing = runnable.filter((p) => p.halfWidth !== null && p.halfWidth > asked);
  if (!runnable.some((p) => p.halfWidth !== null)) return `no server but the reference, ${reference}, has a slope to form a ratio with`;
  if (missing.length === 0) return `every ratio to ${reference} is within ${halfWidthText(asked)}`;
  const open = missing.filter((p) => p.rounds < MAX_ROUNDS);
  if (open.length === 0) return `the servers that miss ${halfWidthText(asked)} have had ${MAX_ROUNDS} rounds`;
  const cheapest = open.map((p) => ({ p, s: i.priceS(sweepsOf([p.server])) })).sort((a, b) => a.s - b.s)[0]!;
  return (
    `the next round (${reference} and ${cheapest.p.server}, priced ${Math.round(cheapest.s)} s) does not fit in the ` +
    `${Math.max(0, Math.round(i.leftS))} s left of the budget`
  );
}

/** Which servers reached the precision, which did not (and how far off), which have no ratio; and why no round more. */
export function precisionOutcome(
  precision: readonly RatioPrecision[],
  asked: number,
  reference: string,
  stopped: string,
): PrecisionOutcome {
  return { asked, reference, ...precisionStanding(precision, asked), stopped };
}

const finiteOrNull = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

/** The sweeps of an added cycle (paired design): its servers in its order, every load of the plan. */
export function addedCycleSweeps(plan: Plan, added: AddedCycle): Sweep[] {
  return added.servers.map((server) => ({ round: added.round, cycle: added.cycle, server, steps: [...plan.loads] }));
}

export interface NextCycleInput {
  plan: Plan;
  points: readonly Point[];
  visits: readonly VisitRecord[];
  added: readonly AddedCycle[];
  /** The servers that can still run here. */
  servers: readonly string[];
  /** The round that is ending: an added cycle belongs to it, an added round follows it. */
  round: number;
  /** The run's session (1, and one more at each --resume): with the round, it names the live processes. */
  session: number;
  /** Whether a round of fresh processes may follow (no planned sweep is left to run). */
  canAddRound: boolean;
  /** Seconds this round's additions may take: its share of what the budget leaves after what must still run. */
  leftS: number;
  priceS: (sweeps: readonly Sweep[]) => number;
}

export type NextCycle = { cycle: AddedCycle; priceS: number } | { stopped: string; outcome: PrecisionOutcome | null };

/**
 * A server is sharpened only where one more visit narrows its interval by at least this share of its half-width:
 * once a server's processes have a few cycles each, its process variance is most of its interval, and more cycles
 * of the same processes buy almost nothing (a TypeScript server at 4.5 cycles in each of 2 processes: 0.7% for a
 * cycle, against 10% for a third process).
 */
export const MIN_NARROWING = 0.02;

/**
 * How much one more visit narrows a server's ratio interval (a share of its half-width), at the process and cycle
 * variances its estimate used: a visit in its live process `process`, or in a fresh process (`null`, or a process
 * it has no visit in). An interval that cannot be bounded yet gains everything.
 */
export function narrowing(p: RatioPrecision, process: string | null): number {
  if (p.halfWidth === null) return 0;
  if (!Number.isFinite(p.halfWidth) || !p.estimate || !p.processes) return 1;
  const counts = [...p.estimate.perProcess];
  const g = process === null ? -1 : p.processes.indexOf(process);
  if (g >= 0) counts[g]! += 1;
  else counts.push(1);
  const now = varianceWith(p.estimate, p.estimate.perProcess);
  return now > 0 ? 1 - Math.sqrt(varianceWith(p.estimate, counts) / now) : 0;
}

/** One way to add visits: a cycle of the live round, or a round of fresh processes; its sweeps and what it narrows. */
interface Option {
  round: number;
  cycle: number;
  /** The process a server's visit would fall in, if it is live (a fresh round: none). */
  process: string | null;
}

/**
 * The next cycle to add at the end of a round: a cycle of that round's live processes, or (once no planned sweep is
 * left) a round of fresh processes, whichever narrows the intervals more per second priced; in it, the servers whose
 * intervals are wider than the precision asked and that one more visit narrows by MIN_NARROWING or more, best
 * narrowing per second first, as many as the round's share of the budget pays for, the reference swept between them.
 */
export function nextAddedCycle(i: NextCycleInput): NextCycle {
  const asked = i.plan.precision!;
  const reference = i.plan.reference!;
  const precision = ratioPrecision(i.points, i.plan, reference, i.visits);
  const outcomeWith = (stopped: string) => ({ stopped, outcome: precisionOutcome(precision, asked, reference, stopped) });
  if (!i.servers.includes(reference)) return outcomeWith(`the reference, ${reference}, can no longer run here`);
  const runnable = precision.filter((p) => i.servers.includes(p.server));
  const lastRound = Math.max(i.plan.rounds, ...i.added.map((a) => a.round));
  const cycle = Math.max(i.plan.cycles ?? 1, ...i.added.filter((a) => a.round === i.round).map((a) => a.cycle)) + 1;
  const options: Option[] = [
    { round: i.round, cycle, process: `${i.round}.${i.session}` },
    ...(i.canAddRound ? [{ round: lastRound + 1, cycle: 1, process: null }] : []),
  ];
  const made = options.map((o) => option(i, o, runnable, asked, reference));
  const best = made.filter((m) => m.chosen.length > 0).sort((a, b) => b.value - a.value)[0];
  if (!best) return outcomeWith(whyNoCycle(runnable, asked, i, made[0]!.sweepsOf, reference, options[0]!.process));
  const servers = best.chosen.map((p) => p.server);
  const sharpening = best.chosen.map((p) => ({ server: p.server, halfWidth: finiteOrNull(p.halfWidth), cycles: p.rounds }));
  const order = cycleOrder(i.plan, best.o.round, best.o.cycle, [reference, ...servers]);
  return { cycle: { round: best.o.round, cycle: best.o.cycle, servers: order, reference, sharpening }, priceS: best.priceS };
}

/** An option's servers (best narrowing per second first, as many as fit) and its value: narrowing per second. */
function option(i: NextCycleInput, o: Option, runnable: readonly RatioPrecision[], asked: number, reference: string) {
  const sweepsOf = (servers: readonly string[]) =>
    addedCycleSweeps(i.plan, {
      round: o.round,
      cycle: o.cycle,
      servers: cycleOrder(i.plan, o.round, o.cycle, [reference, ...servers]),
      reference,
      sharpening: [],
    });
  const gain = new Map(runnable.map((p) => [p.server, narrowing(p, o.process)]));
  const rate = new Map(runnable.map((p) => [p.server, gain.get(p.server)! / Math.max(0.1, i.priceS(sweepsOf([p.server])))]));
  const perSecond = (p: RatioPrecision) => rate.get(p.server)!;
  const worth = runnable.filter((p) => gain.get(p.server)! >= MIN_NARROWING);
  const chosen = chooseSharpened(worth, asked, (servers) => i.priceS(sweepsOf(servers)) <= i.leftS, Infinity, perSecond);
  const priceS = i.priceS(sweepsOf(chosen.map((p) => p.server)));
  const value = chosen.reduce((a, p) => a + gain.get(p.server)!, 0) / Math.max(0.1, priceS);
  return { o, chosen, priceS, value, sweepsOf };
}

/** Why no cycle is added: none misses the precision, a visit more narrows none, or the cheapest one does not fit. */
function whyNoCycle(
  runnable: readonly RatioPrecision[],
  asked: number,
  i: NextCycleInput,
  sweepsOf: (s: readonly string[]) => Sweep[],
  reference: string,
  live: string | null,
): string {
  const missing = runnable.filter((p) => p.halfWidth !== null && p.halfWidth > asked);
  if (!runnable.some((p) => p.halfWidth !== null)) return `no server but the reference, ${reference}, has a slope to form a ratio with`;
  if (missing.length === 0) return `every ratio to ${reference} is within ${halfWidthText(asked)}`;
  const gaining = missing.filter((p) => Math.max(narrowing(p, live), i.canAddRound ? narrowing(p, null) : 0) >= MIN_NARROWING);
  if (gaining.length === 0) {
    const how = i.canAddRound ? 'a cycle or a fresh process' : `a cycle of round ${i.round}`;
    return `one more visit (${how}) would narrow no interval that misses ${halfWidthText(asked)} by ${halfWidthText(MIN_NARROWING)} of itself`;
  }
  const cheapest = gaining.map((p) => ({ p, s: i.priceS(sweepsOf([p.server])) })).sort((a, b) => a.s - b.s)[0]!;
  return (
    `the next cycle (${reference} and ${cheapest.p.server}, priced ${Math.round(cheapest.s)} s) does not fit in the ` +
    `${Math.max(0, Math.round(i.leftS))} s of the budget left to round ${i.round}`
  );
}
