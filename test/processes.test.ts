// `processes` stops its whole tree within its own grace: started by the runner's own session (pinned to nothing,
// under the run's quarter-core quota where cgroups are writable), flooded with connections, each of which starts a
// fresh Node, then stopped as a run stops it. A default run once found "processes left 32 process(es) behind after
// SIGTERM": the runner's kill by pid is a last resort, not the way a server ends its children.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { LocalServerHost, STOP_GRACE_MS } from '../src/host/local.js';
import { resolvePlan } from '../src/sweep/plan.js';
import { serverSpec, trialServer } from '../src/sweep/session.js';
import { detectCgroup } from '../src/host/throttle.js';
import { processTree } from '../src/core/proc.js';
import { childrenMatching } from './helpers/processes.js';
import { alive } from '../src/core/proc.js';
import { processes } from '../src/servers/processes.js';
import { needsModel } from './helpers/optional.js';

/** Keeps `clients` connections asking for the page, each replaced as soon as it ends, until stop() (at most `cap` in all). */
function flood(port: number, clients: number, cap: number): { stop(): void; opened(): number } {
  const sockets = new Set<net.Socket>();
  let stopped = false;
  let opened = 0;
  const open = () => {
    if (stopped || opened >= cap) return;
    opened++;
    const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.0\r\n\r\n'));
    sockets.add(c);
    c.on('error', () => {});
    c.on('data', () => {});
    c.on('close', () => {
      sockets.delete(c);
      open();
    });
  };
  for (let i = 0; i < clients; i++) open();
  return {
    stop() {
      stopped = true;
      for (const c of sockets) c.destroy();
    },
    opened: () => opened,
  };
}

const skip = await needsModel(processes);

test('processes under a flood of connections: SIGTERM ends every child within the grace, none left to kill by pid', { skip }, async (t) => {
  const { plan } = await resolvePlan({ servers: ['processes'], quick: true });
  // Under the run's quota where this host allows it: there the children starved the server of its stop.
  const host = new LocalServerHost();
  const { host: setUp } = await host.setUp({ cpuShare: detectCgroup().mechanism === 'none' ? 0 : 0.25, periodMs: 10 });
  t.after(() => host.tearDown());
  const started = await host.start(serverSpec(trialServer(processes), plan));
  assert.ok(typeof started === 'object' && 'url' in started, `started: ${JSON.stringify(started)}`);
  t.after(() => host.stop(started.id));
  const root = childrenMatching('serve processes')[0]!.pid;
  const load = flood(Number(new URL(started.url).port), 256, 5000);
  t.after(() => load.stop());
  await new Promise((r) => setTimeout(r, 2000));
  const tree = processTree(root);
  assert.ok(tree.length > 5, `the flood started children: ${tree.length} processes (${load.opened()} connections)`);
  const t0 = performance.now();
  const warnings = await host.stop(started.id);
  const tookMs = performance.now() - t0;
  load.stop();
  t.diagnostic(
    `throttle ${setUp.throttle.mechanism}; ${tree.length} processes, ${load.opened()} connections; ${tookMs.toFixed(0)} ms to stop`,
  );
  assert.deepEqual(warnings, [], 'nothing was left for the runner to kill');
  assert.ok(tookMs < STOP_GRACE_MS, `stopped in ${tookMs.toFixed(0)} ms, within the runner's grace of ${STOP_GRACE_MS} ms`);
  assert.deepEqual(
    tree.filter((pid) => alive(pid)),
    [],
    'every process of its tree is gone',
  );
});
