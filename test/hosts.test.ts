// Two hosts and more on this machine: `eventbench hosts up` (network namespaces, a bridge at MTU 1500, sshd in
// each), a server started in the server namespace through its agent over SSH, `load --agents` from two client
// namespaces over SSH, the faults (an unreachable host, no eventbench there, another version, an agent's ssh
// killed mid-load), and `hosts down` leaving nothing. Needs root, iproute2 and OpenSSH: a named skip elsewhere,
// a failure under EVENTBENCH_REQUIRE_ALL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../src/core/errors.js';
import { alive } from '../src/core/proc.js';
import { Reconnecting, RemoteServerHost } from '../src/host/remote.js';
import { AgentLinks, parseHostSpec, remoteCommandFor } from '../src/host/link.js';
import {
  hostsDown,
  namespacePids,
  namespacesUnavailable,
  ourNamespaces,
  parseRate,
  readState,
  RUNNER_LINK,
  shaping,
  STATE_DIR,
} from '../src/host/namespaces.js';
import type { LoadResult } from '../src/load/types.js';
import { cli } from './helpers/cli.js';
import { allProcesses, eventually, orphanCgroups } from './helpers/processes.js';
import { QUICK_RUN as QUICK } from './helpers/runner.js';
import { needs } from './helpers/optional.js';
import { OTHER_VERSION, otherVersion } from './helpers/other-version.js';
import { detectCgroup } from '../src/host/throttle.js';
import type { Point, RunInfo } from '../src/results/schema.js';

test('host specs, rates and shaping are checked before anything is made', () => {
  assert.deepEqual(parseHostSpec('ssh://bench@10.0.0.2:2222'), {
    kind: 'ssh',
    text: 'ssh://bench@10.0.0.2:2222',
    host: '10.0.0.2',
    user: 'bench',
    port: 2222,
  });
  assert.deepEqual(parseHostSpec('ssh://[::1]'), { kind: 'ssh', text: 'ssh://[::1]', host: '::1' });
  assert.deepEqual(parseHostSpec('local'), { kind: 'local', text: 'local' });
  for (const bad of ['10.0.0.2', 'http://10.0.0.2', 'ssh://a/b', 'ssh://u:pw@a']) {
    assert.throws(
      () => parseHostSpec(bad),
      (e: Error) =>
        e instanceof UsageError && e.message.startsWith(`--agents: got ${JSON.stringify(bad)}, expected local or ssh://[user@]host[:port]`),
    );
  }
  assert.equal(parseRate('1gbit'), 1e9);
  assert.equal(parseRate('100mbit'), 1e8);
  assert.throws(() => parseRate('fast'), /--rate: got "fast", expected a rate from 1kbit to 100gbit in tc's units/);
  assert.throws(() => parseRate('500gbit'), /--rate: got "500gbit"/);
  assert.deepEqual(shaping({ rate: '1gbit' }), ['tbf', 'rate', '1gbit', 'burst', '500000', 'latency', '50ms']);
  assert.deepEqual(shaping({ delayMs: 1, rate: '1gbit' }), ['netem', 'delay', '0.5ms', 'rate', '1gbit']);
  assert.equal(shaping({}), undefined);
  assert.equal(remoteCommandFor(parseHostSpec('ssh://192.0.2.7')), 'eventbench', 'a real host: eventbench on its PATH');
  const given = 'node /opt/eb/bin/eventbench.js';
  assert.equal(remoteCommandFor(parseHostSpec('ssh://192.0.2.7'), { remoteCommand: given }), given);
});

test('hosts and load --agents refuse bad input with one line each', async () => {
  const cases: [string[], RegExp][] = [
    [['hosts'], /^eventbench hosts: hosts: got "\(nothing\)", expected up, down or status/],
    [['hosts', 'up', '--clients', '0'], /--clients: got 0, the limit is 1 to 16/],
    [['hosts', 'down', '--rate', '1gbit'], /--rate: got "1gbit", belongs to `hosts up`, not `hosts down`/],
    [['hosts', 'up', '--rate', 'fast'], /--rate: got "fast", expected a rate from 1kbit to 100gbit/],
    [
      ['load', '--agents', 'local,local,local', '-c', '2', 'http://127.0.0.1:9/'],
      /--agents: got "3 agents", the limit is the load \(-c 2\)/,
    ],
    [['load', '--agents', 'local', '--engine', 'ab', 'http://127.0.0.1:9/'], /--engine: got "ab", is not available with --agents/],
    [['load', '--agents', 'local', '--rate', '100', 'http://127.0.0.1:9/'], /--rate: got "100", is not available with --agents/],
    [['load', '--remote-eventbench', 'x', 'http://127.0.0.1:9/'], /--remote-eventbench: got "x", belongs to --agents/],
    [
      ['load', '--agents', 'local,local', '-c', '3', '--workers', '2', 'http://127.0.0.1:9/'],
      /workers \(--workers\): got 2, the limit with 2 agents is each agent's share of -c \(1\)/,
    ],
  ];
  for (const [args, want] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, want);
  }
});

