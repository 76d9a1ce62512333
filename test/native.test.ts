// The native toy servers (C, C++20, Go), compiled and run for real: byte-for-byte the responses of
// src/servers/page.ts for every request rule of src/servers/request.ts, the idle timeout, resets, no descriptor or
// process leaks, and a clean stop. (The shared conformance suite runs against them too.) go-nethttp is Go's own
// net/http: its headers and its answers to malformed requests are its own, so it is held to the status and the
// page's body, as a production server is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponses, MIN_PAGE_BYTES } from '../src/servers/page.js';
import { MAX_HEAD_BYTES } from '../src/servers/request.js';
import { nativeModels } from '../src/servers/native/index.js';
import type { RunningServer, ServeOptions, ServerModel } from '../src/servers/registry.js';
import { allProcesses, eventually, fdCount, fdTargets, groupProcesses, serverProcess, settledCount } from './helpers/processes.js';
import { exchange, resetAfter } from './helpers/raw-http.js';
import { conformances } from './helpers/conformance.js';
import { needsModel } from './helpers/optional.js';

const IDLE_MS = 400;
const options = (pageBytes: number): ServeOptions => ({ host: '127.0.0.1', port: 0, backlog: 511, pageBytes, idleTimeoutMs: IDLE_MS });

async function withServer(t: { after(fn: () => Promise<void>): void }, model: ServerModel, pageBytes: number): Promise<RunningServer> {
  const server = await model.start(options(pageBytes));
  t.after(() => server.close());
  return server;
}

// GNU Pth, State Threads, liburing, g++ and Go are Debian packages: without one, its rows are skipped by name.
const skip = new Map(await Promise.all(nativeModels.map(async (m) => [m.name, await needsModel(m)] as const)));

/**
 * Whether `got` is the answer `expected`: the same bytes, or for a model that answers with headers of its own
 * (net/http: ServerModel.conformance.ownBytes) the same status and body.
 */
function sameAnswer(model: string, got: Buffer, expected: Buffer): boolean {
  if (!nativeModels.find((m) => m.name === model)?.conformance?.ownBytes) return got.equals(expected);
  const status = (b: Buffer) => /^HTTP\/1\.[01] (\d{3}) /.exec(b.toString('latin1'))?.[1];
  const body = (b: Buffer) => b.subarray(b.indexOf('\r\n\r\n') + 4);
  return status(got) === status(expected) && (status(expected) !== '200' || body(got).equals(body(expected)));
}

