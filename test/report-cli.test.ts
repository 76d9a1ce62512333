// `eventbench report` as a user runs it: the real CLI in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exactRun } from './helpers/exact.js';
import { writeRun } from './helpers/results.js';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'report', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('report DIR writes report.html and the figures, and prints the path', async (t) => {
  const { run, points } = exactRun();
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const html = await cli([dir]);
  assert.equal(html.code, 0, html.stderr);
  assert.equal(html.stdout, `${path.join(dir, 'report.html')}\n`);
  assert.match(await readFile(path.join(dir, 'report.html'), 'utf8'), /^<!DOCTYPE html>/);
  assert.match(await readFile(path.join(dir, 'fig2-serving-time.svg'), 'utf8'), /^<svg/);

  const md = await cli([dir, '--format', 'md']);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /\| 1 \| native-st \| native · ST \(user threads\) \| 0\.200 \|/);
  const out = path.join(dir, 'points.csv');
  const csv = await cli([dir, '--format', 'csv', '--table', 'points', '--out', out]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout, `${out}\n`);
  assert.match(await readFile(out, 'utf8'), /^server,load,repeats,/);
  assert.equal(csv.stderr, '', 'nothing chatters on stderr');
});

test('report --out and memory --out never replace a file silently: refused in one line, replaced with --force', async (t) => {
  const { run, points } = exactRun();
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'mine.md');
  await writeFile(out, 'my notes\n');
  for (const format of ['md', 'html']) {
    const r = await cli([dir, '--format', format, '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `eventbench report: --out: got "${out}", exists already, and is not replaced silently; choose another name, remove it first, or add --force\n`,
    );
    assert.equal(await readFile(out, 'utf8'), 'my notes\n');
  }
  const forced = await cli([dir, '--format', 'md', '--out', out, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(await readFile(out, 'utf8'), /^# /);
  await writeFile(path.join(dir, 'memory.json'), '{}');
  const memory = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [BIN, 'memory', '--servers', 'events', '--out', dir], (err, _o, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stderr }),
    ),
  );
  assert.equal(memory.code, 2, memory.stderr);
  assert.match(
    memory.stderr,
    /^eventbench memory: --out: got ".*memory\.json", exists already, and is not replaced silently; .* or add --force\n$/,
  );
  assert.equal(await readFile(path.join(dir, 'memory.json'), 'utf8'), '{}');
});

test('bad input gets one clear line and the usage exit status', async (t) => {
  const empty = await mkdtemp(path.join(os.tmpdir(), 'eventbench-report-empty-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  const { run } = exactRun();
  const cases: [string[], number, RegExp][] = [
    [[], 2, /^eventbench report: DIR: got "", a run folder is required/],
    [[path.join(empty, 'missing')], 2, /DIR: got ".*missing", no such folder; give the folder `eventbench run` wrote/],
    [[empty], 2, /has no run\.json/],
    [[empty, '--format', 'pdf'], 2, /--format: got "pdf", expected one of html, md, json, csv/],
    [[empty, '--format', 'md', '--table', 'points'], 2, /--table: got "points", applies to --format csv only/],
    [[empty, '--colour'], 2, /flag: got "--colour", is not a flag of this command/],
  ];
  for (const [args, code, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  await writeFile(path.join(empty, 'run.json'), JSON.stringify(run));
  const none = await cli([empty]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /holds no results yet/);
  await writeFile(path.join(empty, 'run.json'), JSON.stringify({ ...run, schema: 'eventbench.run/9' }));
  const foreign = await cli([empty, '--format', 'json']);
  assert.equal(foreign.code, 1);
  const reads = 'this eventbench reads "eventbench.run/4" and "eventbench.run/3" and "eventbench.run/2" and "eventbench.run/1"';
  assert.ok(foreign.stderr.includes(`schema is "eventbench.run/9", ${reads}`), foreign.stderr);
});

test('report --help gives a worked example for each flag', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--format', '--table', '--out']) assert.match(r.stdout, new RegExp(`eventbench report \\S+ .*${flag}`), flag);
});