/** eventbench processes (agents, servers) running in these namespaces (every eb- one by default), as "pid cmdline". */
function eventbenchInNamespaces(namespaces = ourNamespaces()): string[] {
  return namespaces.flatMap(namespacePids).flatMap((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
      return cmd.includes('eventbench') ? [`${pid} ${cmd.slice(0, 100)}`] : [];
    } catch {
      return [];
    }
  });
}

const unavailable = namespacesUnavailable();
const skip = needs('network namespaces with sshd (root, iproute2, openssh-server)', unavailable);
test('hosts up --delay: netem where the kernel has it, else one line saying it has none, and nothing left', { skip }, async () => {
  try {
    const r = await cli(['hosts', 'up', '--clients', '1', '--delay', '1'], { timeoutMs: 60_000 });
    if (r.code === 0) {
      assert.match(execFileSync('tc', ['-n', 'eb-client1', 'qdisc', 'show', 'dev', 'eth0'], { encoding: 'utf8' }), /netem .*delay 500us/);
    } else {
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--delay: got 1, needs the netem qdisc, and this kernel has none /);
      assert.match(r.stderr, /\(`tc qdisc \.\.\. netem` answers "Specified qdisc kind is unknown"\)/);
      assert.deepEqual(ourNamespaces(), []);
      assert.equal(existsSync(`/sys/class/net/${RUNNER_LINK}`), false);
    }
  } finally {
    await hostsDown();
  }
});

