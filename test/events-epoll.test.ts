// events-epoll beyond the conformance suite (servers.test.ts runs that): what a loop over the system calls itself
// can get wrong and net.Socket would not. Hostile and malformed requests in bulk, resets and half-closes; a page
// too large for one write (the WRITING state and its EPOLLOUT), read slowly, never read, or abandoned; and after all
// of it: still serving, not one descriptor more than before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { killTree } from '../src/core/proc.js';
import { descriptorCount } from '../src/check/checks.js';
import { settledCount } from './helpers/processes.js';
import { exchange, status } from '../src/check/http.js';
import { serveForCheck, stopServed, type Served } from '../src/check/target.js';
import { MAX_PAGE_BYTES, buildResponses } from '../src/servers/page.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withServed(idleS: number, args: string[], fn: (s: Served) => Promise<void>): Promise<void> {
  const served = await serveForCheck('events-epoll', ['--idle-timeout', String(idleS), ...args]);
  try {
    await fn(served);
    const stopped = await stopServed(served);
    assert.equal(stopped.status, 'pass', stopped.reason);
  } finally {
    killTree(served.pid, 'SIGKILL', process.pid);
  }
}

/** The descriptor count once every connection is gone: two looks 200 ms apart agree, within 3 s. */
const settled = (pid: number): Promise<number> => settledCount(() => descriptorCount(pid));

/** Seeded bytes, so that a failure repeats. */
function garbage(seed: number, length: number): Buffer {
  let x = seed;
  return Buffer.from(
    Array.from({ length }, () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x & 0xff;
    }),
  );
}

/** Hostile requests: each must get a 4xx (or a close), never a 200 it did not ask for, never a hang or a crash. */
const HOSTILE: (string | Buffer)[] = [
  '\r\n\r\n',
  '\n\n',
  'GET\r\n\r\n',
  'GET /\r\n\r\n',
  'GET / HTTP/1.0 extra\r\n\r\n',
  'GET  / HTTP/1.0\r\n\r\n',
  'get / HTTP/1.0\r\n\r\n',
  'GET / HTTP/x.y\r\n\r\n',
  'GET * HTTP/1.0\r\n\r\n',
  'GET http://example.com/ HTTP/1.0\r\n\r\n',
  'POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello',
  'G\0T / HTTP/1.0\r\n\r\n',
  `GET /${'a'.repeat(9000)} HTTP/1.0\r\n\r\n`,
  `GET / HTTP/1.0\r\n${'X: y\r\n'.repeat(3000)}\r\n`,
  'GET /../../etc/passwd HTTP/1.0\r\n\r\n',
  'GET /%00 HTTP/1.0\r\n\r\n',
  Buffer.from([0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a]),
  ...Array.from({ length: 40 }, (_, i) => Buffer.concat([garbage(i + 1, 50 + 97 * i), Buffer.from('\r\n\r\n')])),
];

test('events-epoll: hostile and malformed requests get a 4xx or a close, and leave no descriptor behind', async () => {
  await withServed(0.5, [], async (s) => {
    const get = () => exchange(s, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(status((await get()).data), 200);
    const before = await settled(s.pid);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(HOSTILE.map((r) => exchange(s, r)));
      answers.forEach((a, i) => {
        const code = a.data.length > 0 ? status(a.data) : 0;
        assert.ok(a.end !== 'timeout', `request ${i} hung`);
        assert.ok(code === 0 || (code >= 400 && code < 500), `request ${i}: status ${code}`);
      });
      // Resets mid-request, half a head then a half-close, a connection opened and dropped, a garbage trickle.
      await Promise.all([
        ...Array.from({ length: 30 }, (_, i) => resetAfter(s, `GET / HTTP/1.0\r\nX-${i}: `)),
        ...Array.from({ length: 10 }, () => exchange(s, 'GET / HTTP/1.0\r\nHost:', { halfClose: true })),
        ...Array.from({ length: 10 }, () => exchange(s, undefined, { timeoutMs: 50 })),
      ]);
    }
    assert.equal(status((await get()).data), 200, 'still serving');
    assert.equal(await settled(s.pid), before, 'descriptors before and after');
  });
});

test('events-epoll: a page too large for one write is written as the client reads, and closed when it stops', async () => {
  const pageBytes = MAX_PAGE_BYTES; // more than the socket buffers of both ends hold: the write must wait
  const whole = buildResponses(pageBytes).get.length;
  const idleS = 1;
  await withServed(idleS, ['--page-bytes', String(pageBytes)], async (s) => {
    const before = await settled(s.pid);
    // A slow reader: pauses after each of its first reads (the server's write fills the buffers and waits), then
    // reads the rest at once; the server hears from it well within its idle timeout.
    const slow = await readSlowly(s, 'GET / HTTP/1.0\r\n\r\n', 100, 4);
    assert.equal(slow.length, whole, 'the whole response, written in parts as the client read');
    // A client that never reads: the send buffers fill, the server waits on EPOLLOUT, then the idle timeout closes it.
    const stuck = net.connect({ host: s.host, port: s.port });
    stuck.on('error', () => {});
    stuck.write('GET / HTTP/1.0\r\n\r\n');
    stuck.pause();
    // A client that asks and leaves: the write fails (EPIPE or ECONNRESET) and the connection is closed.
    await Promise.all(Array.from({ length: 5 }, () => resetAfter(s, 'GET / HTTP/1.0\r\n\r\n', 20)));
    await sleep(idleS * 1000 * 3);
    assert.equal(await settled(s.pid), before, 'the idle timeout closed the connection whose client never read');
    stuck.destroy();
    assert.equal((await exchange(s, 'GET / HTTP/1.0\r\n\r\n', { timeoutMs: 10_000 })).data.length, whole);
    assert.equal(await settled(s.pid), before, 'descriptors before and after');
  });
});

/** Writes `request`, waits `afterMs`, then resets the connection (RST: SO_LINGER 0). */
function resetAfter(to: { host: string; port: number }, request: string, afterMs = 0): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: to.host, port: to.port }, () => {
      socket.write(request);
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, afterMs);
    });
    socket.on('error', () => resolve());
  });
}

/** Reads the whole answer, pausing `pauseMs` after each of its first `slowReads` reads; resolves with its bytes. */
function readSlowly(to: { host: string; port: number }, request: string, pauseMs: number, slowReads: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: to.host, port: to.port }, () => socket.write(request));
    socket.on('data', (d) => {
      chunks.push(d);
      if (chunks.length > slowReads) return;
      socket.pause();
      setTimeout(() => socket.resume(), pauseMs);
    });
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}
