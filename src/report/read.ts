// The report reads a run folder (run.json, points.jsonl, open-loop.jsonl, memory.json) and nothing else, so any old
// run can be re-rendered, through the one reader of run folders (results/store.ts readRun); a run in progress renders
// what it has: a last line cut short by a writer still at work is skipped with a note, never cut.
import { ResultsError } from '../core/errors.js';
import { readRun, type StoredRun } from '../results/store.js';
import { POINTS_FILE } from '../results/schema.js';

export type { StoredRun };
export { ResultsError };
/** What the report reads from a run folder: the run, its open loop and its memory experiment when it has them. */
export type ReportInput = StoredRun;

/** A run folder as the report reads it: named as `DIR`, torn last lines skipped, at least one point. */
export function readReportRun(dir: string): StoredRun {
  const stored = readRun(dir, { field: 'DIR', tornLastLine: 'skip' });
  if (stored.points.length === 0) {
    throw new ResultsError(
      `${dir} holds no results yet (${POINTS_FILE} has no complete line); render it again once \`eventbench run\` has measured a point`,
    );
  }
  return stored;
}