describe('hosts on network namespaces, over SSH', { skip }, () => {
  const server = 'ssh://10.208.0.10';
  const clients = ['ssh://10.208.0.11', 'ssh://10.208.0.12'];
  let sshds: number[] = [];

  before(async () => {
    assert.deepEqual(ourNamespaces(), [], 'eb- namespaces exist already: run `eventbench hosts down` before the tests');
    const up = await cli(['hosts', 'up', '--clients', '2', '--rate', '1gbit'], { timeoutMs: 60_000 });
    assert.equal(up.code, 0, up.stderr);
    for (const url of [server, ...clients]) assert.ok(up.stdout.includes(url), up.stdout);
    sshds = readState()!.hosts.map((h) => Number(readFileSync(`${STATE_DIR}sshd-${h.name}.pid`, 'utf8')));
  });

  after(async () => {
    // Always, even when a test failed: nothing of the hosts may outlive the suite.
    const down = await cli(['hosts', 'down'], { timeoutMs: 60_000 });
    if (down.code !== 0) await hostsDown();
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(ourNamespaces(), []);
    assert.equal(existsSync(`/sys/class/net/${RUNNER_LINK}`), false);
    assert.equal(existsSync(STATE_DIR), false);
    assert.deepEqual(sshds.filter(alive), [], 'every sshd stopped');
    const again = await cli(['hosts', 'down']);
    assert.equal(again.stdout, 'Nothing to remove: no hosts were up.\n');
  });

  test('up: MTU 1500 links shaped by tbf, an sshd per host on its own address; up again says it is up', async () => {
    const link = execFileSync('ip', ['-n', 'eb-client1', '-o', 'link', 'show', 'eth0'], { encoding: 'utf8' });
    assert.match(link, /mtu 1500 qdisc tbf/);
    assert.match(execFileSync('ip', ['-n', 'eb-server', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' }), /inet 10\.208\.0\.10\/24/);
    assert.match(execFileSync('ip', ['-o', 'addr', 'show', RUNNER_LINK], { encoding: 'utf8' }), /inet 10\.208\.0\.1\/24/);
    assert.ok(sshds.length === 3 && sshds.every(alive));
    const again = await cli(['hosts', 'up', '--clients', '2', '--rate', '1gbit']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^The hosts are already up\./);
    const other = await cli(['hosts', 'up', '--clients', '3']);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /the hosts are already up with 2 clients, --rate 1gbit; run `eventbench hosts down` first/);
  });

  test("a server in the server host, loaded from two client hosts over SSH; an agent's ssh killed mid-load: one line", async () => {
    const links = new AgentLinks();
    try {
      const [agent] = await links.open([parseHostSpec(server)]);
      assert.deepEqual(agent!.hello!.ssh, { clientAddress: '10.208.0.1', serverAddress: '10.208.0.10' });
      const reopen = () => links.open([parseHostSpec(server)]).then(([l]) => l!);
      const host = new RemoteServerHost(new Reconnecting(agent!, reopen), '10.208.0.10');
      await host.setUp({ cpuShare: 0, periodMs: 10 });
      const spec = { name: 'events', family: 'typescript' as const, serveFlags: ['--port', '0'], backlog: 511, readyTimeoutMs: 30_000 };
      const s = await host.start(spec);
      assert.ok(s !== 'aborted' && 'id' in s, JSON.stringify(s));
      assert.equal(s.url.startsWith('http://10.208.0.10:'), true);
      assert.ok(
        eventbenchInNamespaces(['eb-server']).some((p) => p.includes(' serve events ')),
        'the server runs in the server namespace',
      );

      const args = ['load', '--agents', clients.join(','), '-c', '20'];
      const r = await cli([...args, '-n', '6000', '--trim', '500', '--json', s.url], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout) as LoadResult;
      assert.deepEqual(
        result.agents!.parts.map((p) => [p.host, p.concurrency, p.requests]),
        [
          [clients[0], 10, 3000],
          [clients[1], 10, 3000],
        ],
      );
      assert.equal(result.requestsStarted, 6000);
      assert.equal(result.errors.total, 0);
      assert.ok(result.requests > 3000, `${result.requests} kept`);
      assert.ok(Math.abs(result.measuredLoad - result.agents!.parts.reduce((a, p) => a + p.measuredLoad, 0)) < 1e-6);
      for (const p of result.agents!.parts) {
        assert.ok(p.clockBoundMs > 0 && p.clockBoundMs < 50, `${p.host}: clock bound ${p.clockBoundMs} ms`);
      }

      let cliPid = 0;
      const killed = cli([...args, '-t', '30', s.url], {
        timeoutMs: 120_000,
        onSpawn: (c) => {
          cliPid = c.pid!;
        },
      });
      // Mid-load: the server has closed many connections from each client host (its side holds their TIME-WAIT).
      const port = new URL(s.url).port;
      const served = (from: string) =>
        execFileSync('ip', ['netns', 'exec', 'eb-server', 'ss', '-Htan', 'state', 'time-wait', 'src', `10.208.0.10:${port}`, 'dst', from], {
          encoding: 'utf8',
        })
          .split('\n')
          .filter(Boolean).length;
      const before = [served('10.208.0.11'), served('10.208.0.12')];
      const loading = () => served('10.208.0.11') > before[0]! + 200 && served('10.208.0.12') > before[1]! + 200;
      assert.ok(await eventually(loading, 60_000), 'both clients loading');
      const ssh = allProcesses().filter((p) => p.ppid === cliPid && p.cmdline.startsWith('ssh ') && p.cmdline.includes('10.208.0.12'));
      assert.equal(ssh.length, 1, "the load's ssh to client2");
      process.kill(ssh[0]!.pid, 'SIGKILL');
      const k = await killed;
      assert.equal(k.code, 1);
      assert.equal(
        k.stderr,
        'eventbench load: ssh://10.208.0.12: the agent stopped before answering load: ssh was killed (SIGKILL); ' +
          'check that host and run again\n',
      );
      const inClients = () => eventbenchInNamespaces(['eb-client1', 'eb-client2']);
      assert.ok(await eventually(() => inClients().length === 0, 10_000), `no agent left in the client hosts: ${inClients().join('; ')}`);
      await host.tearDown();
    } finally {
      await links.closeAll();
    }
    assert.ok(
      await eventually(() => eventbenchInNamespaces().length === 0, 10_000),
      `no eventbench left in any namespace: ${eventbenchInNamespaces().join('; ')}`,
    );
  });

  test('faults over SSH, one line each naming the host: unreachable, no eventbench there', async () => {
    const unreachable = await cli(['load', '--agents', 'ssh://10.208.0.99', '-c', '1', '-n', '10', 'http://10.208.0.10:9/'], {
      timeoutMs: 60_000,
    });
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      new RegExp(
        '^eventbench load: ssh://10\\.208\\.0\\.99: ssh could not connect or log in ' +
          '\\(ssh: connect to host 10\\.208\\.0\\.99 port 22: (No route to host|Connection timed out)\\); check the address',
      ),
    );
    const missing = await cli(
      ['load', '--agents', clients[0]!, '--remote-eventbench', '/nonexistent/eventbench', '-c', '1', '-n', '10', 'http://10.208.0.10:9/'],
      { timeoutMs: 60_000 },
    );
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      new RegExp(
        '^eventbench load: ssh://10\\.208\\.0\\.11: no eventbench there: ' +
          '`/nonexistent/eventbench` was not found ' +
          '\\(.*No such file or directory\\); install eventbench \\S+ there \\(npm install -g eventbench@\\S+\\) or say how to start it',
      ),
    );
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    assert.deepEqual(eventbenchInNamespaces(), []);
  });

  test('an agent over SSH that stops answering misses its deadline: the session is cut and the agent killed on its host', async () => {
    const odd = fileURLToPath(new URL('./fixtures/odd-agent.js', import.meta.url));
    const links = new AgentLinks({ remoteCommand: `${process.execPath} ${odd} --stick server.exitReason` });
    try {
      const [link] = await links.open([parseHostSpec(clients[0]!)]);
      const agentPid = link!.hello!.pid;
      await assert.rejects(link!.request('server.exitReason', { args: ['s1'] }, 1000), {
        code: 'EB_HOST_DEADLINE',
        message:
          `${clients[0]}: no answer to server.exitReason within 1.0 s (the agent is stuck, its host overloaded, or the link ` +
          'half-open); stopped the agent and what it ran',
      });
      assert.ok(await eventually(() => !alive(agentPid), 15_000), 'the agent, stopped on its host, was killed there by its pid');
    } finally {
      await links.closeAll();
    }
    assert.deepEqual(eventbenchInNamespaces(), []);
  });

  test(
    'run --server-host in the server namespace over SSH: every server there, throttled there, listening on its address; ' +
      'its ssh killed mid-point: that point is measured again on a fresh link, the run goes on, and nothing is left in any namespace',
    async (t) => {
      const base = mkdtempSync(path.join(os.tmpdir(), 'eventbench-hosts-run-'));
      t.after(() => rmSync(base, { recursive: true, force: true }));
      const dir = path.join(base, 'r');
      let runner = 0;
      const onSpawn = (c: { pid?: number }) => {
        runner = c.pid!;
      };
      const run = cli([...QUICK, '-t', '1.5', '--server-host', server, '--out', dir], { timeoutMs: 180_000, onSpawn });
      // Every process of the namespaces while the run goes (the agents among them): the owners of its cgroups.
      const seen = new Set<number>();
      const look = setInterval(() => {
        for (const pid of ourNamespaces().flatMap(namespacePids)) seen.add(pid);
      }, 250);
      t.after(() => clearInterval(look));
      const children = (needle: string) => allProcesses().filter((p) => p.ppid === runner && p.cmdline.includes(needle));
      // The phase's resident load client starts with its first point: from then on a point is measuring.
      assert.ok(await eventually(() => runner > 0 && children(' load --lines').length > 0, 90_000), 'a point measuring');
      const ssh = children('10.208.0.10').filter((p) => p.cmdline.startsWith('ssh '));
      assert.equal(ssh.length, 1, "the agent's ssh");
      process.kill(ssh[0]!.pid, 'SIGKILL');
      const r = await run;
      clearInterval(look);
      assert.equal(r.code, 0, r.stderr);
      const kept = readFileSync(path.join(dir, 'points.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Point);
      // The point the kill broke was measured again on a fresh link (a new ssh session, a new agent), and says why.
      const retried = kept.filter((p) => p.retried !== undefined);
      assert.equal(retried.length, 1, JSON.stringify(kept.map((p) => [p.server, p.load, p.status, p.retried])));
      const killed = /^ssh:\/\/10\.208\.0\.10: the agent stopped before answering server\.\w+: ssh was killed \(SIGKILL\); check that/;
      assert.match(retried[0]!.retried!, killed);
      const at = (p: Point) => [p.server, p.load, p.status, new URL(p.result!.url).hostname];
      assert.deepEqual(kept.map(at).sort(), [
        ['async', 10, 'ok', '10.208.0.10'],
        ['async', 20, 'ok', '10.208.0.10'],
        ['events', 10, 'ok', '10.208.0.10'],
        ['events', 10, 'ok', '10.208.0.10'],
        ['events', 20, 'ok', '10.208.0.10'],
        ['events', 20, 'ok', '10.208.0.10'],
      ]); // events, the reference, on each side of async
      const info = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunInfo;
      assert.deepEqual(info.hosts!.path, { kind: 'namespaces', mtu: 1500, rate: '1gbit' });
      assert.deepEqual([info.hosts!.server.host, info.hosts!.server.address], [server, '10.208.0.10']);
      assert.equal(info.host.throttle.mechanism, detectCgroup().mechanism, 'the server host sees the cgroups this machine has');
      assert.ok(await eventually(() => eventbenchInNamespaces().length === 0, 10_000), eventbenchInNamespaces().join('; '));
      assert.ok(seen.size > 0);
      assert.deepEqual(orphanCgroups([...seen]), [], 'no cgroup left'); // its own: other test files run beside this one
    },
  );

  test('run --client-hosts over two client namespaces: each point split, one start, merged; the server in the third', async (t) => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'eventbench-hosts-run-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const dir = path.join(base, 'r');
    const r = await cli([...QUICK, '--servers', 'events', '--server-host', server, '--client-hosts', clients.join(','), '--out', dir], {
      timeoutMs: 180_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const kept = readFileSync(path.join(dir, 'points.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Point);
    assert.deepEqual(
      kept.map((p) => [p.load, p.status]),
      [
        [10, 'ok'],
        [20, 'ok'],
      ],
    );
    for (const p of kept) {
      const parts = p.result!.agents!.parts;
      assert.deepEqual(
        parts.map((a) => [a.host, a.concurrency]),
        [
          [clients[0], p.load / 2],
          [clients[1], p.load / 2],
        ],
      );
      assert.ok(
        parts.every((a) => a.clockBoundMs > 0 && a.clockBoundMs < 50),
        JSON.stringify(parts.map((a) => a.clockBoundMs)),
      );
      assert.equal(new URL(p.result!.url).hostname, '10.208.0.10');
    }
    const info = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunInfo;
    assert.deepEqual(
      info.hosts!.clients.map((c) => c.host),
      clients,
    );
    assert.ok(info.hosts!.clients.every((c) => c.clock!.boundMs > 0 && c.clock!.boundMs < 50));
    assert.ok(await eventually(() => eventbenchInNamespaces().length === 0, 10_000), eventbenchInNamespaces().join('; '));
  });

  test('doctor --host over SSH: the same checks as here; another version there, or an unreachable host, in one line', async () => {
    // Side by side: only their cgroup lines are compared, which their measurements of the client do not change.
    const [here, there] = await Promise.all([
      cli(['doctor', '--max-load', '100'], { timeoutMs: 60_000 }),
      cli(['doctor', '--host', server, '--max-load', '100'], { timeoutMs: 60_000 }),
    ]);
    assert.match(there.stdout, /^eventbench doctor on ssh:\/\/10\.208\.0\.10 \(.+, eventbench \S+\):\n/);
    const cgroup = (out: string) => /^(ok {2}|warn|FAIL) {2}cgroup CPU /m.exec(out)?.[1];
    assert.equal(cgroup(there.stdout), cgroup(here.stdout), there.stdout);
    const other = otherVersion();
    try {
      const r = await cli(['doctor', '--host', server, '--remote-eventbench', other.command], { timeoutMs: 60_000 });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `^eventbench doctor: ssh://10\\.208\\.0\\.10: runs eventbench ${OTHER_VERSION}, and this is ` +
            'eventbench \\S+: install \\S+ there \\(npm install -g eventbench@\\S+\\)',
        ),
      );
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      other.remove();
    }
    const out = path.join(os.tmpdir(), `eventbench-never-${process.pid}`);
    const unreachable = await cli([...QUICK, '--server-host', 'ssh://10.208.0.99', '--out', out], { timeoutMs: 60_000 });
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr
        .split('\n')
        .filter((l) => !l.startsWith('eventbench run: removed '))
        .join('\n'),
      /^eventbench run: ssh:\/\/10\.208\.0\.99: ssh could not connect or log in \(ssh: connect to host 10\.208\.0\.99 port 22: /,
    );
    assert.equal(existsSync(out), false, 'nothing made');
    assert.deepEqual(eventbenchInNamespaces(), []);
  });
});
