// Issue 23: `run --resume` finishes every phase a run was asked for. The real CLI and real servers (the `events` and
// `async` models): a run interrupted in its open-loop phase or its memory phase, by SIGINT or by SIGKILL, is resumed,
// and then holds every point (every server) of each phase's plan exactly once, with nothing left running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './helpers/cli.js';
import { QUOTA, RUN_CHILD } from './helpers/runner.js';
import { eventually, orphanCgroups, startedHereMatching } from './helpers/processes.js';
import { killTree } from '../src/core/proc.js';
import { readRun } from '../src/results/store.js';
import { MEMORY_FILE, OPEN_POINTS_FILE, POINTS_FILE, type MemoryRun, type OpenPoint, type Point } from '../src/results/schema.js';

const jsonl = <T>(dir: string, file: string): T[] => {
  const path = join(dir, file);
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as T)
    : [];
};
const memory = (dir: string): MemoryRun | undefined =>
  existsSync(join(dir, MEMORY_FILE)) ? (JSON.parse(readFileSync(join(dir, MEMORY_FILE), 'utf8')) as MemoryRun) : undefined;

/** Processes of this worktree's eventbench still serving or loading (a run killed with -9 must leave none for long). */
const ours = () => startedHereMatching(`${BIN} serve`, `${BIN} load`);

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  pid: number;
}

/** `eventbench run ARGS` (the real CLI, or the test catalog's runner), sent `signal` once `ready(dir)` holds. */
interface RunOptions {
  ready?: () => boolean;
  signal?: NodeJS.Signals;
  script?: string;
  env?: NodeJS.ProcessEnv;
}

function run(args: string[], o: RunOptions = {}): Promise<Ran> {
  const argv = o.script ? [o.script, ...args] : [BIN, 'run', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...o.env } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => killTree(child.pid!, 'SIGKILL', process.pid), 150_000);
  const poll =
    o.ready &&
    setInterval(() => {
      if (o.ready!()) {
        clearInterval(poll);
        child.kill(o.signal ?? 'SIGINT');
      }
    }, 25);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ code, signal, stderr, pid: child.pid! });
    }),
  );
}

const OPEN = [
  '--quick',
  '--servers',
  'events',
  '--loads',
  '10,40',
  '--open-loop',
  '--rates',
  '0.2,0.5,0.8',
  '--no-memory',
  '--no-report',
  ...QUOTA,
];

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  test(`run --open-loop interrupted by ${signal} in its open phase: --resume measures the open points left, none twice`, async (t) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'eventbench-resume-')), 'r');
    t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
    const first = await run([...OPEN, '--out', dir], { ready: () => jsonl(dir, OPEN_POINTS_FILE).length >= 1, signal });
    if (signal === 'SIGINT') assert.equal(first.code, 130, first.stderr);
    else assert.equal(first.signal, 'SIGKILL');
    const kept = jsonl<OpenPoint>(dir, OPEN_POINTS_FILE).length;
    assert.ok(kept >= 1 && kept < 3, `kept ${kept} open-loop point(s)`);
    assert.ok(
      await eventually(() => ours().length === 0, 10_000),
      `left running: ${ours()
        .map((p) => p.cmdline)
        .join('; ')}`,
    );

    const closed = jsonl<Point>(dir, POINTS_FILE).length;
    const resumed = await run(['--resume', dir, '--no-report']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`closed loop: 0 point\\(s\\) to measure, ${closed} point\\(s\\) kept from before`));
    assert.match(resumed.stderr, new RegExp(`open loop: ${3 - kept} point\\(s\\) to measure, ${kept} point\\(s\\) kept from before`));
    const open = jsonl<OpenPoint>(dir, OPEN_POINTS_FILE);
    const measured = open.map((p) => `${p.server}@${p.rateFraction}#${p.round}`);
    assert.deepEqual(measured, ['events@0.2#1', 'events@0.5#1', 'events@0.8#1'], 'every point of the plan, in order, once');
    assert.equal(new Set(open.map((p) => p.capacityRps)).size, 1, 'the rates of the resumed points come from the same capacity');
    assert.equal(jsonl<Point>(dir, POINTS_FILE).length, closed, 'the closed sweep is not measured again');
    const info = readRun(dir).info;
    assert.deepEqual(info.phases, [{ phase: 'closed' }, { phase: 'open', rateFractions: [0.2, 0.5, 0.8], minDurationS: 2 }]);
    assert.equal(info.interrupted, undefined);
    assert.deepEqual(orphanCgroups([first.pid]), [], 'the cgroup of the killed run is removed by the next');
    assert.ok(await eventually(() => ours().length === 0, 5000));
  });
}

