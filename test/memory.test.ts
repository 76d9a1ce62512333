// The memory experiment on a real server whose cost per connection is known: the fit must recover it within 20%,
// and the kernel's part is measured beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runMemory } from '../src/experiments/memory-run.js';
import { judgeMemory, MEMORY_FILE, MEMORY_SCHEMA, type MemoryLevel, type MemoryRun } from '../src/experiments/memory.js';
import { memoryCgroupParent } from '../src/host/memory-cgroup.js';
import type { ServerModel } from '../src/servers/types.js';

const HELPER = fileURLToPath(new URL('./helpers/memory-server.js', import.meta.url));
const PER_CONNECTION = 256 * 1024;

test('the fit recovers a known cost per connection within 20%', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eventbench-memory-'));
  try {
    const model = {
      name: 'fixed-buffer',
      family: 'typescript',
      summary: 'test helper',
      available: async () => ({ ok: true }),
      start: () => {
        throw new Error('not used');
      },
    } as unknown as ServerModel;
    const run = await runMemory({
      servers: [model],
      levels: [0, 100, 200, 400],
      budgetBytes: 2 ** 30,
      idleTimeoutS: 3600,
      settleMaxMs: 2000,
      quick: true,
      dir,
      serverArgv: () => [process.execPath, HELPER, String(PER_CONNECTION)],
    });
    const [result] = run.servers;
    assert.equal(result?.status, 'ok', result?.reason);
    assert.deepEqual(
      result.levels.map((l) => l.connections),
      [0, 50, 100, 200, 400],
    );
    assert.equal(result.measurable, true, result.why);
    const slope = result.fit!.bytesPerConnection;
    assert.ok(
      Math.abs(slope - PER_CONNECTION) <= 0.2 * PER_CONNECTION,
      `fit ${Math.round(slope)} B/connection, expected ${PER_CONNECTION} ± 20%`,
    );
    assert.ok(result.connectionsInBudget!.extrapolated);
    const stored = JSON.parse(readFileSync(path.join(dir, MEMORY_FILE), 'utf8')) as MemoryRun;
    assert.equal(stored.schema, MEMORY_SCHEMA);
    assert.equal(stored.servers[0]?.fit?.bytesPerConnection, slope);
    // The kernel's part: a socket's own structures, a few KiB (the buffer is user space). Host-wide figures, where
    // no memory cgroup can be made, move with everything else on the host: only their flag is checked.
    const kernel = result.kernel!;
    assert.ok(
      result.levels.every((l) => l.kernel !== undefined && l.kernel.bytes >= 0),
      'every level has a kernel figure',
    );
    const where = memoryCgroupParent();
    if ('reason' in where) {
      assert.equal(kernel.source, 'host');
      assert.match(kernel.hostWide ?? '', new RegExp(where.reason.replace(/[()]/g, '.')));
    } else {
      assert.equal(kernel.source, where.source);
      assert.equal(kernel.measurable, true, kernel.why);
      const perConnection = kernel.fit!.bytesPerConnection;
      assert.ok(perConnection > 500 && perConnection < 64 * 1024, `${Math.round(perConnection)} B of kernel memory per connection`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flat or scattered fit is "not measurable here", never a figure', () => {
  const level = (connections: number, memoryBytes: number): MemoryLevel => ({
    connections,
    memoryBytes,
    measure: 'rss',
    processes: 1,
    threads: 1,
    settled: true,
  });
  const falling = judgeMemory([level(0, 5e6), level(1000, 4.9e6), level(2000, 4.8e6)], 2 ** 30);
  assert.equal(falling.measurable, false);
  assert.match(falling.why!, /did not grow/);
  const scattered = judgeMemory([level(0, 5e6), level(1000, 9e6), level(2000, 4e6), level(5000, 8e6)], 2 ** 30);
  assert.equal(scattered.measurable, false);
  assert.match(scattered.why!, /below 0.9/);
  assert.equal(scattered.connectionsInBudget, undefined);
});
