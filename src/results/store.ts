// The results folder of a run (src/results/schema.ts): run.json (RunInfo, rewritten atomically), points.jsonl and
// open-loop.jsonl (one point per line, appended and fsynced the moment it is measured, so a `kill -9` loses at most
// the point in progress) and memory.json (rewritten atomically after every server). One reader for all of it, which
// checks run.json's shape (./shapes.ts). A folder is made private (0700): its run.json holds the commands of the
// user's servers and the environment. A write that fails (no space left, a read-only or full quota) or stops short
// is undone (every line of a .jsonl file stays whole) and named in one line: the folder, the cause, what was kept.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DiskError, ResultsError, UsageError } from '../core/errors.js';
import { RUN_INFO_SHAPE, VISIT_SHAPE } from './shapes.js';
import {
  MEMORY_FILE,
  MEMORY_SCHEMA,
  OLD_SCHEMAS,
  OPEN_POINTS_FILE,
  OPEN_POINT_SCHEMA,
  POINTS_FILE,
  POINT_SCHEMA,
  RUN_FILE,
  RUN_SCHEMA,
  VISITS_FILE,
  VISIT_SCHEMA,
  type MemoryRun,
  type VisitRecord,
  type OpenPoint,
  type Point,
  type RunInfo,
} from './schema.js';

/** `results/<date-time>/` under the working folder, e.g. results/2025-01-31T14-05-09. */
export function defaultRunDir(now = new Date()): string {
  return resolve('results', now.toISOString().slice(0, 19).replaceAll(':', '-'));
}

/** Creates a fresh run folder; refuses one that already holds a run (that is what --resume is for). */
export function createRunDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, RUN_FILE))) {
    const hint = `continue it with \`eventbench run --resume ${dir}\` or choose another folder`;
    throw new UsageError('--out', dir, 'already holds a run', hint);
  }
  if (existsSync(abs) && readdirSync(abs).length > 0) {
    throw new UsageError('--out', dir, 'is not empty', 'choose a new or empty folder');
  }
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  return abs;
}

/** A failed write as the user needs it: the folder, the file, the cause by its errno name, and what was kept. */
function diskError(path: string, err: unknown, kept: string): DiskError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const errno = code ?? (err === SHORT ? 'short' : `${(err as Error)?.message ?? String(err)}`);
  return new DiskError(resolve(path, '..'), basename(path), errno, kept);
}

const SHORT = Symbol('short write');

/**
 * Writes `text` whole at the end of `path` (flag 'a') or as all of it ('w'), and fsyncs: written, then the count
 * checked. A write that fails, or writes nothing more, is undone (the file cut back to its size before), so that no line is
 * ever left torn, and thrown as a DiskError saying `kept`.
 */
function writeDurably(path: string, text: string, flag: 'w' | 'a', kept: string): void {
  let fd: number;
  try {
    fd = openSync(path, flag, 0o600);
  } catch (err) {
    throw diskError(path, err, kept);
  }
  const bytes = Buffer.from(text);
  let before = 0;
  try {
    before = fstatSync(fd).size;
    // A write that stops short (a disk nearly full) is carried on: the next one says why it cannot, or finishes.
    for (let done = 0; done < bytes.length; ) {
      const n = writeSync(fd, bytes, done);
      if (n <= 0) throw SHORT;
      done += n;
    }
    fsyncSync(fd);
  } catch (err) {
    try {
      ftruncateSync(fd, before);
    } catch {
      /* the file is named below as it is */
    }
    throw diskError(path, err, kept);
  } finally {
    closeSync(fd);
  }
}

/** Rewrites a JSON file atomically (write a temporary file, fsync, rename); a failed write leaves the file as it was. */
function writeJsonAtomically(dir: string, file: string, value: unknown): void {
  const tmp = join(dir, `${file}.tmp`);
  const next = file === RUN_FILE ? `resume the run (eventbench run --resume ${dir})` : 'try again';
  const kept = `${file} is kept as it was before this write; free some space, then ${next}`;
  try {
    writeDurably(tmp, JSON.stringify(value, null, 2) + '\n', 'w', kept);
    renameSync(tmp, join(dir, file));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err instanceof DiskError ? new DiskError(resolve(dir), file, err.errno, kept) : diskError(join(dir, file), err, kept);
  }
}

/** What a failed append keeps: every record before it, each on a whole line. */
const keptLines = (dir: string, file: string) =>
  `every point measured before it is kept, each on a whole line of ${file}; free some space, then resume the run ` +
  `(eventbench run --resume ${dir})`;