const MEMORY = ['--quick', '--servers', 'events,async', '--loads', '10', '--no-report', ...QUOTA];

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  test(`run interrupted by ${signal} in its memory phase: --resume measures the servers left, none twice`, async (t) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'eventbench-resume-')), 'r');
    t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
    const first = await run([...MEMORY, '--out', dir], { ready: () => (memory(dir)?.servers.length ?? 0) >= 1, signal });
    if (signal === 'SIGINT') assert.equal(first.code, 130, first.stderr);
    else assert.equal(first.signal, 'SIGKILL');
    const kept = memory(dir)!.servers.length;
    assert.ok(kept >= 1 && kept < 2, `kept ${kept} server(s)`);
    assert.equal(memory(dir)!.finishedAt, undefined);
    assert.ok(
      await eventually(() => ours().length === 0, 10_000),
      `left running: ${ours()
        .map((p) => p.cmdline)
        .join('; ')}`,
    );

    const closed = jsonl<Point>(dir, POINTS_FILE).length;
    const resumed = await run(['--resume', dir, '--no-report']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /memory: 4 level\(s\) to measure, 1 server\(s\) kept from before/);
    const m = memory(dir)!;
    assert.deepEqual(m.servers.map((s) => s.server).sort(), ['async', 'events'], 'each server once');
    assert.deepEqual(m.levels, [0, 100, 200]);
    for (const s of m.servers) assert.equal(s.status, 'ok', s.reason);
    assert.ok(m.finishedAt);
    assert.equal(jsonl<Point>(dir, POINTS_FILE).length, closed, 'the closed sweep is not measured again');
    assert.deepEqual(orphanCgroups([first.pid]), []);
    assert.ok(await eventually(() => ours().length === 0, 5000));
  });
}

test('a phase that cannot be resumed (a server no longer installed) is named, and the exit status says incomplete', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'eventbench-resume-')), 'r');
  t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const args = ['--servers', 'tiny,vanishing', '--loads', '1,2', '--repeat', '1', '--seed', '3', '-t', '0.3', '--out', dir];
  args.push('--no-report', '--no-memory');
  const first = await run(args, { script: RUN_CHILD, ready: () => jsonl(dir, POINTS_FILE).length >= 1 });
  assert.equal(first.code, 130, first.stderr);
  const resumed = await run(['--resume', dir, '--no-report'], { script: RUN_CHILD, env: { EVENTBENCH_TEST_GONE: 'vanishing' } });
  assert.equal(resumed.code, 4, resumed.stderr);
  assert.match(resumed.stderr, /skipped vanishing: on resume: vanishing is gone/);
  assert.match(resumed.stderr, /incomplete: closed loop: vanishing: \d+ point\(s\) not measured \(on resume: vanishing is gone\)/);
  const info = readRun(dir).info;
  assert.equal(info.incomplete?.[0]?.phase, 'closed');
  const tiny = jsonl<Point>(dir, POINTS_FILE).filter((p) => p.server === 'tiny');
  assert.deepEqual([...new Set(tiny.map((p) => p.load))].sort(), [1, 2], 'what can run is measured');
});
