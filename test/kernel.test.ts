// The kernel-thread and process models (threads, thread-pool, processes), started in this process through their
// ServerModel and driven over real sockets: page.ts's exact bytes for every request rule, the idle timeout,
// resets and garbage, many clients at once, the live cap making connections wait instead of fail, and close()
// leaving no thread, child process or descriptor behind. (The conformance suite, test/servers.test.ts, also runs
// them through `eventbench serve` with 200 clients at once and SIGTERM.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { buildResponses } from '../src/servers/page.js';
import { MAX_HEAD_BYTES } from '../src/servers/request.js';
import { threads } from '../src/servers/threads.js';
import { threadPool } from '../src/servers/thread-pool.js';
import { processes } from '../src/servers/processes.js';
import type { RunningServer, ServeOptions, ServerModel } from '../src/servers/registry.js';
import { allProcesses, eventually, fdTargets, socketCount } from './helpers/processes.js';
import { exchange, resetAfter } from './helpers/raw-http.js';

const IDLE_MS = 500;
const options = (extra: Partial<ServeOptions> = {}): ServeOptions => ({
  host: '127.0.0.1',
  port: 0,
  backlog: 511,
  pageBytes: 305,
  idleTimeoutMs: IDLE_MS,
  ...extra,
});
const taskCount = () => readdirSync('/proc/self/task').length;
/** Socket descriptors of this process: what a leaked connection or listener would add (worker threads' own event-loop
 * descriptors, epoll and eventfd, are released lazily and are not the servers' to manage). */
const fdCount = () => socketCount(process.pid);
const liveChildren = () => allProcesses().filter((p) => p.ppid === process.pid && p.state !== 'Z');
const children = () => allProcesses().filter((p) => p.ppid === process.pid);

async function withServer(
  t: { after(fn: () => Promise<void>): void },
  model: ServerModel,
  extra: Partial<ServeOptions> = {},
): Promise<RunningServer> {
  const server = await model.start(options(extra));
  let closed = false;
  const close = server.close.bind(server);
  server.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  t.after(() => server.close());
  return server;
}

/** What this process had before a server started, to compare with after it closed. */
function baseline() {
  return { tasks: taskCount(), fds: fdCount() };
}
async function assertBackTo(before: { tasks: number; fds: number }, what: string) {
  assert.ok(await eventually(() => taskCount() <= before.tasks), `${what}: threads ${before.tasks} before, ${taskCount()} after`);
  assert.ok(
    await eventually(() => fdCount() <= before.fds),
    `${what}: descriptors ${before.fds} before, ${fdCount()} after: ${fdTargets(process.pid).join(' ')}`,
  );
  assert.ok(await eventually(() => children().length === 0), `${what}: child processes left: ${JSON.stringify(children())}`);
}

const models = [threads, threadPool, processes];

