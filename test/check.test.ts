// `eventbench check`, through the real CLI: deliberately broken servers (test/fixtures/broken-server.ts) each get
// a card that names exactly what is wrong with them, and exit status 1; a URL is checked without a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cli } from './helpers/cli.js';
import { processesRunning } from './helpers/runner.js';
import type { Card } from '../src/check/card.js';
import { serveForCheck, stopServed } from '../src/check/target.js';
import { killTree } from '../src/core/proc.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exchange } from '../src/check/http.js';
import { freePort } from '../src/servers/spawned.js';

const BROKEN = fileURLToPath(new URL('./fixtures/broken-server.js', import.meta.url));
/** A user server of the broken fixture in `mode`; short bounds keep each card to seconds. */
const broken = (mode: string) => [
  `broken-${mode}`,
  '--server',
  `broken-${mode}=${process.execPath} ${BROKEN} --mode ${mode} --port {port} --page {page}`,
  '--idle-bound',
  '3',
  '--connections',
  '200',
  '--json',
];

async function card(mode: string): Promise<{ card: Card; code: number | null; stderr: string }> {
  const r = await cli(['check', ...broken(mode)], { timeoutMs: 120_000 });
  return { card: JSON.parse(r.stdout) as Card, code: r.code, stderr: r.stderr };
}
const failed = (c: Card) => c.lines.filter((l) => l.status === 'fail').map((l) => l.id);

test('check: a server that answers 200 to everything fails 404, 405 and 400, and says what it got', async () => {
  const { card: c, code } = await card('always-200');
  assert.equal(code, 1);
  assert.equal(c.schema, 'eventbench.check/1');
  assert.equal(c.ok, false);
  for (const id of ['not-found', 'method', 'bad-request'] as const) assert.ok(failed(c).includes(id), `${id} in ${failed(c).join(', ')}`);
  assert.match(c.lines.find((l) => l.id === 'not-found')!.reason, /expected 404, got 200/);
  assert.equal(c.lines.find((l) => l.id === 'page')!.status, 'pass');
  assert.deepEqual(await processesRunning(BROKEN), []);
});

test('check: a server that leaks a descriptor per connection fails the descriptor check, by how many', async () => {
  const { card: c, code } = await card('leak');
  assert.equal(code, 1);
  assert.deepEqual(failed(c), ['descriptors']);
  assert.match(c.lines.find((l) => l.id === 'descriptors')!.reason, /after 200 connections, \d+ before: 200 more/);
  assert.deepEqual(await processesRunning(BROKEN), []);
});

test('check: a server that dies on a long header fails the 20 KB header and is no longer alive', async () => {
  const { card: c, code } = await card('die-on-long-header');
  assert.equal(code, 1);
  for (const id of ['big-header', 'alive'] as const) assert.ok(failed(c).includes(id), `${id} in ${failed(c).join(', ')}`);
  for (const id of ['page', 'not-found', 'method', 'bad-request'] as const) {
    assert.equal(c.lines.find((l) => l.id === id)!.status, 'pass', id);
  }
  assert.match(c.lines.find((l) => l.id === 'alive')!.reason, /gone/);
  assert.deepEqual(await processesRunning(BROKEN), []);
});

test('check URL: a running server is checked where it answers, its process found by its listening socket', async (t) => {
  const served = await serveForCheck('events', ['--idle-timeout', '0.5']);
  t.after(() => killTree(served.pid, 'SIGKILL', process.pid));
  const r = await cli(['check', served.url, '--idle-bound', '3', '--connections', '50'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^pass {2}the page: 200, a 305-byte body: the paper's 305 bytes$/m);
  assert.match(r.stdout, /^pass {2}no descriptor growth: \d+ open descriptors after 50 connections, \d+ before$/m);
  assert.match(r.stdout, /all 15 applicable checks pass$/m);
  assert.equal((await stopServed(served)).status, 'pass');
});

test('check URL: a server that answers and never closes gets its card: the kept-open connection, the missing 404, the leak', async (t) => {
  const port = await freePort('127.0.0.1', 0);
  const page = join(mkdtempSync(join(tmpdir(), 'eventbench-check-')), 'page.html');
  writeFileSync(page, 'x'.repeat(305));
  const child = spawn(process.execPath, [BROKEN, '--mode', 'never-close', '--port', String(port), '--page', page], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(join(page, '..'), { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; (await exchange({ host: '127.0.0.1', port }, undefined, { timeoutMs: 100 })).end === 'refused'; i++) {
    assert.ok(i < 100, 'the server listens');
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await cli(['check', url, '--idle-bound', '3', '--connections', '100', '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 1, r.stderr);
  const c = JSON.parse(r.stdout) as Card;
  const reason = (id: string) => c.lines.find((l) => l.id === id)!;
  assert.equal(reason('page').status, 'pass');
  assert.equal(reason('http10-close').status, 'fail');
  assert.match(reason('http10-close').reason, /^kept the connection open 2 s after answering an HTTP\/1\.0 request/);
  assert.equal(reason('not-found').status, 'fail');
  assert.match(reason('not-found').reason, /^expected 404, got 200 /);
  assert.equal(reason('descriptors').status, 'fail');
  assert.match(reason('descriptors').reason, /after 100 connections, \d+ before: \d+ more/);
});

test('check: bad input is one line with exit status 2', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['check', 'http://127.0.0.1:9/'],
      /^eventbench check: URL: got "http:\/\/127\.0\.0\.1:9\/", does not answer HTTP \(.*ECONNREFUSED.*\); start the server first/,
    ],
    [['check', 'http://8.8.8.8/'], /URL: got "http:\/\/8\.8\.8\.8\/", expected a loopback address/],
    [['check', 'nope'], /NAME: got "nope", is neither a server model nor a URL/],
    [['check'], /NAME\|URL: got "", expected one server name or URL/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
