// The results folder of a run: run.json (RunInfo, rewritten atomically) and points.jsonl (one Point per line,
// appended and fsynced the moment it is measured, so a `kill -9` loses at most the point in progress).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { POINTS_FILE, POINT_SCHEMA, RUN_FILE, RUN_SCHEMA, type Point, type RunInfo } from './schema.js';

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

export interface StoredRun {
  dir: string;
  info: RunInfo;
  points: Point[];
  /** Set when a torn last line (a run killed mid-write) was cut off. */
  repaired?: string;
}

/** Reads a run folder, refusing another schema version with a clear error; cuts off a torn last line. */
export function readRun(dir: string, field = '--resume'): StoredRun {
  const abs = resolve(dir);
  let info: RunInfo;
  try {
    info = JSON.parse(readFileSync(join(abs, RUN_FILE), 'utf8')) as RunInfo;
  } catch (err) {
    throw new UsageError(field, dir, `has no readable ${RUN_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'give the folder of an `eventbench run`');
  }
  if (info.schema !== RUN_SCHEMA) {
    throw new UsageError(field, dir, `holds results of schema ${JSON.stringify(info.schema)}, this eventbench reads ${RUN_SCHEMA}`, 'start a new run, or use the eventbench version that wrote it');
  }
  const path = join(abs, POINTS_FILE);
  const points: Point[] = [];
  let repaired: string | undefined;
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    let offset = 0;
    for (const line of text.split('\n')) {
      const end = offset + Buffer.byteLength(line) + 1;
      if (line.trim() !== '') {
        let point: Point;
        try {
          point = JSON.parse(line) as Point;
        } catch {
          // Only the last line can be torn by a kill mid-write; anything else is a damaged file.
          if (end >= Buffer.byteLength(text)) {
            truncateSync(path, offset);
            repaired = `cut off a torn last line of ${POINTS_FILE} (a point in progress when the run was killed)`;
            break;
          }
          throw new UsageError(field, dir, `${POINTS_FILE} has a damaged line at byte ${offset}`, 'repair or remove that line');
        }
        if (point.schema !== POINT_SCHEMA) {
          throw new UsageError(field, dir, `${POINTS_FILE} holds points of schema ${JSON.stringify(point.schema)}, this eventbench reads ${POINT_SCHEMA}`, 'start a new run');
        }
        points.push(point);
      }
      offset = end;
    }
  }
  return { dir: abs, info, points, ...(repaired ? { repaired } : {}) };
}
