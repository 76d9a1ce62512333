// The results folder of a run: run.json (RunInfo, rewritten atomically) and points.jsonl (one Point per line,
// appended and fsynced the moment it is measured, so a `kill -9` loses at most the point in progress).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ResultsError, UsageError } from '../core/errors.js';
import { POINTS_FILE, POINT_SCHEMA, RUN_FILE, RUN_SCHEMA, type Point, type RunInfo } from './schema.js';
import type { OpenPoint } from '../experiments/open-loop.js';

/** `results/<date-time>/` under the working folder, e.g. results/2025-01-31T14-05-09. */
export function defaultRunDir(now = new Date()): string {
  return resolve('results', now.toISOString().slice(0, 19).replaceAll(':', '-'));
}

/** Creates a fresh run folder; refuses one that already holds a run (that is what --resume is for). */
export function createRunDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, RUN_FILE))) {
    throw new UsageError('--out', dir, 'already holds a run', `continue it with \`eventbench run --resume ${dir}\` or choose another folder`);
  }
  if (existsSync(abs) && readdirSync(abs).length > 0) {
    throw new UsageError('--out', dir, 'is not empty', 'choose a new or empty folder');
  }
  mkdirSync(abs, { recursive: true });
  return abs;
}

function writeDurably(path: string, text: string, flag: 'w' | 'a'): void {
  const fd = openSync(path, flag);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Rewrites run.json atomically (write a temporary file, fsync, rename). */
export function writeRunInfo(dir: string, info: RunInfo): void {
  const tmp = join(dir, `${RUN_FILE}.tmp`);
  writeDurably(tmp, JSON.stringify(info, null, 2) + '\n', 'w');
  renameSync(tmp, join(dir, RUN_FILE));
}

/** Appends one point as one line and fsyncs before returning. */
export function appendPoint(dir: string, point: Point): void {
  writeDurably(join(dir, POINTS_FILE), JSON.stringify(point) + '\n', 'a');
}

/** The stored results of one run, as read: the one type every reader of a run folder gets (resume and report). */
export interface StoredRun {
  /** The folder, absolute. */
  dir: string;
  info: RunInfo;
  points: Point[];
  /** What the reader had to do or skip (a torn last line), said to the user. */
  notes: string[];
  /** The open loop's points (runs made with --open-loop, open-loop.jsonl); the report reads them. */
  openPoints?: OpenPoint[];
}

export interface ReadRunOptions {
  /** The flag or argument that named the folder, for error messages ('--resume', 'DIR'). */
  field?: string;
  /**
   * A torn last line (a run killed mid-write, or one still writing): 'cut' truncates the file there (resume, which
   * appends next), 'skip' leaves the file alone (the report, which may read a run in progress).
   */
  tornLastLine?: 'cut' | 'skip';
}

const HINT = 'give the folder `eventbench run` wrote (it holds run.json and points.jsonl)';

/** The one reader of a run folder: refuses another schema version or a damaged file with a clear error. */
export function readRun(dir: string, options: ReadRunOptions = {}): StoredRun {
  const field = options.field ?? '--resume';
  const abs = resolve(dir);
  let runText: string;
  try {
    runText = readFileSync(join(abs, RUN_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = !existsSync(abs) ? 'no such folder' : code === 'ENOENT' ? `has no ${RUN_FILE}` : `has no readable ${RUN_FILE} (${code ?? (err as Error).message})`;
    throw new UsageError(field, dir, why, HINT);
  }
  let info: RunInfo;
  try {
    info = JSON.parse(runText) as RunInfo;
  } catch (err) {
    throw new ResultsError(`${join(abs, RUN_FILE)} is not valid JSON (${(err as Error).message}); it was not written by \`eventbench run\`, or was damaged`);
  }
  checkSchema(join(abs, RUN_FILE), (info as { schema?: unknown } | null)?.schema, RUN_SCHEMA);
  const path = join(abs, POINTS_FILE);
  const points: Point[] = [];
  const notes: string[] = [];
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    let offset = 0;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const end = offset + Buffer.byteLength(line) + 1;
      if (line.trim() !== '') {
        let point: Point;
        try {
          point = JSON.parse(line) as Point;
        } catch {
          // Only the last line can be torn by a kill mid-write; anything else is a damaged file.
          if (lines.slice(i + 1).every((l) => l.trim() === '')) {
            if ((options.tornLastLine ?? 'cut') === 'cut') {
              truncateSync(path, offset);
              notes.push(`cut off a torn last line of ${POINTS_FILE} (a point in progress when the run was killed)`);
            } else {
              notes.push(`The last line of ${POINTS_FILE} is incomplete (a run still writing?); it was skipped.`);
            }
            break;
          }
          throw new ResultsError(`${path} line ${i + 1} is not valid JSON; only the last line may be incomplete. Remove or fix that line`);
        }
        checkSchema(`${path} line ${i + 1}`, (point as { schema?: unknown } | null)?.schema, POINT_SCHEMA);
        points.push(point);
      }
      offset = end;
    }
  }
  return { dir: abs, info, points, notes };
}

function checkSchema(where: string, got: unknown, expected: string): void {
  if (got === expected) return;
  const shown = typeof got === 'string' ? JSON.stringify(got) : 'no schema field';
  throw new ResultsError(`${where}: schema is ${shown}, this eventbench reads ${JSON.stringify(expected)}; start a new run, or use the eventbench version that wrote it`);
}
