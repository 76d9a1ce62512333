// The runner's side of a link (src/host/link.ts) against agents that go wrong on purpose (test/fixtures/odd-agent.ts,
// local child processes): a garbled answer (an error without its fields, a result of the wrong type, a line that is
// not JSON) and an agent that stops answering each fail the request in one line naming the host and the cause, end
// the link and stop the agent with what it started; once the work is interrupted, a stuck agent holds it for
// abortGraceMs at most. Runs through them: test/run-hosts.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { HostError } from '../src/core/errors.js';
import { eventbenchVersion } from '../src/core/environment.js';
import { alive } from '../src/core/proc.js';
import { AgentLinks, parseHostSpec, type LinkOptions } from '../src/host/link.js';
import { Reconnecting, RemoteServerHost } from '../src/host/remote.js';
import { allProcesses, eventually } from './helpers/processes.js';

const ODD = fileURLToPath(new URL('./fixtures/odd-agent.js', import.meta.url));
const odd = (...flags: string[]) => [process.execPath, ODD, ...flags.map((f) => `'${f}'`)].join(' ');

/** One local agent started as `odd-agent FLAGS`, its link, and its host as the engine's server host. */
async function oddAgent(flags: string[], o: LinkOptions = {}) {
  const links = new AgentLinks({ remoteCommand: odd(...flags), ...o });
  const [link] = await links.open([parseHostSpec('local')]);
  const server = new RemoteServerHost(new Reconnecting(link!, () => Promise.reject(new Error('no reopening here'))));
  return { links, link: link!, server, command: odd(...flags) };
}

const rejectsWith = async (p: Promise<unknown>, code: string, message: string) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof HostError, String(err));
  assert.equal(err.code, code);
  assert.equal(err.message, message);
  return err;
};

test('a garbled answer (an error without its fields) fails the request in one line and ends the link; nothing crashes', async (t) => {
  const { links, link, command } = await oddAgent(['--garble', 'clock']);
  t.after(() => links.closeAll());
  const pid = link.hello!.pid;
  const line =
    'local: its agent broke the protocol: the answer to clock.error: expected an object, got nothing; stopped it. ' +
    `Is \`${command}\` eventbench ${eventbenchVersion()}? Check that host`;
  await rejectsWith(link.clock(), 'EB_HOST_PROTOCOL', line);
  assert.equal(link.alive, false);
  await rejectsWith(link.request('server.environment'), 'EB_HOST_PROTOCOL', line);
  assert.ok(await eventually(() => !alive(pid), 5000), 'the agent was stopped');
});

test('a result of the wrong type, and a line that is not JSON, are named by their field and their text', async (t) => {
  const typed = await oddAgent(['--garble', 'server.connections={"ok":true,"result":{"established":"many"}}']);
  t.after(() => typed.links.closeAll());
  const err = await rejectsWith(
    typed.server.connections('s1'),
    'EB_HOST_PROTOCOL',
    'local: its agent broke the protocol: the answer to server.connections.result.established: expected a whole number, ' +
      `got "many"; stopped it. Is \`${typed.command}\` eventbench ${eventbenchVersion()}? Check that host`,
  );
  assert.equal(err.fault, 'garbled');
  const text = await oddAgent(['--garble', 'server.environment=Segmentation fault']);
  t.after(() => text.links.closeAll());
  await assert.rejects(text.server.environment(), {
    code: 'EB_HOST_PROTOCOL',
    message: /^local: its agent broke the protocol: a line that is not JSON: "Segmentation fault"; stopped it\./,
  });
});

test('an agent that stops answering misses its deadline: one line, the agent and the server it started are stopped', async (t) => {
  const { links, link, server } = await oddAgent(['--stick', 'server.stopSampling']);
  t.after(() => links.closeAll());
  const spec = { name: 'events', family: 'typescript' as const, serveFlags: ['--port', '0'], backlog: 511, readyTimeoutMs: 30_000 };
  const s = await server.start(spec);
  assert.ok(s !== 'aborted' && 'id' in s, JSON.stringify(s));
  const agentPid = link.hello!.pid;
  const servers = allProcesses().filter((p) => p.ppid === agentPid && p.cmdline.includes(' serve events'));
  assert.equal(servers.length, 1);
  const t0 = performance.now();
  await rejectsWith(
    link.request('server.stopSampling', { args: [s.id] }, 800),
    'EB_HOST_DEADLINE',
    'local: no answer to server.stopSampling within 0.8 s (the agent is stuck, its host overloaded, or the link half-open); ' +
      'stopped the agent and what it ran',
  );
  assert.ok(performance.now() - t0 < 3000, 'within its deadline');
  assert.ok(await eventually(() => !alive(agentPid) && !alive(servers[0]!.pid), 5000), 'the stopped agent and its server are gone');
});

test('once interrupted, a stuck agent holds the work for abortGraceMs, then its link is cut', async (t) => {
  const controller = new AbortController();
  const { links, link } = await oddAgent(['--stick', 'server.exitReason'], { signal: controller.signal, abortGraceMs: 500 });
  t.after(() => links.closeAll());
  const answer = link.request('server.exitReason', { args: ['s1'] }, 600_000);
  setTimeout(() => controller.abort(), 200);
  const t0 = performance.now();
  await rejectsWith(
    answer,
    'EB_HOST_DEADLINE',
    'local: no answer to server.exitReason within 0.5 s after the run was interrupted (the agent is stuck, its host ' +
      'overloaded, or the link half-open); stopped the agent and what it ran',
  );
  assert.ok(performance.now() - t0 < 2000, `${performance.now() - t0} ms`);
});
