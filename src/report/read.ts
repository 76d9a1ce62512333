// Reads a run folder (run.json + points.jsonl) and nothing else, so any old run can be re-rendered and a run in
// progress renders what it has: a last line cut short by a writer still at work is skipped with a note.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { EventbenchError, UsageError } from '../core/errors.js';
import { POINTS_FILE, POINT_SCHEMA, RUN_FILE, RUN_SCHEMA, type Point, type RunInfo } from '../experiment/schema.js';
import type { OpenPoint } from '../experiment/open-loop.js';
import { readOpenPoints } from './open-loop.js';

/** The stored results of one run, as read. */
export interface StoredRun {
  dir: string;
  run: RunInfo;
  points: Point[];
  /** What the reader had to skip or assume, said to the reader of the report. */
  notes: string[];
  /** The open loop's points (runs made with --open-loop), from open-loop.jsonl. */
  openPoints?: OpenPoint[];
}

/** The run folder is unreadable, of another schema version, or holds no results yet. */
export class ResultsError extends EventbenchError {
  constructor(message: string) {
    super('EB_RESULTS', message);
  }
}

const HINT = 'give the folder `eventbench run` wrote (it holds run.json and points.jsonl)';

export async function readRun(dir: string): Promise<StoredRun> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new UsageError('DIR', dir, 'no such folder', HINT);
  if (!info.isDirectory()) throw new UsageError('DIR', dir, 'is a file, not a folder', HINT);

  const runPath = path.join(dir, RUN_FILE);
  const runText = await readFile(runPath, 'utf8').catch(() => undefined);
  if (runText === undefined) throw new UsageError('DIR', dir, `has no ${RUN_FILE}`, HINT);
  let run: RunInfo;
  try {
    run = JSON.parse(runText) as RunInfo;
  } catch (err) {
    throw new ResultsError(`${runPath} is not valid JSON (${(err as Error).message}); it was not written by \`eventbench run\`, or was damaged`);
  }
  checkSchema(runPath, (run as { schema?: unknown })?.schema, RUN_SCHEMA);

  const pointsPath = path.join(dir, POINTS_FILE);
  const pointsText = await readFile(pointsPath, 'utf8').catch(() => '');
  const notes: string[] = [];
  const points: Point[] = [];
  const lines = pointsText.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let point: Point;
    try {
      point = JSON.parse(line) as Point;
    } catch {
      // Only the last line may be cut short (the runner appends); a bad line before it means a damaged file.
      if (lines.slice(i + 1).every((l) => l.trim() === '')) {
        notes.push(`The last line of ${POINTS_FILE} is incomplete (a run still writing?); it was skipped.`);
        continue;
      }
      throw new ResultsError(`${pointsPath} line ${i + 1} is not valid JSON; only the last line may be incomplete. Remove or fix that line`);
    }
    checkSchema(`${pointsPath} line ${i + 1}`, (point as { schema?: unknown })?.schema, POINT_SCHEMA);
    points.push(point);
  }
  if (points.length === 0) {
    throw new ResultsError(`${dir} holds no results yet (${POINTS_FILE} is ${pointsText === '' ? 'missing or empty' : 'without a complete line'}); render it again once \`eventbench run\` has measured a point`);
  }
  const openPoints = await readOpenPoints(dir, notes);
  return { dir, run, points, notes, ...(openPoints.length ? { openPoints } : {}) };
}

function checkSchema(where: string, got: unknown, expected: string): void {
  if (got === expected) return;
  const shown = typeof got === 'string' ? JSON.stringify(got) : 'no schema field';
  throw new ResultsError(`${where}: schema is ${shown}, this eventbench reads ${JSON.stringify(expected)}; render it with the eventbench version that wrote it`);
}
