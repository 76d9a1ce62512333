// The kernel's memory of a server (src/host/memory-cgroup.ts): the v2 and /proc/meminfo readings from their real
// formats, and on this host a real memory cgroup charged for the sockets a real process opens, then removed.
// suite: alone (scripts/test.sh runs it by itself, after the others): it leaves a stale memory cgroup for the next
// run to remove, and any run would remove it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  createKernelMeter,
  hostKernel,
  memoryCgroupParent,
  parseStat,
  removeStaleMemoryCgroups,
  v2Kernel,
} from '../src/host/memory-cgroup.js';
import { needs } from './helpers/optional.js';

// The tests that make a memory cgroup are a named skip where none can be made (not root, no memory controller).
const found = memoryCgroupParent();
const skip = needs('a memory cgroup (root; cgroup v2, or v1 with kmem)', 'reason' in found ? found.reason : undefined);

// Lines as a 6.x kernel prints them (cgroup v2 memory.stat; /proc/meminfo), abridged.
const V2_STAT = [
  'anon 1204224',
  'file 0',
  'kernel 2891776',
  'kernel_stack 327680',
  'pagetables 118784',
  'sec_pagetables 0',
  'percpu 0',
  'sock 12288',
  'vmalloc 0',
  'shmem 0',
  'slab 2314352',
  '',
].join('\n');
const MEMINFO = [
  'MemTotal:       24683444 kB',
  'Slab:             210568 kB',
  'SReclaimable:     120000 kB',
  'KernelStack:        9360 kB',
  'PageTables:        12612 kB',
  '',
].join('\n');

test('cgroup v2 memory.stat: the kernel total (or its parts on a kernel without it) plus socket buffers', () => {
  const withTotal = v2Kernel(parseStat(V2_STAT));
  assert.equal(withTotal.bytes, 2891776 + 12288);
  assert.deepEqual(withTotal.parts, { kernelStack: 327680, pageTables: 118784, slab: 2314352, sock: 12288 });
  const older = v2Kernel(parseStat(V2_STAT.replace('kernel 2891776\n', '')));
  assert.equal(older.bytes, 327680 + 118784 + 2314352 + 12288, 'without `kernel`, its parts are summed');
});

test('/proc/meminfo: KernelStack + PageTables + Slab, kB made bytes; undefined when one is missing', () => {
  const host = hostKernel(parseStat(MEMINFO));
  const parts = { kernelStack: 9360 * 1024, pageTables: 12612 * 1024, slab: 210568 * 1024 };
  assert.deepEqual(host, { bytes: (9360 + 12612 + 210568) * 1024, parts });
  assert.equal(hostKernel(parseStat('MemTotal: 1 kB\n')), undefined);
});

test('a memory cgroup is charged for the sockets its process opens, and is removed', { skip }, async (t) => {
  const where = memoryCgroupParent();
  if ('reason' in where) assert.fail(`no memory cgroup can be made here: ${where.reason}`);
  const meter = createKernelMeter();
  t.after(() => meter.remove());
  assert.equal(meter.source, where.source);
  // A process that waits for a line, then opens 2000 socket pairs and says so, and holds them until stdin closes.
  const script = `process.stdin.once('data', () => { const net = require('node:net'); const s = [];
    const srv = net.createServer((c) => s.push(c)).listen(0, '127.0.0.1', () => { let n = 0;
      const done = () => { if (++n === 1000) setTimeout(() => console.log('open'), 200); };
      for (let i = 0; i < 1000; i++) s.push(net.connect(srv.address().port, '127.0.0.1', done)); }); });
    process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  meter.add([child.pid!]);
  const before = meter.read();
  assert.ok(before, 'the cgroup can be read');
  const opened = new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  child.stdin!.write('go\n');
  await opened;
  const after = meter.read()!;
  const perSocket = (after.bytes - before.bytes) / 2000;
  // A socket costs its struct sock, file, inode and dentry: about 2 to 4 KiB on x86-64 Linux 6.x.
  const said = `${Math.round(perSocket)} B of kernel memory per socket (${before.bytes} to ${after.bytes})`;
  assert.ok(perSocket > 500 && perSocket < 64 * 1024, said);
  child.stdin!.end();
  await new Promise((resolve) => child.once('exit', resolve));
  meter.remove();
  assert.equal(existsSync(meter.path!), false, 'the cgroup folder is gone');
});

test("a memory cgroup left by a killed run (its pid gone) is removed by the next run's sweep", { skip }, (t) => {
  const where = memoryCgroupParent();
  if ('reason' in where) assert.fail(`no memory cgroup can be made here: ${where.reason}`);
  // Pids never exceed 2^22 on Linux: this owner cannot be alive.
  const stale = path.join(where.parent, 'eventbench-memory-99999999-1');
  mkdirSync(stale);
  t.after(() => {
    if (existsSync(stale)) removeStaleMemoryCgroups();
  });
  const said = removeStaleMemoryCgroups();
  assert.equal(existsSync(stale), false);
  assert.ok(
    said.some((line) => line.includes(stale) && line.includes('99999999')),
    said.join('\n'),
  );
});
