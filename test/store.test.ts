// The results folder (src/results/store.ts) at its boundaries: a folder is private (0700); run.json is read by its
// shape, a hand-edited field one line naming it; and a disk that fills up (a small tmpfs mounted for the test) is
// named (the folder, no space left, what was kept), every line of points.jsonl stays whole, a run on it exits 1
// with no "internal error", and `--resume` after freeing space goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskError, ResultsError } from '../src/core/errors.js';
import { runExperiment } from '../src/experiments/run.js';
import { appendPoint, createRunDir, readRun, writeRunInfo } from '../src/results/store.js';
import type { Point, RunInfo } from '../src/results/schema.js';
import { cli } from './helpers/cli.js';
import { needs } from './helpers/optional.js';
import { RUN_CHILD, SERVE_SCRIPT, processesRunning, testCatalog, testTrial } from './helpers/runner.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'eventbench-store-'));
const pointLines = (dir: string) => {
  const path = join(dir, 'points.jsonl');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the file ends with a whole line');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Point);
};

/** Whether this test may mount a tmpfs of its own (root, and mount allowed here). */
function tmpfsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test mounts a small tmpfs, which needs root';
  const probe = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'mount -t tmpfs is not allowed here';
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const noTmpfs = needs('a small tmpfs (root, mount)', tmpfsUnavailable());

/** A tmpfs of `size` mounted on a fresh folder; `resize` frees space; `remove` unmounts it and removes the folder. */
function smallDisk(size: string) {
  const at = tmp();
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', at]);
  return {
    at,
    resize: (bigger: string) => execFileSync('mount', ['-o', `remount,size=${bigger}`, at]),
    remove: () => {
      execFileSync('umount', ['-l', at]);
      rmSync(at, { recursive: true, force: true });
    },
  };
}

/** A small finished run (two points of the test catalog's tiny server), as a fixture. */
async function smallRun(dir: string): Promise<RunInfo> {
  const made = await runExperiment({
    input: { servers: ['tiny'], loads: [1, 2], requests: 40, serverCpuShare: 0, rounds: 1, memory: false },
    out: dir,
    catalog: testCatalog,
    trial: testTrial,
  });
  return made.info;
}

test('a results folder is private: 0700, as it holds the commands of your servers and the environment', (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = createRunDir(join(base, 'results', 'r1'));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
});

test('run.json is read by its shape: a hand-edited field is one line naming the file and the field, never a TypeError', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  const info = await smallRun(dir);
  const file = join(dir, 'run.json');
  const edits: [(i: RunInfo) => unknown, string][] = [
    [(i) => ({ ...i, plan: { ...i.plan, loads: ['10'] } }), 'plan.loads[0]: expected a number, got "10"'],
    [(i) => ({ ...i, plan: null }), 'plan: expected an object, got null'],
    [(i) => ({ ...i, phases: [{ phase: 'open' }] }), 'phases[0].rateFractions: is missing (expected a list of numbers)'],
    [(i) => ({ ...i, environment: { ...i.environment, cpus: 'two' } }), 'environment.cpus: expected a whole number, got "two"'],
  ];
  for (const [edit, what] of edits) {
    writeFileSync(file, JSON.stringify(edit(info)));
    const message = `${file}: ${what}; it was edited, damaged, or not written by eventbench: fix that field, or start a new run`;
    assert.throws(
      () => readRun(dir),
      (e: Error) => e instanceof ResultsError && e.message === message,
      what,
    );
    const r = await cli(['run', '--resume', dir, '--no-report']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr
        .split('\n')
        .filter((l) => l && !l.startsWith('eventbench run: removed '))
        .join('\n'),
      `eventbench run: ${message}`,
    );
  }
});

test('a full disk: the write is undone and named (the folder, no space left, what was kept); every line stays whole', {
  skip: noTmpfs,
}, async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const info = await smallRun(join(base, 'r'));
  const point = pointLines(join(base, 'r'))[0]!;
  const disk = smallDisk('16k');
  t.after(() => disk.remove());
  const dir = join(disk.at, 'r');
  mkdirSync(dir);
  writeRunInfo(dir, info);
  let kept = 0;
  let error: unknown;
  for (; kept < 1000; kept++) {
    try {
      appendPoint(dir, { ...point, round: kept + 1 });
    } catch (err) {
      error = err;
      break;
    }
  }
  assert.ok(error instanceof DiskError, String(error));
  assert.equal(error.errno, 'ENOSPC');
  assert.equal(
    error.message,
    `${dir}: could not write points.jsonl: no space left on the device (ENOSPC); every point measured before it is kept, ` +
      `each on a whole line of points.jsonl; free some space, then resume the run (eventbench run --resume ${dir})`,
  );
  assert.equal(pointLines(dir).length, kept, 'every point before the failed one, whole, and nothing of it');
  const before = readFileSync(join(dir, 'run.json'), 'utf8');
  assert.throws(() => writeRunInfo(dir, { ...info, warnings: ['x'.repeat(64 * 1024)] }), {
    code: 'EB_DISK',
    message: `${dir}: could not write run.json: no space left on the device (ENOSPC); run.json is kept as it was before this write; free some space, then resume the run (eventbench run --resume ${dir})`,
  });
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), before);
  assert.deepEqual(readdirSync(dir).sort(), ['points.jsonl', 'run.json'], 'no temporary file left');
});

test('a run on a disk that fills up says so and exits 1 (no internal error); --resume after freeing space goes on', {
  skip: noTmpfs,
}, async (t) => {
  const disk = smallDisk('40k');
  t.after(() => disk.remove());
  const dir = join(disk.at, 'r');
  const args = ['--servers', 'tiny', '--loads', '1,2,3,4,5,6,7,8', '--repeat', '2', '-n', '30', '--no-memory', '--no-report'];
  const run = (argv: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [RUN_CHILD, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  const full = await run([...args, '--out', dir]);
  assert.equal(full.code, 1, full.stderr);
  assert.doesNotMatch(full.stderr, /internal error|\n\s+at /);
  const last = full.stderr.trim().split('\n').at(-1)!;
  assert.match(
    last,
    new RegExp(`^eventbench run: ${dir}: could not write (points\\.jsonl|run\\.json): no space left on the device \\(ENOSPC\\); `),
  );
  const before = pointLines(dir);
  assert.ok(before.length < 16, `${before.length} points fit`);
  assert.deepEqual(await processesRunning(SERVE_SCRIPT), []);
  disk.resize('4m');
  const resumed = await run(['--resume', dir, '--no-report']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = pointLines(dir);
  assert.equal(after.length, 16, 'every point, each once');
  assert.equal(new Set(after.map((p) => `${p.load}#${p.round}`)).size, 16);
});
