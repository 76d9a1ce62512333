// The agent and its local link: the JSON-lines protocol, a load split over local agents and merged, cancel and
// Ctrl-C (what was measured is kept), an agent killed mid-load, another eventbench version refused, and a server
// started through the agent and stopped when its input closes. Over SSH and namespaces: test/hosts.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { alive } from '../src/core/proc.js';
import { eventbenchVersion } from '../src/core/environment.js';
import type { AgentLoadAnswer, Hello } from '../src/host/protocol.js';
import { Reconnecting, RemoteClientHost, RemoteServerHost } from '../src/host/remote.js';
import { AgentLinks, parseHostSpec } from '../src/host/link.js';
import { decodeRecords } from '../src/load/records.js';
import type { LoadResult } from '../src/load/types.js';
import { BIN, cli } from './helpers/cli.js';
import { allProcesses, eventually } from './helpers/processes.js';
import { tinyServer } from './helpers/tiny-server.js';
import { otherVersion } from './helpers/other-version.js';

/** Sends lines to a fresh `eventbench agent` and collects its answers until its input closes and it exits. */
async function agentSession(lines: string[]): Promise<{ answers: Record<string, unknown>[]; code: number | null }> {
  const child = spawn(process.execPath, [BIN, 'agent'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stdin.end(lines.join('\n') + '\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    answers: out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
    code,
  };
}

test('agent: one JSON answer per request, with its id; bad lines get an error line; it exits when its input closes', async () => {
  const { answers, code } = await agentSession(['{"id":1,"cmd":"hello"}', '{"id":2,"cmd":"clock"}', '{"id":3,"cmd":"fly"}', 'not json']);
  assert.equal(code, 0);
  const byId = new Map(answers.map((a) => [a.id, a]));
  const hello = byId.get(1) as { ok: true; result: Pick<Hello, 'eventbenchVersion' | 'nodeVersion' | 'hostname' | 'kernel' | 'cpuModel'> };
  assert.equal(hello.ok, true);
  assert.equal(hello.result.eventbenchVersion, eventbenchVersion());
  assert.equal(hello.result.nodeVersion, process.version);
  assert.equal(hello.result.hostname, os.hostname());
  assert.ok(hello.result.kernel && hello.result.cpuModel);
  const clock = byId.get(2) as { ok: true; result: { monoMs: number; wallMs: number } };
  assert.ok(clock.result.monoMs > 0 && Math.abs(clock.result.wallMs - Date.now()) < 60_000);
  const fly = byId.get(3) as { ok: false; error: { code: string; message: string } };
  assert.equal(fly.ok, false);
  assert.equal(fly.error.code, 'EB_USAGE');
  assert.match(fly.error.message, /^agent cmd: got "fly", expected one of hello, clock, load, cancel, doctor, server\.environment, /);
  assert.match(fly.error.message, /, client\.load, client\.tearDown$/);
  assert.equal((byId.get(-1) as { ok: boolean }).ok, false);
});

test("load --agents local,local: the shares add up to -c and -n, one merged result with each agent's share and clock", async () => {
  const server = await tinyServer({ kind: 'ok' });
  try {
    const r = await cli(['load', '--agents', 'local,local', '-c', '5', '-n', '3001', '--trim', '100', '--json', server.url]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as LoadResult;
    assert.equal(result.schema, 'eventbench.load/3');
    assert.equal(result.concurrency, 5);
    assert.equal(result.requestsStarted, 3001);
    assert.equal(server.connections(), 3001);
    const parts = result.agents!.parts;
    assert.deepEqual(
      parts.map((p) => [p.host, p.concurrency, p.requests, p.trim]),
      [
        ['local', 3, 1501, 50],
        ['local', 2, 1500, 50],
      ],
    );
    assert.equal(result.trim, 100);
    assert.ok(Math.abs(result.measuredLoad - (parts[0]!.measuredLoad + parts[1]!.measuredLoad)) < 1e-6, "l_m is the sum of the agents'");
    assert.equal(result.requests, parts[0]!.requestsKept + parts[1]!.requestsKept);
    for (const p of parts) {
      assert.ok(p.clockBoundMs > 0 && p.clockBoundMs < 1000, `clock bound ${p.clockBoundMs} ms`);
      assert.equal(p.environment.eventbenchVersion, eventbenchVersion());
      assert.equal(typeof p.verdict.clientBound, 'boolean');
    }
    assert.ok(result.agents!.startSpreadLimitMs > 0);
  } finally {
    await server.close();
  }
});

test('load --agents: a local agent killed mid-load fails the load with one line naming it; Ctrl-C keeps what was measured', async () => {
  const server = await tinyServer({ kind: 'ok', delayMs: 2 });
  try {
    let cliPid = 0;
    const killed = cli(['load', '--agents', 'local,local', '-c', '4', '-t', '20', server.url], {
      onSpawn: (c) => {
        cliPid = c.pid!;
      },
    });
    const agentsOf = () => allProcesses().filter((p) => p.ppid === cliPid && p.cmdline.includes(' agent'));
    assert.ok(await eventually(() => agentsOf().length === 2 && server.connections() > 50, 20_000), 'two agents loading');
    const agents = agentsOf().map((p) => p.pid);
    process.kill(agents[0]!, 'SIGKILL');
    const r = await killed;
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(
      r.stderr,
      'eventbench load: local: the agent stopped before answering load: the agent was killed (SIGKILL); ' +
        'check that host and run again\n',
    );
    assert.ok(await eventually(() => !agents.some(alive), 5000), 'the other agent stopped too');

    const interrupted = cli(['load', '--agents', 'local,local', '-c', '4', '-t', '20', '--json', server.url], {
      onSpawn: (c) => {
        cliPid = c.pid!;
      },
    });
    const before = server.connections();
    assert.ok(await eventually(() => agentsOf().length === 2 && server.connections() > before + 200, 20_000));
    process.kill(cliPid, 'SIGINT');
    const i = await interrupted;
    assert.equal(i.code, 130, i.stderr);
    const result = JSON.parse(i.stdout) as LoadResult;
    assert.equal(result.stoppedEarly, 'aborted');
    assert.ok(result.requestsStarted >= 200 && result.agents!.parts.length === 2, `${result.requestsStarted} requests kept after Ctrl-C`);
  } finally {
    await server.close();
  }
});

test('an agent of another eventbench version is refused with one line naming both versions and how to install ours', async () => {
  const other = otherVersion();
  try {
    const { command } = other;
    const r = await cli(['load', '--agents', 'local', '--remote-eventbench', command, '-c', '1', '-n', '10', 'http://127.0.0.1:9/']);
    assert.equal(r.code, 1);
    const ours = eventbenchVersion();
    assert.equal(
      r.stderr,
      `eventbench load: local: runs eventbench 0.0.1-other, and this is eventbench ${ours}: ` +
        `install ${ours} there (npm install -g eventbench@${ours}), ` +
        `or point --remote-eventbench at a copy of ${ours} (it ran \`${command}\`)\n`,
    );
  } finally {
    other.remove();
  }
});

test("agent: the engine's server and client hosts over a link, as on this host; cancel; its input closing stops its servers", async () => {
  const links = new AgentLinks();
  const serversOf = (agentPid: number) => allProcesses().filter((p) => p.ppid === agentPid && p.cmdline.includes(' serve events'));
  let agentPid = 0;
  let serverPid = 0;
  try {
    const [link] = await links.open([parseHostSpec('local')]);
    agentPid = link!.hello!.pid;
    const agent = new Reconnecting(link!, async () => (await links.open([parseHostSpec('local')]))[0]!);
    const server = new RemoteServerHost(agent);
    const client = new RemoteClientHost(agent);
    assert.equal((await server.environment()).eventbenchVersion, eventbenchVersion());
    assert.deepEqual(await server.available('events'), { ok: true });
    const nope = await server.available('nope');
    assert.equal(nope.ok, false);
    assert.deepEqual((await server.setUp({ cpuShare: 0, periodMs: 10 })).host.throttle.mechanism, 'none');
    const spec = { name: 'events', family: 'typescript' as const, serveFlags: ['--port', '0'], backlog: 511, readyTimeoutMs: 30_000 };
    const s = await server.start(spec);
    assert.ok(s !== 'aborted' && 'id' in s, JSON.stringify(s));
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    serverPid = serversOf(agentPid)[0]!.pid;
    const memory = await server.memory(s.id);
    assert.ok(memory.memoryBytes > 1e6 && memory.processes >= 1, JSON.stringify(memory));
    await server.startSampling(s.id);
    const loaded = await client.load({ url: s.url, flags: ['-c', '2', '-n', '300', '--json'], limitS: 30 });
    assert.equal(loaded.result?.requestsStarted, 300, loaded.error);
    const { sample } = await server.stopSampling(s.id);
    assert.ok(sample.cpuS > 0 && sample.peakRssBytes > 1e6, JSON.stringify(sample));
    assert.equal(await server.exitReason(s.id), undefined);
    // A call that waits, cancelled: it answers as its method does when its signal aborts.
    const controller = new AbortController();
    const policy = { windowS: 0.2, agree: 3, tolerance: 0, minRequests: 1e6, maxRequests: 1e6, maxS: 60 };
    const warming = client.warm({ url: s.url, concurrency: 2, policy, timeoutS: 5, jit: false }, controller.signal);
    setTimeout(() => controller.abort(), 500);
    const t0 = performance.now();
    const warmup = await warming;
    assert.ok(performance.now() - t0 < 5000 && warmup.requests > 0, JSON.stringify(warmup));
    // A share of a load with its records, cancelled: it answers with what it measured.
    const started = link!.start<AgentLoadAnswer>('load', { options: { url: s.url, concurrency: 2, durationS: 60, trim: 0 } });
    await new Promise((r) => setTimeout(r, 800));
    await link!.request('cancel', { of: started.id });
    const answer = await started.answer;
    assert.equal(answer.result.stoppedEarly, 'aborted');
    assert.ok(decodeRecords(answer.records).length > 10);
    assert.deepEqual(await server.stop(s.id), []);
    assert.ok(await eventually(() => !alive(serverPid), 5000), 'stopped by `stop`');
    // Again, but this time only the link closes: the agent stops the server on its own.
    const again = await server.start(spec);
    assert.ok(again !== 'aborted' && 'id' in again);
    serverPid = serversOf(agentPid)[0]!.pid;
    assert.ok(alive(serverPid));
  } finally {
    await links.closeAll();
  }
  assert.ok(await eventually(() => !alive(serverPid), 5000), 'the agent stopped its server when its input closed');
});

test('an agent whose output breaks (EPIPE: nobody reads it) stops the server it started and exits quietly', async () => {
  const child = spawn(process.execPath, [BIN, 'agent'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const spec = { name: 'events', family: 'typescript', serveFlags: ['--port', '0'], backlog: 511, readyTimeoutMs: 30_000 };
  child.stdin.write(`${JSON.stringify({ id: 1, cmd: 'server.start', args: [spec] })}\n`);
  assert.ok(await eventually(() => out.includes('"id":1'), 30_000), 'the server started');
  const servers = allProcesses().filter((p) => p.ppid === child.pid && p.cmdline.includes(' serve events'));
  assert.equal(servers.length, 1);
  child.stdout.destroy();
  child.stdin.write(`${JSON.stringify({ id: 2, cmd: 'clock' })}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.equal(err, '', 'no stack, nothing at all');
  assert.ok(await eventually(() => !alive(servers[0]!.pid), 5000), 'its server was stopped');
});

test('load --agents: SIGTERM stops the load and every agent, keeping what was measured', async () => {
  const server = await tinyServer({ kind: 'ok', delayMs: 2 });
  try {
    let cliPid = 0;
    const run = cli(['load', '--agents', 'local,local', '-c', '4', '-t', '20', '--json', server.url], {
      onSpawn: (c) => {
        cliPid = c.pid!;
      },
    });
    const agentsOf = () => allProcesses().filter((p) => p.ppid === cliPid && p.cmdline.includes(' agent'));
    assert.ok(await eventually(() => agentsOf().length === 2 && server.connections() > 200, 20_000));
    const agents = agentsOf().map((p) => p.pid);
    process.kill(cliPid, 'SIGTERM');
    const r = await run;
    assert.equal(r.code, 130, r.stderr);
    assert.equal((JSON.parse(r.stdout) as LoadResult).stoppedEarly, 'aborted');
    assert.ok(await eventually(() => !agents.some(alive), 5000), 'the agents stopped');
  } finally {
    await server.close();
  }
});
