// The report reads a run folder (run.json + points.jsonl, and open-loop.jsonl and memory.json when there) and
// nothing else, so any old run can be re-rendered,
// through the one reader of run folders (sweep/store.ts); a run in progress renders what it has: a last line
// cut short by a writer still at work is skipped with a note, never cut.
import { ResultsError } from '../core/errors.js';
import { readRun as readRunFolder, type StoredRun } from '../sweep/store.js';
import { POINTS_FILE } from '../sweep/schema.js';

import { existsSync } from 'node:fs';
import path from 'node:path';
import { readOpenPoints } from './open-loop.js';
import { readMemoryRun } from './memory.js';
import { MEMORY_FILE, type MemoryRun } from '../experiments/memory.js';

export type { StoredRun };
export { ResultsError };

/** What the report reads from a run folder: the run, and the memory experiment when the folder holds one. */
export type ReportInput = StoredRun & { memory?: MemoryRun };

/** The run folder's memory.json, if any; an unreadable one is a note, not the end of the report. */
function readMemory(dir: string, notes: string[]): MemoryRun | undefined {
  if (!existsSync(path.join(dir, MEMORY_FILE))) return undefined;
  try {
    return readMemoryRun(dir);
  } catch (err) {
    notes.push(`The memory experiment was left out: ${(err as Error).message}`);
    return undefined;
  }
}

export async function readRun(dir: string): Promise<ReportInput> {
  const stored = readRunFolder(dir, { field: 'DIR', tornLastLine: 'skip' });
  if (stored.points.length === 0) {
    throw new ResultsError(`${dir} holds no results yet (${POINTS_FILE} has no complete line); render it again once \`eventbench run\` has measured a point`);
  }
  const openPoints = await readOpenPoints(dir, stored.notes);
  const memory = readMemory(dir, stored.notes);
  return { ...stored, ...(openPoints.length ? { openPoints } : {}), ...(memory ? { memory } : {}) };
}
