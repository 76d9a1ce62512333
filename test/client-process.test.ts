// The resident load client (src/host/client-process.ts): one `eventbench load --lines` process for every load of a
// phase, each load's result or why there is none, an abort that keeps what was measured, and nothing left after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResidentClient } from '../src/host/client-process.js';
import { alive } from '../src/core/proc.js';
import { BIN } from './helpers/cli.js';
import { withServer } from './helpers/load-suite.js';

test('one client process serves every load of a phase, answers each, stops on an abort, and is gone after stop()', async () => {
  const client = new ResidentClient([process.execPath, BIN, 'load', '--lines']);
  try {
    await withServer({ kind: 'ok' }, async (url) => {
      const a = await client.load(url, ['-c', '4', '-n', '200', '--json'], 30);
      assert.equal(a.result?.requestsCompleted, 200, a.error);
      const pid = client.pid!;
      const b = await client.load(url, ['-c', '2', '-n', '100', '--json'], 30);
      assert.equal(b.result?.requestsCompleted, 100, b.error);
      assert.equal(client.pid, pid, 'the same process measured both');
      const bad = await client.load(url, ['-c', '0', '--json'], 30);
      assert.match(bad.error ?? '', /concurrency \(-c\): got 0/, JSON.stringify(bad));
      assert.equal(client.pid, pid, 'a refused load leaves the client running');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const c = await client.load(url, ['-c', '2', '-t', '30', '--json'], 60, controller.signal);
      assert.deepEqual(c, { aborted: true });
      const d = await client.load(url, ['-c', '2', '-n', '50', '--json'], 30);
      assert.equal(d.result?.requestsCompleted, 50, 'the client goes on after an abort');
    });
  } finally {
    const pid = client.pid;
    await client.stop();
    assert.equal(pid !== undefined && alive(pid), false, 'stopped');
  }
});

test('a load past its limit is cut off with a line that says so, and the next load starts a fresh client', async () => {
  const client = new ResidentClient([process.execPath, BIN, 'load', '--lines']);
  try {
    await withServer({ kind: 'stall' }, async (url) => {
      const hung = await client.load(url, ['-c', '1', '-n', '1', '--timeout', '30', '--json'], 1);
      assert.match(hung.error ?? '', /the client ended without a result within 1 s/, JSON.stringify(hung));
    });
    await withServer({ kind: 'ok' }, async (url) => {
      const next = await client.load(url, ['-c', '1', '-n', '10', '--json'], 30);
      assert.equal(next.result?.requestsCompleted, 10, next.error);
    });
  } finally {
    await client.stop();
  }
});
