// The load client's epoll transport (src/load/epoll.ts): the whole load suite run through it, the same records and
// figures as the other transports, and what only a transport of its own can get wrong: descriptors left open,
// Node's own timers still running while it polls (its open loop kept on schedule: test/open-loop.test.ts, which
// times it alone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { runLoad } from '../src/load/index.js';
import { AUTO_ORDER, autoTransport, transport, transportMissing } from '../src/load/transport.js';
import type { TransportSink } from '../src/load/transport.js';
import { loadSuite, withServer } from './helpers/load-suite.js';
import { cli } from './helpers/cli.js';
import { tcpSocketRows } from '../src/core/sockets.js';

loadSuite('epoll', ['auto']);

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

test('epoll: runs here, and auto takes it first', () => {
  assert.equal(transportMissing('epoll'), undefined);
  assert.equal(AUTO_ORDER[0], 'epoll');
  assert.deepEqual(autoTransport().name, 'epoll');
  assert.match(autoTransport().why, /first of epoll, tcp_wrap, net/);
});

test('epoll: no descriptor is left open, whatever the requests met', async () => {
  await runLoad({ url: 'http://127.0.0.1:1/', concurrency: 2, requests: 10, transport: 'epoll' }); // the epoll set, made once
  const before = openDescriptors();
  for (const kind of ['ok', 'reset', 'stall'] as const) {
    await withServer({ kind }, async (url) => {
      await runLoad({ url, concurrency: 20, requests: 400, trim: 0, timeoutS: 0.2, transport: 'epoll' });
    });
  }
  await withServer({ kind: 'ok', delayMs: 200 }, async (url) => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const r = await runLoad({ url, concurrency: 30, requests: 1000, signal: stop.signal, transport: 'epoll' });
    assert.equal(r.stoppedEarly, 'aborted', 'the abort signal is heard while the transport polls');
  });
  assert.equal(openDescriptors(), before);
});

test('epoll: a connection opened while a wake-up is told connects after it; one that cannot is told on its own handle', async () => {
  await withServer({ kind: 'ok' }, async (url) => {
    const { hostname, port } = new URL(url);
    const t = transport('epoll');
    const heard: string[] = [];
    const names = new Map<object, string>();
    const sink = (name: string): TransportSink => ({
      connected: (conn) => {
        heard.push(`${name} connected`);
        assert.equal(conn, handle(name));
        t.write(conn, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
        if (name !== 'first') return;
        // Both opened in the middle of a wake-up: their connect(2) waits for its end. A broadcast address fails at
        // once in connect(2) (ENETUNREACH, no packet sent): told at the next poll, to the handle connect() returned.
        const before = toServer();
        names.set(t.connect('255.255.255.255', 80, sink('unreachable')), 'unreachable');
        names.set(t.connect(hostname, Number(port), sink('second')), 'second');
        assert.equal(toServer(), before, 'no connection made to the server before the wake-up is told');
      },
      data: () => {},
      ended: (conn, errno, whileConnecting) => {
        heard.push(`${names.get(conn)} ended ${errno < 0 ? 'failed' : 'ok'}${whileConnecting ? ' connecting' : ''}`);
        t.close(conn);
      },
    });
    const handle = (name: string) => [...names].find(([, n]) => n === name)?.[0];
    // Client sockets with the server's port as their remote end (a socket not yet connected has no row).
    const remote = `:${Number(port).toString(16).toUpperCase().padStart(4, '0')}`;
    const toServer = () => tcpSocketRows().filter((row) => row[2]!.endsWith(remote)).length;
    const before = openDescriptors();
    names.set(t.connect(hostname, Number(port), sink('first')), 'first');
    for (const endMs = performance.now() + 5000; heard.length < 5 && performance.now() < endMs; ) {
      t.poll!(performance.now() + 5, false);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(heard.sort(), [
      'first connected',
      'first ended ok',
      'second connected',
      'second ended ok',
      'unreachable ended failed connecting',
    ]);
    assert.equal(openDescriptors(), before);
  });
});

test('epoll: the records are the same as tcp_wrap gives, field for field', async () => {
  await withServer({ kind: 'ok', delayMs: 2 }, async (url) => {
    const [e, w] = [
      await runLoad({ url, concurrency: 5, requests: 300, trim: 0, transport: 'epoll' }),
      await runLoad({ url, concurrency: 5, requests: 300, trim: 0, transport: 'tcp_wrap' }),
    ];
    for (const r of [e, w]) {
      assert.equal(r.requestsCompleted, 300);
      assert.equal(r.errors.total, 0);
      assert.equal(r.bytesReceived, e.bytesReceived);
      assert.equal(r.documentBytes, 305);
      assert.ok(r.measuredLoad > 4 && r.measuredLoad <= 5.01, `l_m ${r.measuredLoad}`);
      // Each request waits 2 ms in the server (a Node timer: 1 to 2 ms), timed on the same clock by either transport.
      assert.ok(r.latencyMs.min >= 1 && r.phasesMs.connect.mean < r.latencyMs.mean, `${r.transport}: ${JSON.stringify(r.phasesMs)}`);
    }
  });
});

test('epoll: --transport is refused where it does not belong, in one line', async () => {
  for (const [args, message] of [
    [['--transport', 'uv'], /transport \(--transport\): got "uv", expected one of auto, epoll, tcp_wrap, net/],
    [['--transport', 'epoll', '--engine', 'ab'], /is the eventbench engine's connection layer/],
  ] as const) {
    const bad = await cli(['load', '-c', '1', '-n', '1', ...args, 'http://127.0.0.1:1/']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, message);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  }
});
