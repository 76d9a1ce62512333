// The load generator's behaviour on real sockets, for one transport: load.test.ts runs it with the default
// transport, epoll.test.ts with the epoll transport. Every figure and error kind must be the same whatever opens the
// connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { runLoad, LOAD_SCHEMA, PERCENTILES } from '../../src/load/index.js';
import { transport as pickTransport, type TransportChoice } from '../../src/load/transport.js';
import { tinyServer, closedPort, type Behaviour } from './tiny-server.js';
import { cli } from './cli.js';
import { trimFor } from '../../src/load/stats.js';

export async function withServer<T>(b: Behaviour, fn: (url: string, connections: () => number) => Promise<T>): Promise<T> {
  const s = await tinyServer(b);
  try {
    return await fn(s.url, s.connections);
  } finally {
    await s.close();
  }
}

/** Registers the suite for `transport` (undefined: the default), with `extra` transports in the first test. */
export function loadSuite(transport: TransportChoice | undefined, extra: TransportChoice[] = []): void {
  const t = transport === undefined ? {} : { transport };
  const flags = transport === undefined ? [] : ['--transport', transport];
  const label = transport === undefined ? '' : ` (${transport})`;
  const transports = [transport, ...extra];

  test(`makes exactly -n requests, one connection each${label}`, async () => {
    for (const transport of transports) {
      await withServer({ kind: 'ok' }, async (url, connections) => {
        const r = await runLoad({ ...t, url, concurrency: 7, requests: 503, trim: 10, transport });
        assert.equal(r.transport, pickTransport(transport).name, 'the transport asked for, or the default');
        assert.equal(r.requestsStarted, 503);
        assert.equal(r.requestsCompleted, 503);
        assert.equal(connections(), 503);
        assert.equal(r.requests, 503 - 20);
        assert.equal(r.errors.total, 0);
        assert.equal(r.documentBytes, 305);
        assert.equal(r.statusCounts['200'], 503);
      });
    }
  });

  test(`trims by start order: slow first requests are dropped, not the fastest ones${label}`, async () => {
    // The first 4 requests take at least 300 ms; a busy 2-core machine can slow a normal one by tens of ms, not 300.
    const SLOW_MS = 300;
    await withServer({ kind: 'ok', slowFirst: 4, slowMs: SLOW_MS }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 1, requests: 200, trim: 4 });
      assert.equal(r.requests, 192);
      assert.ok(
        r.latencyMs.max < SLOW_MS,
        `max kept latency ${r.latencyMs.max} ms (median ${r.latencyMs.median} ms) should exclude the ${SLOW_MS} ms ramp-up`,
      );
    });
    await withServer({ kind: 'ok', slowFirst: 4, slowMs: SLOW_MS }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 1, requests: 200, trim: 0 });
      assert.ok(r.latencyMs.max >= SLOW_MS, `without trimming the slow start stays in: max ${r.latencyMs.max} ms`);
    });
  });

  test(`trim is lowered to a tenth when 2K exceeds half of N, and says so${label}`, async () => {
    assert.deepEqual(trimFor(10_000, 1000), { k: 1000 });
    const t = trimFor(3000, 1000);
    assert.equal(t.k, 300);
    assert.match(t.note!, /a tenth/);
    await withServer({ kind: 'ok' }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 5, requests: 100 });
      assert.equal(r.trim, 10);
      assert.equal(r.requests, 80);
      assert.ok(r.trimNote);
    });
  });

  test(`measured load is close to the offered load against a server that keeps up${label}`, async () => {
    // 100 ms per request: the client's own gaps between requests (well under a millisecond) are noise beside it.
    await withServer({ kind: 'ok', delayMs: 100 }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 10, requests: 200, trim: 20 });
      assert.ok(r.measuredLoad > 0.9 * 10 && r.measuredLoad <= 10.01, `l_m = ${r.measuredLoad}`);
      assert.ok(r.latencyMs.mean >= 100);
    });
  });

  test(`every error kind is counted, never thrown${label}`, async () => {
    const port = await closedPort();
    const refused = await runLoad({ ...t, url: `http://127.0.0.1:${port}/`, concurrency: 3, requests: 1000 });
    assert.ok(refused.errors.connect > 0 && refused.errors.connect === refused.errors.total);
    assert.equal(refused.stoppedEarly, 'server-gone', 'a closed port ends the run promptly');
    assert.ok(refused.requestsCompleted < 1000);

    await withServer({ kind: 'reset' }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 4, requests: 40, trim: 0 });
      assert.equal(r.errors.reset, 40);
    });
    await withServer({ kind: 'stall' }, async (url) => {
      const t0 = Date.now();
      const r = await runLoad({ ...t, url, concurrency: 3, requests: 6, timeoutS: 0.3, trim: 0 });
      assert.equal(r.errors.timeout, 6);
      // Two rounds of 0.3 s timeouts: 0.6 s; ten times that is a hang, not a slow machine.
      assert.ok(Date.now() - t0 < 6000, `6 timeouts of 0.3 s at concurrency 3 took ${Date.now() - t0} ms`);
    });
    await withServer({ kind: 'status', status: 500 }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 2, requests: 20, trim: 0 });
      assert.equal(r.errors.status, 20);
      assert.equal(r.statusCounts['500'], 20);
    });
    await withServer({ kind: 'length-change', every: 5 }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 1, requests: 50, trim: 0 });
      assert.equal(r.errors.length, 10, 'the first good response sets the length; every fifth differs');
      assert.equal(r.documentBytes, 305);
    });
    await withServer({ kind: 'reset' }, async (url) => {
      const r = await runLoad({ ...t, url, concurrency: 2, requests: 1000, bailout: 5, trim: 0 });
      assert.equal(r.stoppedEarly, 'bailout');
      assert.ok(r.errors.total >= 5 && r.errors.total < 50);
    });
  });

  test(`a server that dies mid-run ends the run promptly, errors counted${label}`, async () => {
    await withServer({ kind: 'die-after', requests: 300 }, async (url) => {
      const t0 = Date.now();
      const r = await runLoad({ ...t, url, concurrency: 10, requests: 1_000_000, trim: 0 });
      assert.ok(Date.now() - t0 < 10_000, `no hang: ${Date.now() - t0} ms after the server died at request 300`);
      assert.equal(r.stoppedEarly, 'server-gone');
      assert.ok(r.requestsCompleted >= 300 - 10 && r.requestsCompleted < 5000);
      assert.ok(r.errors.total > 0);
    });
  });

  test(`time-bound runs stop starting requests after -t${label}`, async () => {
    await withServer({ kind: 'ok', delayMs: 5 }, async (url) => {
      const t0 = Date.now();
      const r = await runLoad({ ...t, url, concurrency: 4, durationS: 0.5, trim: 0 });
      const took = Date.now() - t0;
      // Stops starting at 0.5 s and waits for the requests in flight (5 ms each): a hang would be many seconds.
      assert.ok(took >= 450 && took < 5000, `-t 0.5 took ${took} ms`);
      assert.ok(r.requestsCompleted > 50);
    });
  });

  test(`--workers splits the loop and merges records in start order${label}`, async () => {
    await withServer({ kind: 'ok' }, async (url, connections) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'eb-raw-'));
      try {
        const raw = path.join(dir, 'raw.csv');
        const r = await runLoad({ ...t, url, concurrency: 6, requests: 401, workers: 2, trim: 0, rawFile: raw });
        assert.equal(r.requestsCompleted, 401);
        assert.equal(connections(), 401);
        const lines = readFileSync(raw, 'utf8').trim().split('\n');
        assert.equal(lines.length, 402);
        assert.match(lines[0]!, /^index,start_us,/);
        const starts = lines.slice(1).map((l) => Number(l.split(',')[1]));
        assert.deepEqual(
          starts,
          [...starts].sort((a, b) => a - b),
          'start order',
        );
        const slots = new Set(lines.slice(1).map((l) => l.split(',')[9]));
        assert.equal(slots.size, 6);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  test(`--keepalive reuses connections${label}`, async () => {
    const server = http.createServer((_req, res) => res.end('x'.repeat(305)));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let connections = 0;
    server.on('connection', () => connections++);
    try {
      const { port } = server.address() as { port: number };
      const r = await runLoad({ ...t, url: `http://127.0.0.1:${port}/`, concurrency: 4, requests: 200, keepalive: true, trim: 0 });
      assert.equal(r.mode, 'keepalive');
      assert.equal(r.requestsCompleted, 200);
      assert.equal(r.errors.total, 0);
      assert.equal(connections, 4);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test(`the CLI: --json schema, text summary, bad input, Ctrl-C keeps the result${label}`, async () => {
    await withServer({ kind: 'ok' }, async (url) => {
      const json = await cli(['load', ...flags, '-c', '5', '-n', '300', '--json', url]);
      assert.equal(json.code, 0, json.stderr);
      const r = JSON.parse(json.stdout);
      assert.equal(r.schema, LOAD_SCHEMA);
      for (const key of ['concurrency', 'requests', 'durationS', 'throughputRps', 'measuredLoad', 'clientCpu', 'errors', 'environment'])
        assert.ok(key in r, key);
      for (const key of ['mean', 'median']) assert.equal(typeof r.latencyMs[key], 'number');
      for (const p of PERCENTILES) assert.equal(typeof r.latencyMs.percentiles[String(p)], 'number');
      for (const key of ['runtime', 'runtimeVersion', 'kernel', 'cpuModel']) assert.ok(r.environment[key], key);

      const text = await cli(['load', ...flags, '-c', '5', '-n', '300', url]);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /Requests per second:/);
      assert.match(text.stdout, /Measured load:\s+[\d.]+ of 5/);
      assert.equal(text.stderr, '', 'no progress chatter when stderr is not a terminal');
    });
    for (const [args, field] of [
      [['load', '-c', '0', 'http://127.0.0.1:1/'], /concurrency \(-c\): got 0/],
      [['load', '-c', '10', '-n', '5', 'http://127.0.0.1:1/'], /limit is the number of requests/],
      [['load', '-c', '1', 'ftp://127.0.0.1/'], /url: got "ftp:\/\/127.0.0.1\/", only http/],
      [['load', '--frobnicate', 'http://127.0.0.1:1/'], /"--frobnicate", is not a flag/],
    ] as const) {
      const bad = await cli([...args]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, field);
      assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line, no stack');
    }
    await withServer({ kind: 'ok', delayMs: 50 }, async (url, connections) => {
      // Interrupt once the run is under way (the CLI's start-up can take a while on a busy machine).
      const run = await cli(['load', ...flags, '-c', '4', '-t', '30', '--json', url], {
        onSpawn: (child) => {
          const poll = setInterval(() => {
            if (connections() >= 20) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 20);
          child.once('exit', () => clearInterval(poll));
        },
      });
      assert.equal(run.code, 130);
      const r = JSON.parse(run.stdout);
      assert.equal(r.stoppedEarly, 'aborted');
      assert.ok(r.requestsCompleted > 10);
    });
  });
}
