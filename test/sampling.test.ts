// The sampler (src/host/sampling.ts) on real processes: a server's whole tree, its listen backlog, and the kernel's
// accept-queue counters moved by a real full queue.
// suite: alone (scripts/test.sh runs it by itself, after the others): it fills a real accept queue, which a busy
// machine's scheduling changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { sampleProcesses, listenCounters, backlogOnPort } from '../src/host/sampling.js';
import { killTree, processTree } from '../src/core/proc.js';
import { startTiny } from './helpers/runner.js';

test('the sampler sees the whole tree, and the kernel counters and backlog are read', async (t) => {
  const { p, url } = startTiny(['--child', '--backlog', '77']);
  t.after(() => killTree(p.pid!, 'SIGKILL', process.pid));
  const port = Number(new URL(await url).port);
  const tree = processTree(p.pid!);
  assert.equal(tree.length, 2);
  const s = sampleProcesses(tree);
  assert.equal(s.processes, 2);
  assert.ok(s.threads >= 2 && s.rssBytes > 20e6);
  assert.equal(sampleProcesses(tree, p.pid).processes, 1, 'the wrapper pid is left out of memory and counts');
  assert.equal(backlogOnPort(port, 77), 77);
});

test('the accept-queue counters are read for real: a full queue shows as overflows, an unreadable file as undefined', async (t) => {
  assert.equal(listenCounters('/nonexistent/netstat'), undefined, 'unreadable is visible, not zeros');
  const { p, url } = startTiny(['--backlog', '1']);
  t.after(() => killTree(p.pid!, 'SIGKILL', process.pid));
  const port = Number(new URL(await url).port);
  const before = listenCounters();
  assert.ok(before, '/proc/net/netstat is readable here');
  // A stopped server accepts nothing: once its queue of 2 is full, the kernel drops further handshakes.
  p.kill('SIGSTOP');
  const sockets = Array.from({ length: 12 }, () => net.connect({ host: '127.0.0.1', port }).on('error', () => {}));
  t.after(() => {
    for (const s of sockets) s.destroy();
    p.kill('SIGCONT');
  });
  const grew = () => {
    const now = listenCounters();
    return now ? now.overflows - before.overflows : 0;
  };
  const deadline = Date.now() + 3000;
  while (grew() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(grew() >= 1, `ListenOverflows grew by ${grew()} while 12 clients knocked on a stopped server with backlog 1`);
});
