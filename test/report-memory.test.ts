// The memory report (src/report/memory.ts): the kernel's cost per connection beside the user-space one and their
// sum, the claim restated with the kernel counted, and a run stored before the kernel was measured (eventbench.memory/1)
// still read and rendered without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MEMORY_FILE, MEMORY_SCHEMA, type MemoryLevel, type MemoryRun, type MemoryServer } from '../src/experiments/memory.js';
import { memoryMarkdown, readMemoryRun } from '../src/report/memory.js';
import { memoryClaim } from '../src/report/memory-claim.js';
import type { KernelSource } from '../src/host/memory-cgroup.js';

const hostWide = (source: KernelSource) => (source === 'host' ? { hostWide: 'no memory cgroup is mounted' } : {});

/** A server measured at 0..3000 connections costing `user` and `kernel` bytes each (no kernel: a /1 server). */
function server(name: string, user: number, kernel?: { bytes: number; source: KernelSource }): MemoryServer {
  const levels: MemoryLevel[] = [0, 1000, 2000, 3000].map((connections) => ({
    connections,
    memoryBytes: 4e6 + user * connections,
    measure: 'rss',
    processes: 1,
    threads: 1,
    settled: true,
    ...(kernel ? { kernel: { bytes: 1e5 + kernel.bytes * connections, parts: {} } } : {}),
  }));
  const fit = (slope: number, intercept: number) => ({ bytesPerConnection: slope, interceptBytes: intercept, r: 1, n: 4 });
  return {
    server: name,
    family: 'native',
    status: 'ok',
    levels,
    measurable: true,
    fit: fit(user, 4e6),
    ...(kernel ? { kernel: { source: kernel.source, ...hostWide(kernel.source), measurable: true, fit: fit(kernel.bytes, 1e5) } } : {}),
  };
}

function run(schema: MemoryRun['schema'], servers: MemoryServer[]): MemoryRun {
  return {
    schema,
    startedAt: '2026-01-02T03:04:05.000Z',
    environment: { kernel: '6.18', cpuModel: 'test cpu' } as MemoryRun['environment'],
    levels: [0, 1000, 2000, 3000],
    budgetBytes: 2 ** 30,
    idleTimeoutS: 3600,
    quick: false,
    servers,
  };
}

test('the kernel column sits beside user space, with the sum, and the claim is restated with the kernel counted', () => {
  const r = run(MEMORY_SCHEMA, [
    server('native-epoll', 8270, { bytes: 3900, source: 'cgroup-v1' }),
    server('native-pthreads', 12574, { bytes: 26800, source: 'cgroup-v1' }),
  ]);
  const md = memoryMarkdown(r);
  assert.match(md, /\| kernel bytes\/connection \| user \+ kernel \|/);
  assert.match(md, /\| native-epoll \| events \| 8\.1 KiB \| 1\.000 \| 3\.8 KiB \(r 1\.000\) \| 11\.9 KiB \|/);
  assert.match(md, /\| native-pthreads \| threads \| 12\.3 KiB \| 1\.000 \| 26\.2 KiB \(r 1\.000\) \| 38\.5 KiB \|/);
  assert.match(md, /from a memory cgroup made for the server's processes \(cgroup v1: kmem and kmem\.tcp\)/);
  assert.match(memoryClaim(r).text, /Confirmed here: .* With the kernel's memory counted too: 11\.9 KiB \(1 event servers\) against 38\.5/);
});

test('a host-wide kernel figure is shown and flagged, but never added to the user-space one', () => {
  const r = run(MEMORY_SCHEMA, [
    server('native-epoll', 8270, { bytes: 7000, source: 'host' }),
    server('native-pthreads', 12574, { bytes: 30000, source: 'host' }),
  ]);
  const md = memoryMarkdown(r);
  assert.match(md, /\| 6\.8 KiB \(r 1\.000, host-wide\) \| — \|/);
  assert.match(md, /host-wide, from \/proc\/meminfo .* it also counts the client's own sockets/);
  assert.doesNotMatch(memoryClaim(r).text, /kernel/);
});

test('a run stored before the kernel was measured (eventbench.memory/1) is still read and rendered', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eventbench-report-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const old = run('eventbench.memory/1', [server('events', 3696), server('native-pthreads', 12574)]);
  writeFileSync(path.join(dir, MEMORY_FILE), JSON.stringify(old));
  const md = memoryMarkdown(readMemoryRun(dir));
  assert.match(md, /\| events \| events \| 3\.6 KiB \| 1\.000 \| — \| — \|/);
  assert.doesNotMatch(md, /The kernel's memory/);
  writeFileSync(path.join(dir, MEMORY_FILE), JSON.stringify({ ...run(MEMORY_SCHEMA, []), schema: 'eventbench.memory/9' }));
  assert.throws(
    () => readMemoryRun(dir),
    /schema is "eventbench\.memory\/9", this eventbench reads "eventbench\.memory\/2" and "eventbench\.memory\/1"/,
  );
});