export function writeRunInfo(dir: string, info: RunInfo): void {
  writeJsonAtomically(dir, RUN_FILE, info);
}

export function writeMemoryRun(dir: string, run: MemoryRun): void {
  writeJsonAtomically(dir, MEMORY_FILE, run);
}

/** Appends one closed-loop point as one line of points.jsonl and fsyncs before returning. */
export function appendPoint(dir: string, point: Point): void {
  writeDurably(join(dir, POINTS_FILE), JSON.stringify(point) + '\n', 'a', keptLines(dir, POINTS_FILE));
}

/** Appends one open-loop point as one line of open-loop.jsonl and fsyncs before returning. */
export function appendOpenPoint(dir: string, point: OpenPoint): void {
  writeDurably(join(dir, OPEN_POINTS_FILE), JSON.stringify(point) + '\n', 'a', keptLines(dir, OPEN_POINTS_FILE));
}

/** Appends one line of visits.jsonl (the paired design's sweeps as they ran) and fsyncs before returning. */
export function appendVisit(dir: string, visit: VisitRecord): void {
  writeDurably(join(dir, VISITS_FILE), JSON.stringify(visit) + '\n', 'a', keptLines(dir, VISITS_FILE));
}

/** The stored results of one run, as read: the one type every reader of a run folder gets (resume and report). */
export interface StoredRun {
  /** The folder, absolute. */
  dir: string;
  info: RunInfo;
  points: Point[];
  /** What the reader had to do or skip (a torn last line), said to the user. */
  notes: string[];
  /** The open loop's points (runs made with --open-loop, open-loop.jsonl). */
  openPoints?: OpenPoint[];
  /** The memory phase's results (memory.json), when the run has one. */
  memory?: MemoryRun;
  /** The paired design's sweeps as they ran (visits.jsonl, run/4); absent for earlier runs. */
  visits?: VisitRecord[];
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

/** The one reader of a run folder: reads run/1 to run/4, refuses another version or a damaged file clearly. */
export function readRun(dir: string, options: ReadRunOptions = {}): StoredRun {
  const field = options.field ?? '--resume';
  const abs = resolve(dir);
  const notes: string[] = [];
  const info = upgradeRunInfo(readJson(abs, RUN_FILE, field), join(abs, RUN_FILE));
  const cut = options.tornLastLine ?? 'cut';
  const points = readLines(join(abs, POINTS_FILE), cut, notes, (raw, where) => upgradePoint(raw, where));
  const openPoints = readLines(join(abs, OPEN_POINTS_FILE), cut, notes, (raw, where) => upgradeOpenPoint(raw, where));
  if (openPoints.length > 0 && !info.phases.some((p) => p.phase === 'open')) {
    notes.push(
      `${OPEN_POINTS_FILE} holds open-loop points, but run.json (${OLD_SCHEMAS.run}) did not record the open loop's plan: ` +
        '--resume completes the closed sweep only',
    );
  }
  const visits = readLines(join(abs, VISITS_FILE), cut, notes, (raw, where) => {
    checkSchema(where, (raw as Raw | null)?.schema, [VISIT_SCHEMA]);
    const problem = VISIT_SHAPE.problem(raw, 'visit');
    if (problem) throw new ResultsError(`${where}: ${problem}; it was edited or damaged: remove that line, or start a new run`);
    return raw as VisitRecord;
  });
  const memory = existsSync(join(abs, MEMORY_FILE)) ? readMemory(abs) : undefined;
  return { dir: abs, info, points, notes, ...(visits.length ? { visits } : {}), ...(openPoints.length ? { openPoints } : {}), ...(memory ? { memory } : {}) };
}

/** run.json of a run folder alone (its plan, phases and hosts), as readRun reads it. */
export function readRunInfo(dir: string, field = '--resume'): RunInfo {
  const abs = resolve(dir);
  return upgradeRunInfo(readJson(abs, RUN_FILE, field), join(abs, RUN_FILE));
}

function readJson(abs: string, file: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(join(abs, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const unreadable = `has no readable ${file} (${code ?? (err as Error).message})`;
    const why = !existsSync(abs) ? 'no such folder' : code === 'ENOENT' ? `has no ${file}` : unreadable;
    throw new UsageError(field, abs, why, HINT);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const why = (err as Error).message;
    throw new ResultsError(`${join(abs, file)} is not valid JSON (${why}); it was not written by eventbench, or was damaged`);
  }
}

/** memory.json of a folder (a run's memory phase, or `eventbench memory`). */
export function readMemory(dir: string): MemoryRun {
  const abs = resolve(dir);
  const run = readJson(abs, MEMORY_FILE, 'DIR') as MemoryRun;
  checkSchema(join(abs, MEMORY_FILE), run?.schema, [MEMORY_SCHEMA, OLD_SCHEMAS.memory]);
  return run;
}

type Raw = Record<string, unknown>;

/**
 * run.json as this eventbench reads it: run/2 is run/3 without `hosts` (it ran on this machine alone); run/1's
 * plan.repeat is plan.rounds, and it ran the closed sweep only.
 */
function upgradeRunInfo(raw: unknown, where: string): RunInfo {
  const r = raw as Raw | null;
  checkSchema(where, r?.schema, [RUN_SCHEMA, OLD_SCHEMAS.run3, OLD_SCHEMAS.run2, OLD_SCHEMAS.run]);
  const info = upgradedRunInfo(r!);
  const problem = RUN_INFO_SHAPE.problem(info, 'run.json');
  if (problem) {
    const why = `${where}: ${problem.slice('run.json'.length).replace(/^[.:] ?/, '')}`;
    throw new ResultsError(`${why}; it was edited, damaged, or not written by eventbench: fix that field, or start a new run`);
  }
  return info;
}

function upgradedRunInfo(r: Raw): RunInfo {
  if (r.schema === RUN_SCHEMA) return r as unknown as RunInfo;
  // run/3 is run/4 without the paired design (no Plan.cycles); run/2 is run/3 without `hosts`.
  if (r.schema === OLD_SCHEMAS.run3 || r.schema === OLD_SCHEMAS.run2) return { ...(r as unknown as RunInfo), schema: RUN_SCHEMA };
  const { repeat, ...plan } = (r.plan ?? {}) as Raw;
  const upgraded = { ...plan, rounds: repeat } as unknown as RunInfo['plan'];
  return { ...(r as unknown as RunInfo), schema: RUN_SCHEMA, plan: upgraded, phases: [{ phase: 'closed' }] };
}

/** A point line as this eventbench reads it: the version before (`old`) named its round `repeat`. */
function upgradeLine<T>(raw: unknown, where: string, current: string, old: string): T {
  const p = raw as Raw | null;
  checkSchema(where, p?.schema, [current, old]);
  if (p!.schema === current) return p as T;
  const { repeat, ...rest } = p!;
  return { ...rest, schema: current, round: repeat } as T;
}

const upgradePoint = (raw: unknown, where: string) => upgradeLine<Point>(raw, where, POINT_SCHEMA, OLD_SCHEMAS.point);
const upgradeOpenPoint = (raw: unknown, where: string) => upgradeLine<OpenPoint>(raw, where, OPEN_POINT_SCHEMA, OLD_SCHEMAS.openPoint);

/**
 * The records of a JSON Lines file (none when it is absent). Only the last line can be torn by a kill mid-write:
 * 'cut' truncates it off (resume appends next), 'skip' leaves the file alone; a bad line elsewhere is an error.
 */
function readLines<T>(path: string, torn: 'cut' | 'skip', notes: string[], parse: (raw: unknown, where: string) => T): T[] {
  if (!existsSync(path)) return [];
  const file = path.split('/').pop();
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: T[] = [];
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const end = offset + Buffer.byteLength(line) + 1;
    if (line.trim() !== '') {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        if (!lines.slice(i + 1).every((l) => l.trim() === '')) {
          throw new ResultsError(`${path} line ${i + 1} is not valid JSON; only the last line may be incomplete. Remove or fix that line`);
        }
        if (torn === 'cut') truncateSync(path, offset);
        notes.push(
          torn === 'cut'
            ? `cut off a torn last line of ${file} (a point in progress when the run was killed)`
            : `The last line of ${file} is incomplete (a run still writing?); it was skipped.`,
        );
        break;
      }
      out.push(parse(raw, `${path} line ${i + 1}`));
    }
    offset = end;
  }
  return out;
}

function checkSchema(where: string, got: unknown, expected: readonly string[]): void {
  if (typeof got === 'string' && expected.includes(got)) return;
  const shown = typeof got === 'string' ? JSON.stringify(got) : 'no schema field';
  const reads = expected.map((e) => JSON.stringify(e)).join(' and ');
  throw new ResultsError(
    `${where}: schema is ${shown}, this eventbench reads ${reads}; ` + 'start a new run, or use the eventbench version that wrote it',
  );
}