for (const model of nativeModels) {
  const binaryName = `native/${model.name.replace(/^native-/, '')}-`;
  const needed = { skip: skip.get(model.name) ?? false };

  test(`${model.name}: compiles here`, needed, async () => {
    assert.deepEqual(await model.available(), { ok: true });
  });

  const answers = model.conformance?.ownBytes ? "page.ts's status, and its page's exact body" : "page.ts's exact bytes";
  test(`${model.name}: answers every request rule with ${answers}`, needed, async (t) => {
    for (const pageBytes of [305, MIN_PAGE_BYTES, 2_000_000]) {
      const server = await withServer(t, model, pageBytes);
      const r = buildResponses(pageBytes);
      const cases: [string, Buffer][] = [
        ['GET / HTTP/1.0\r\n\r\n', r.get],
        ['GET /index.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n', r.get],
        ['GET / HTTP/1.0\n\n', r.get],
        ['HEAD / HTTP/1.0\r\n\r\n', r.head],
        ['GET /nope HTTP/1.0\r\n\r\n', r[404]],
        ['POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi', r[405]],
        ['GET / HTTP/1.0 extra\r\n\r\n', r[400]],
        ['\x00\x01\x02 binary\r\n\r\n', r[400]],
        ['GET  / HTTP/1.0\r\n\r\n', r[400]],
        ['GET / HTTP/10\r\n\r\n', r[400]],
        ['GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n\r\n', r[431]],
        ['GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES * 3), r[431]],
      ];
      for (const [request, expected] of cases) {
        const { bytes } = await exchange(server.url, Buffer.from(request, 'latin1'));
        const got = JSON.stringify(bytes.subarray(0, 60).toString('latin1'));
        const what = `${model.name} page ${pageBytes}: ${JSON.stringify(request.slice(0, 30))}`;
        assert.ok(sameAnswer(model.name, bytes, expected), `${what} got ${got}`);
      }
      // A request split across writes is answered once it is whole.
      const split = await exchangeInPieces(server.url, ['GET /ind', 'ex.html HTTP/1.0\r', '\n\r\n']);
      assert.ok(sameAnswer(model.name, split, r.get));
      await server.close();
    }
  });

  test(`${model.name}: closes an idle client after the timeout, survives resets, leaks nothing`, needed, async (t) => {
    const server = await withServer(t, model, 305);
    const r = buildResponses(305);
    const main = serverProcess(binaryName);
    // Its steady descriptors, once it has served: go-nethttp prints its port (native/common.c) before Go's poller
    // opens its own three (an epoll set and a pipe), and holds a finished connection for 500 ms.
    assert.ok(sameAnswer(model.name, (await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n')).bytes, r.get));
    const fdsBefore = await settledCount(() => fdCount(main.pid), 700);
    const targetsBefore = fdTargets(main.pid).join(' ');

    const idle = await exchange(server.url, 'GET / HTTP/1.0\r\n', { end: false });
    assert.equal(idle.bytes.length, 0, 'an incomplete head gets no answer');
    assert.ok(idle.closedAfterMs >= IDLE_MS * 0.75 && idle.closedAfterMs < IDLE_MS + 2000, `closed after ${idle.closedAfterMs} ms`);

    for (let i = 0; i < 20; i++) await resetAfter(server.url, i % 2 ? 'GET / HT' : '\xff\xfe garbage');
    // 431 to a client that keeps its side open: it still receives the answer.
    const big = await exchange(server.url, 'GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES + 100), { end: false });
    assert.ok(sameAnswer(model.name, big.bytes, r[431]));

    // Many at once, all answered.
    const many = await Promise.all(Array.from({ length: 200 }, () => exchange(server.url, 'GET / HTTP/1.0\r\n\r\n')));
    for (const one of many) assert.ok(sameAnswer(model.name, one.bytes, r.get));

    // Generous: a cooperative server on a loaded 2-core machine may take seconds to reach its idle reaper.
    assert.ok(
      await eventually(() => fdCount(main.pid) === fdsBefore, 10_000),
      `descriptors: ${fdsBefore} before (${targetsBefore}), ${fdCount(main.pid)} after, 10 s later (${fdTargets(main.pid).join(' ')})`,
    );
    const zombies = () => allProcesses().filter((p) => p.ppid === main.pid && p.state === 'Z');
    assert.ok(await eventually(() => zombies().length === 0), `zombie children: ${zombies().length}`);

    await server.close();
    assert.deepEqual(groupProcesses(main.pid), [], 'every process of the server is gone after close()');
  });
}

test('native servers refuse bad command lines with the flag, the value and the limit', async () => {
  const { buildNative } = await import('../src/servers/native/build.js');
  const { execFile } = await import('node:child_process');
  const binary = await buildNative({ name: 'epoll', with: ['eventloop.c'], libraries: [] });
  const stderr = await new Promise<string>((resolve) => execFile(binary, ['--page-bytes', '10'], (_err, _out, err) => resolve(err)));
  assert.match(stderr, new RegExp(`--page-bytes: got "10", expected a whole number from ${MIN_PAGE_BYTES} to 16777216`));
});

function exchangeInPieces(url: string, pieces: string[]): Promise<Buffer> {
  return import('node:net').then(
    ({ default: net }) =>
      new Promise((resolve, reject) => {
        const { hostname, port } = new URL(url);
        const socket = net.connect({ host: hostname, port: Number(port) });
        const chunks: Buffer[] = [];
        socket.on('data', (d: Buffer) => chunks.push(d));
        socket.on('error', reject);
        socket.on('close', () => resolve(Buffer.concat(chunks)));
        socket.on('connect', async () => {
          for (const piece of pieces) {
            socket.write(piece);
            await new Promise((r) => setTimeout(r, 30));
          }
        });
      }),
  );
}

conformances(nativeModels.map((m) => [m.name, { skip: skip.get(m.name) ?? false }]));

test('a missing compiler or library is named with the Debian package that brings it', async () => {
  const { missing } = await import('../src/servers/native/build.js');
  const st = {
    name: 'st',
    libraries: ['-lst'],
    needs: { what: 'State Threads (st.h, libst)', header: 'st.h', library: 'st', debianPackage: 'libst-dev' },
  };
  assert.match(
    missing(st, '', true)?.message ?? '',
    /the C compiler \(cc\) is not available: install it with `(sudo )?apt-get install build-essential`/,
  );
  assert.match(
    missing(st, 'st.c:8:10: fatal error: st.h: No such file or directory', false)?.message ?? '',
    /State Threads .* `(sudo )?apt-get install libst-dev`/,
  );
  assert.match(missing(st, '/usr/bin/ld: cannot find -lst: No such file or directory', false)?.message ?? '', /libst-dev/);
  assert.equal(missing(st, 'st.c:20: error: expected ;', false), undefined, 'a real compile error is not blamed on a package');
  const coro = { name: 'coro', language: 'c++' as const, libraries: [] };
  const hint = (source: Parameters<typeof missing>[0], compiler: Parameters<typeof missing>[2]) =>
    missing(source, '', compiler)?.message ?? '';
  assert.match(hint(coro, true), /the C\+\+ compiler \(g\+\+\) is not available: install it with `(sudo )?apt-get install g\+\+`/);
  const go = { name: 'go-raw', language: 'go' as const, libraries: [] };
  assert.match(hint(go, true), /the Go compiler \(go\) is not available: install it with `(sudo )?apt-get install golang-go`/);
  assert.match(hint(go, 'cc'), /the C compiler \(cc\) .*build-essential/, 'cgo without a C compiler names it');
  const needs = { what: 'liburing (liburing.h)', header: 'liburing.h', library: 'uring', debianPackage: 'liburing-dev' };
  const uring = { name: 'uring', libraries: ['-luring'], needs };
  assert.match(missing(uring, 'uring.c:14:10: fatal error: liburing.h: No such file or directory', false)?.message ?? '', /liburing-dev/);
});

test('io_uring switched off by sysctl makes native-uring unavailable, naming the switch', async () => {
  const { ioUringAllowed } = await import('../src/servers/native/index.js');
  assert.deepEqual(
    ioUringAllowed(() => '0\n'),
    { ok: true },
  );
  assert.deepEqual(
    ioUringAllowed(() => {
      throw new Error('ENOENT');
    }),
    { ok: true },
    'a kernel without the switch allows it',
  );
  const off = ioUringAllowed(() => '2\n');
  assert.equal(off.ok, false);
  assert.match(off.ok ? '' : `${off.reason}; ${off.hint}`, /kernel\.io_uring_disabled = 2.*`(sudo )?sysctl kernel\.io_uring_disabled=0/);
});