for (const model of models) {
  test(`${model.name}: runs here`, async () => {
    assert.deepEqual(await model.available(), { ok: true });
  });

  test(`${model.name}: answers every request rule with page.ts's exact bytes`, async (t) => {
    for (const pageBytes of [305, 300_000]) {
      const server = await withServer(t, model, { pageBytes, workers: 4 });
      const r = buildResponses(pageBytes);
      const cases: [string, Buffer][] = [
        ['GET / HTTP/1.0\r\n\r\n', r.get],
        ['GET /index.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n', r.get],
        ['HEAD / HTTP/1.0\r\n\r\n', r.head],
        ['GET /nope HTTP/1.0\r\n\r\n', r[404]],
        ['POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi', r[405]],
        ['GET / HTTP/1.0 extra\r\n\r\n', r[400]],
        ['\x00\x01\x02 binary\r\n\r\n', r[400]],
        ['GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n\r\n', r[431]],
        ['GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES * 3), r[431]],
      ];
      const answers = await Promise.all(
        cases.map(([request]) => exchange(server.url, Buffer.from(request, 'latin1'), { timeoutMs: 20_000 })),
      );
      cases.forEach(([request, expected], i) => {
        const got = answers[i]?.bytes ?? Buffer.alloc(0);
        assert.ok(
          got.equals(expected),
          `page ${pageBytes}: ${JSON.stringify(request.slice(0, 30))} got ${JSON.stringify(got.subarray(0, 60).toString('latin1'))}`,
        );
      });
      await server.close();
    }
  });

  test(`${model.name}: closes an idle client, survives resets and garbage, serves 50 at once, leaks nothing`, async (t) => {
    const before = baseline();
    const server = await withServer(t, model, { workers: 8 });
    const r = buildResponses();

    const idle = await exchange(server.url, 'GET / HTTP/1.0\r\n', { end: false, timeoutMs: 20_000 });
    assert.equal(idle.bytes.length, 0, 'an incomplete head gets no answer');
    assert.ok(idle.closedAfterMs >= IDLE_MS * 0.75, `closed after ${idle.closedAfterMs} ms`);

    await Promise.all(Array.from({ length: 10 }, (_, i) => resetAfter(server.url, i % 2 ? 'GET / HT' : '\xff\xfe garbage')));
    // 431 to a client that keeps its side open: it still receives the whole answer.
    const big = await exchange(server.url, 'GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES + 100), { end: false, timeoutMs: 20_000 });
    assert.ok(big.bytes.equals(r[431]));
    await server.close();

    // These clients share this process's event loop with the server, which blocks it while it starts threads or
    // processes: a generous idle timeout keeps that stall from closing clients that have not written yet.
    const busy = await withServer(t, model, { workers: 8, idleTimeoutMs: 60_000 });
    const many = await Promise.all(Array.from({ length: 50 }, () => exchange(busy.url, 'GET / HTTP/1.0\r\n\r\n', { timeoutMs: 60_000 })));
    assert.equal(many.filter((one) => one.bytes.equals(r.get)).length, 50);
    await busy.close();
    await assertBackTo(before, model.name);
  });

  test(`${model.name}: close() wakes threads blocked on silent clients and ends them at once`, async (t) => {
    const before = baseline();
    const server = await withServer(t, model, { idleTimeoutMs: 30_000, workers: 4 });
    const silent = await Promise.all(Array.from({ length: 3 }, () => openSilent(server.url)));
    await new Promise((r) => setTimeout(r, 300)); // let each reach its thread or process
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 20_000, `close() took ${Date.now() - started} ms with silent clients whose idle timeout is 30 s`);
    for (const socket of silent) socket.destroy();
    await assertBackTo(before, model.name);
  });
}

for (const model of [threads, processes]) {
  test(`${model.name}: at the live cap, a connection waits in the accept queue instead of failing`, async (t) => {
    const server = await withServer(t, model, { maxLive: 1 });
    assert.ok(
      server.notes.some((n) => n.includes('at most 1 live')),
      server.notes.join('; '),
    );
    const silent = await openSilent(server.url); // takes the only thread or process until the idle timeout
    await new Promise((r) => setTimeout(r, 100));
    const waited = await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n', { timeoutMs: 20_000 });
    assert.ok(waited.bytes.equals(buildResponses().get));
    assert.ok(waited.closedAfterMs >= IDLE_MS * 0.5, `answered after ${waited.closedAfterMs} ms, before the silent client timed out`);
    silent.destroy();
  });
}

test('thread-pool: the pool size is the workers option, and its threads live as long as the server', async (t) => {
  const before = taskCount();
  const server = await withServer(t, threadPool, { workers: 3 });
  assert.ok(server.notes.includes('a pool of 3 threads'), server.notes.join('; '));
  await Promise.all(Array.from({ length: 30 }, () => exchange(server.url, 'GET / HTTP/1.0\r\n\r\n')));
  assert.equal(taskCount(), before + 3, 'three pool threads, no thread per connection');
});

test('processes: each connection is served by a child process of its own, gone once it is served', async (t) => {
  const server = await withServer(t, processes);
  const silent = await openSilent(server.url);
  assert.ok(await eventually(() => liveChildren().length === 1), `children: ${JSON.stringify(children())}`);
  silent.write('GET / HTTP/1.0\r\n\r\n');
  const bytes = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    silent.on('data', (d: Buffer) => chunks.push(d)).on('close', () => resolve(Buffer.concat(chunks)));
  });
  assert.ok(bytes.equals(buildResponses().get));
  assert.ok(await eventually(() => children().length === 0), 'the child exited and was reaped');
});

function openSilent(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.on('error', reject);
  });
}
