// What limits the reading of a run, said beside its numbers: the stored notes and the report's own (the paper's
// reference missing, servers measured at a URL, a single round), the precision the run asked and who missed it,
// and the budget it asked and by how much it passed it.
import { unthrottled, type ServerSummary } from '../analysis/summary.js';
import { precisionStanding, ratioPrecision, type PrecisionStanding } from '../analysis/ratios.js';
import { halfWidthText } from '../core/format.js';
import type { RunInfo } from '../results/schema.js';
import { REFERENCE_ROW } from '../servers/paper.js';
import type { Reference } from './paper-comparison.js';
import type { ReportInput } from './read.js';

/** For a run that asked a precision (run --precision): how every ratio of the report stands against it. */
export type Precision = PrecisionStanding & { asked: number; reference: string; plannedRounds: number; addedRounds: number };
/** The run's budget, s, and by how much and why it passed it (run.json), when it asked one. */
export type Budget = { budgetS: number; spentS?: number; over?: { byS: number; why: string } };

/** The stored notes, then what limits this report's reading: the paper's reference, unpinned servers, a single round. */
export function reportNotes(stored: ReportInput, servers: readonly ServerSummary[], reference: Reference): string[] {
  const notes = [...stored.notes];
  if (reference.row !== REFERENCE_ROW) notes.push(reference.why);
  for (const s of servers.filter(unthrottled)) {
    notes.push(
      `${s.server} was measured at a URL eventbench did not start (--url): it was not pinned, throttled or sampled, so it is left ` +
        "out of the ranking's ratios and of the comparison with the paper; its slope is its own.",
    );
  }
  if (stored.info.plan.rounds < 2) {
    notes.push(
      'Each point was measured once (one round, one process per server): the intervals cover the scatter of points within ' +
        'that process, not the spread from one process to the next, so ties cannot be told; run with --repeat 3 or more.',
    );
  }
  return notes;
}

/** Flags each server whose ratio missed the precision the run asked (run --precision). */
export function flagImprecise(servers: ServerSummary[], precision: Precision | undefined): void {
  for (const m of precision?.missed ?? []) {
    const text =
      `ratio to ${precision!.reference} ${halfWidthText(m.halfWidth)} after ${m.rounds} round(s) with it, wider than the ` +
      `${halfWidthText(precision!.asked)} asked (run --precision)`;
    servers.find((s) => s.server === m.server)?.flags.push({ kind: 'imprecise', text });
  }
}

/** The run's budget and what it spent, when it asked one (absent otherwise, as in older results). */
export function budgetOf(run: RunInfo): { budget?: Budget } {
  const { budgetS } = run.plan;
  const spent = run.spentS !== undefined ? { spentS: run.spentS } : {};
  return budgetS !== undefined ? { budget: { budgetS, ...spent, ...(run.overBudget ? { over: run.overBudget } : {}) } } : {};
}

/** How this report's ratios stand against the precision the run asked, when it asked one and has a reference. */
export function precisionOf(stored: ReportInput, reference: string | null): Precision | undefined {
  const { info, points } = stored;
  if (info.plan.precision === undefined || reference === null) return undefined;
  const standing = precisionStanding(ratioPrecision(points, info.plan, reference, stored.visits), info.plan.precision);
  const addedRounds = info.plan.cycles !== undefined ? (info.addedCycles?.length ?? 0) : (info.addedRounds?.length ?? 0);
  return { asked: info.plan.precision, reference, plannedRounds: info.plan.rounds, addedRounds, ...standing };
}
