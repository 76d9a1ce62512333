// `eventbench run` on other hosts through agents, on this machine (`local` agents, child processes): the server
// host through an agent (--server-host local), its agent killed mid-point (that point is measured again on a fresh
// link and says why, the run goes on, nothing is left), a point's load split over client hosts (--client-hosts)
// and a resume that reconnects to them, the bad input refused before anything starts, another eventbench version
// refused in one line, and `doctor --host`. Over SSH on network namespaces: test/hosts.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive } from '../src/core/proc.js';
import { environment, eventbenchVersion } from '../src/core/environment.js';
import { resumedHosts, type RunHosts } from '../src/host/run-hosts.js';
import { runInfo as runInfoOf } from './helpers/results.js';
import type { Point, RunInfo } from '../src/results/schema.js';
import { execFileSync } from 'node:child_process';
import { BIN, cli } from './helpers/cli.js';
import { needs } from './helpers/optional.js';
import { allProcesses, eventually, orphanCgroups, startedHereMatching } from './helpers/processes.js';
import { QUICK_RUN as QUICK } from './helpers/runner.js';
import { OTHER_VERSION, otherVersion } from './helpers/other-version.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'eventbench-run-hosts-'));
const points = (dir: string) =>
  readFileSync(join(dir, 'points.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Point);
const runInfo = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo;

/** What `run` says before it starts about what earlier killed runs left (anyone's): not the line a test looks for. */
const withoutLeftovers = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => !l.startsWith('eventbench run: removed '))
    .join('\n');

/** The runner's children whose command line holds `needle`. */
const childrenOf = (pid: number, needle: string) => allProcesses().filter((p) => p.ppid === pid && p.cmdline.includes(needle));

test(
  'run --server-host local: every server through the agent; the agent killed mid-point: that point is measured again ' +
    'on a fresh link (a new agent), says why, the run goes on, and nothing is left',
  async (t) => {
    const base = tmp();
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const dir = join(base, 'r');
    let runner = 0;
    const onSpawn = (c: { pid?: number }) => {
      runner = c.pid!;
    };
    const run = cli([...QUICK, '-t', '1.5', '--server-host', 'local', '--out', dir], { timeoutMs: 120_000, onSpawn });
    // Mid-point: the runner's own `eventbench load` measures the server the agent started.
    assert.ok(await eventually(() => runner > 0 && childrenOf(runner, ' load --lines').length > 0, 60_000), 'a point measuring');
    const agents = childrenOf(runner, ' agent');
    assert.equal(agents.length, 1, 'one agent');
    const serversOfAgent = allProcesses().filter((p) => p.ppid === agents[0]!.pid && p.cmdline.includes(' serve '));
    process.kill(agents[0]!.pid, 'SIGKILL');
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    const kept = points(dir);
    assert.deepEqual(
      kept.map((p) => [p.server, p.load, p.status]).sort(),
      [
        ['async', 10, 'ok'],
        ['async', 20, 'ok'],
        ['events', 10, 'ok'],
        ['events', 10, 'ok'],
        ['events', 20, 'ok'],
        ['events', 20, 'ok'],
      ],
      'every point measured (events, the reference, on each side of async): the one the kill broke, again on a fresh link',
    );
    const retried = kept.filter((p) => p.retried !== undefined);
    assert.equal(retried.length, 1, JSON.stringify(kept.map((p) => [p.server, p.load, p.retried])));
    const killed =
      /^local: the agent stopped before answering server\.\w+: the agent was killed \(SIGKILL\); check that host and run again$/;
    assert.match(retried[0]!.retried!, killed);
    const { server: again, load } = retried[0]!;
    assert.match(
      r.stderr,
      new RegExp(`warning: local: the agent stopped before answering .*; measuring ${again} at ${load} again, once, on a fresh link`),
    );
    const info = runInfo(dir);
    assert.equal(info.schema, 'eventbench.run/4');
    const { server, path } = info.hosts!;
    assert.deepEqual([server.host, server.address, path.kind], ['local', '127.0.0.1', 'loopback']);
    assert.equal(info.hosts!.server.environment.eventbenchVersion, eventbenchVersion());
    assert.ok(info.hosts!.server.clock!.boundMs > 0);
    assert.deepEqual(
      info.hosts!.clients.map((c) => c.host),
      ['here'],
    );
    const gone = () => !serversOfAgent.some((p) => alive(p.pid));
    assert.ok(await eventually(gone, 5000), "the killed agent's server saw its parent go and ended");
    assert.deepEqual(
      allProcesses().filter((p) => p.ppid === runner),
      [],
      'nothing of the run is left',
    );
    assert.deepEqual(orphanCgroups([agents[0]!.pid]), [], "the killed agent's cgroup was removed by the next agent");
  },
);

test(
  'run --client-hosts local,local: each point split over the two and merged, their clocks recorded; ' + '--resume reconnects to them',
  async (t) => {
    const base = tmp();
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const dir = join(base, 'r');
    let runner = 0;
    const onSpawn = (c: { pid?: number }) => {
      runner = c.pid!;
    };
    const first = cli([...QUICK, '--client-hosts', 'local,local', '--out', dir], { timeoutMs: 120_000, onSpawn });
    const kept = () => (existsSync(join(dir, 'points.jsonl')) ? readFileSync(join(dir, 'points.jsonl'), 'utf8').split('\n').length - 1 : 0);
    assert.ok(await eventually(() => kept() >= 1, 60_000), 'a point kept');
    const agents = childrenOf(runner, ' agent').map((p) => p.pid);
    assert.equal(agents.length, 2);
    process.kill(runner, 'SIGINT');
    const interrupted = await first;
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.ok(kept() < 6, 'interrupted before the end');
    assert.ok(await eventually(() => !agents.some(alive), 5000), 'Ctrl-C: the agents stopped too');
    const resumed = await cli(['run', '--resume', dir, '--no-report'], { timeoutMs: 120_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    const named = /^client host 1: local \(.+\): .*; clock -?\d+\.\d+ ms ± \d+\.\d+ ms from the runner's \(each point's load split/m;
    assert.match(resumed.stderr, named);
    const all = points(dir);
    const each = ['async@10', 'async@20', 'events@10', 'events@10', 'events@20', 'events@20']; // the reference twice
    assert.deepEqual(all.map((p) => `${p.server}@${p.load}`).sort(), each);
    for (const p of all) {
      assert.equal(p.status, 'ok', p.reason);
      const parts = p.result!.agents!.parts;
      assert.deepEqual(
        parts.map((a) => [a.host, a.concurrency]),
        [
          ['local', p.load / 2],
          ['local', p.load / 2],
        ],
      );
      assert.ok(
        parts.every((a) => a.clockBoundMs > 0 && a.clockBoundMs < 1000),
        JSON.stringify(parts.map((a) => a.clockBoundMs)),
      );
      const sum = parts[0]!.measuredLoad + parts[1]!.measuredLoad;
      assert.ok(Math.abs(p.result!.measuredLoad - sum) < 1e-6, "l_m is the sum of the agents'");
    }
    const info = runInfo(dir);
    assert.deepEqual(
      info.hosts!.clients.map((c) => [c.host, c.clock!.probes]),
      [
        ['local', 8],
        ['local', 8],
      ],
    );
    assert.deepEqual(info.hosts!.server.host, 'here');
  },
);

test('run refuses bad hosts before anything starts, one line each', async () => {
  const base = tmp();
  try {
    const out = join(base, 'never');
    // Each refusal, from its start (the field, the value, the limit).
    const form = 'expected local or ssh://[user@]host[:port]';
    const cases: [string[], string][] = [
      [
        ['--client-hosts', 'local,local,local', '--loads', '2,10'],
        '--client-hosts: got "3 hosts", the limit is the smallest load (2): ' +
          'each client host keeps at least one request in flight; raise --loads or list fewer client hosts',
      ],
      [
        ['--client-hosts', 'local', '--engine', 'ab'],
        '--client-hosts: got "local", merges per-request records, which only the ' +
          'eventbench engine keeps; drop --engine ab or --client-hosts',
      ],
      [['--client-hosts', 'local', '--open-loop'], '--client-hosts: got "local", splits a closed loop; the open loop (--open-loop)'],
      [['--client-hosts', 'local,http://x'], `--client-hosts: got "http://x", ${form}`],
      [['--server-host', 'bench@10.0.0.2'], `--server-host: got "bench@10.0.0.2", ${form}`],
      [['--server-host', 'local', '--server-address', 'eth0'], '--server-address: got "eth0", expected an IP address of the server'],
      [['--remote-eventbench', 'node x.js'], '--remote-eventbench: got "node x.js", belongs to --server-host or --client-hosts'],
      [['--resume', base, '--server-host', 'local'], `--resume: got "${base}", takes its plan from the folder, so it refuses`],
    ];
    for (const [args, want] of cases) {
      const r = await cli(['run', '--quick', '--servers', 'events', ...args, '--out', out]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const said = withoutLeftovers(r.stderr);
      assert.equal(said.trim().split('\n').length, 1, r.stderr);
      assert.ok(said.startsWith(`eventbench run: ${want}`), said);
      assert.equal(existsSync(out), false, 'no run folder made');
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('run --server-host and doctor --host refuse an agent of another eventbench version in one line; doctor --host checks that host', async () => {
  const other = otherVersion();
  const base = tmp();
  try {
    const ours = eventbenchVersion();
    const line = (cmd: string) =>
      `eventbench ${cmd}: local: runs eventbench ${OTHER_VERSION}, and this is eventbench ${ours}: ` +
      `install ${ours} there (npm install -g eventbench@${ours}), or point --remote-eventbench at a copy of ${ours} ` +
      `(it ran \`${other.command}\`)\n`;
    const out = join(base, 'never');
    const run = await cli([...QUICK, '--server-host', 'local', '--remote-eventbench', other.command, '--out', out]);
    assert.equal(run.code, 1);
    assert.equal(withoutLeftovers(run.stderr), line('run'));
    assert.equal(existsSync(out), false, 'no run folder made');
    const doctor = await cli(['doctor', '--host', 'local', '--remote-eventbench', other.command, '--max-load', '100']);
    assert.equal(doctor.code, 1);
    assert.equal(doctor.stderr, line('doctor'));

    const here = await cli(['doctor', '--max-load', '100'], { timeoutMs: 60_000 });
    const there = await cli(['doctor', '--host', 'local', '--max-load', '100'], { timeoutMs: 60_000 });
    // Each measures its own client and throttle, which a busy machine can fail on one side only: each exit says
    // what its own lines say.
    for (const d of [here, there]) assert.equal(d.code, /^FAIL/m.test(d.stdout) ? 1 : 0, d.stdout);
    const lines = there.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^eventbench doctor on local \\(.+, eventbench ${ours.replaceAll('.', '\\.')}\\):$`));
    const names = (out: string) =>
      out
        .split('\n')
        .map((l) => /^(ok {2}|warn|FAIL) {2}(\S+( \S+)?)/.exec(l)?.[2])
        .filter(Boolean);
    assert.deepEqual(names(there.stdout), names(here.stdout), 'the same checks as here');
    assert.match(lines.at(-1)!, /^(A run on local would be trustworthy\.|\d+ problem\(s\) would distort a run; fix them first\.)$/);
  } finally {
    other.remove();
    rmSync(base, { recursive: true, force: true });
  }
});

/** Whether this test process may start an agent as another user (root, with util-linux's setpriv). */
function dropsPrivileges(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test runs as root to start an agent as nobody';
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'setpriv is missing (util-linux)';
  }
  return undefined;
}

test('run --server-host on a host without a writable cgroup: its servers run unthrottled, the run says so naming the host ' +
  'and records it', { skip: needs('an agent as another user (root, setpriv)', dropsPrivileges()) }, async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  // The same eventbench as an unprivileged user: /sys/fs/cgroup is not writable to it, as on a host without root.
  const nobody = `setpriv --reuid=nobody --regid=nogroup --clear-groups ${process.execPath} ${BIN}`;
  const r = await cli([...QUICK, '--servers', 'events', '--server-host', 'local', '--remote-eventbench', nobody, '--out', dir], {
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^warning: local: the server runs unthrottled: .* is not writable \(run as root\); /m);
  const info = runInfo(dir);
  assert.equal(info.host.throttle.mechanism, 'none');
  assert.match(info.host.throttle.reason!, /not writable/);
  assert.ok(info.warnings.some((w) => w.startsWith('local: the server runs unthrottled')));
  assert.deepEqual(
    points(dir).map((p) => [p.load, p.status]),
    [
      [10, 'ok'],
      [20, 'ok'],
    ],
  );
  assert.match(r.stderr, /server on CPU 0, unthrottled; client on CPU 1/);
});

const ODD = fileURLToPath(new URL('./fixtures/odd-agent.js', import.meta.url));
/** `--remote-eventbench` for an agent that goes wrong on purpose (test/fixtures/odd-agent.ts). */
const oddAgent = (...flags: string[]) => [process.execPath, ODD, ...flags.map((f) => `'${f}'`)].join(' ');
/** Processes of this file's eventbench or of the odd agent still running. */
const ours = () => startedHereMatching(ODD, `${BIN} serve`, `${BIN} load`);
/** The last line of stderr, which says why a run stopped; and whether anything looks like a crash. */
const lastLine = (stderr: string) => stderr.trim().split('\n').at(-1)!;
const crashed = (stderr: string) => /internal error|TypeError|\n\s+at /.test(stderr);

test('run --server-host: an agent that garbles an answer stops the run in one line naming the host and the cause; exit 1, nothing left', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  const command = oddAgent('--garble', 'server.stopSampling');
  const r = await cli([...QUICK, '--server-host', 'local', '--remote-eventbench', command, '--out', dir], { timeoutMs: 120_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.ok(!crashed(r.stderr), r.stderr);
  const line =
    'eventbench run: local: its agent broke the protocol: the answer to server.stopSampling.error: expected an object, ' +
    `got nothing; stopped it. Is \`${command}\` eventbench ${eventbenchVersion()}? Check that host; the run stopped; its ` +
    `finished points are kept in ${dir}: \`eventbench run --resume ${dir}\` goes on once that host answers`;
  assert.equal(lastLine(r.stderr), line);
  const info = runInfo(dir);
  assert.equal(info.interrupted, true);
  assert.match(info.hostFault!, /^local: its agent broke the protocol: the answer to server\.stopSampling\.error/);
  assert.ok(await eventually(() => ours().length === 0, 5000), JSON.stringify(ours()));
});

test(
  'run --server-host: an agent that stops answering misses its deadline, the point is tried once more on a fresh link, ' +
    'then the run stops in one line naming the host and the cause within 150 s; exit 1, nothing left',
  async (t) => {
    const base = tmp();
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const dir = join(base, 'r');
    const t0 = performance.now();
    const command = oddAgent('--stick', 'server.startSampling'); // 15 s to answer (src/host/protocol.ts)
    const r = await cli([...QUICK, '--server-host', 'local', '--remote-eventbench', command, '--out', dir], { timeoutMs: 200_000 });
    const tookS = (performance.now() - t0) / 1000;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(tookS < 150, `${tookS} s`);
    assert.ok(!crashed(r.stderr), r.stderr);
    const stuck =
      'local: no answer to server.startSampling within 15 s (the agent is stuck, its host overloaded, or the link ' +
      'half-open); stopped the agent and what it ran';
    assert.match(
      r.stderr,
      new RegExp(`^warning: ${stuck.replace(/[()]/g, '\\$&')}; measuring \\S+ at 10 again, once, on a fresh link$`, 'm'),
    );
    assert.equal(
      lastLine(r.stderr),
      `eventbench run: ${stuck}; the second time at this point, on a fresh link; the run stopped; its finished points are ` +
        `kept in ${dir}: \`eventbench run --resume ${dir}\` goes on once that host answers`,
    );
    assert.equal(existsSync(join(dir, 'points.jsonl')), false, 'no point was recorded for a host that never answered');
    assert.ok(await eventually(() => ours().length === 0, 5000), JSON.stringify(ours()));
  },
);

test('run --server-host: SIGTERM while the agent is stuck ends the run within 10 s, keeping every finished point; nothing left', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'r');
  let runner = 0;
  const onSpawn = (c: { pid?: number }) => {
    runner = c.pid!;
  };
  const command = oddAgent('--stick', 'server.stopSampling', '--after', '1');
  const run = cli([...QUICK, '--server-host', 'local', '--remote-eventbench', command, '--out', dir], { timeoutMs: 120_000, onSpawn });
  const stopped = () => runner > 0 && childrenOf(runner, ODD).some((p) => p.state === 'T');
  assert.ok(await eventually(stopped, 90_000), 'the agent stopped itself on its second server.stopSampling');
  const t0 = performance.now();
  process.kill(runner, 'SIGTERM');
  const r = await run;
  const tookS = (performance.now() - t0) / 1000;
  assert.equal(r.code, 130, r.stderr);
  assert.ok(tookS < 10, `${tookS} s after SIGTERM`);
  assert.ok(!crashed(r.stderr), r.stderr);
  const kept = points(dir);
  assert.equal(kept.length, 1, 'the point finished before the agent stuck');
  assert.equal(kept[0]!.status, 'ok');
  assert.equal(runInfo(dir).interrupted, true);
  assert.ok(await eventually(() => ours().length === 0, 5000), JSON.stringify(ours()));
});

test('--resume starts eventbench on the recorded hosts only as you give --remote-eventbench again, or confirm', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const here = { hostname: 'h', environment: environment() };
  const record = (remoteCommand?: string): RunHosts => ({
    path: { kind: 'loopback' },
    server: { host: 'local', ...here, address: '127.0.0.1' },
    clients: [{ host: 'here', ...here }],
    ...(remoteCommand !== undefined ? { remoteCommand } : {}),
  });
  const pwned = join(base, 'PWNED');
  const evil = `touch ${pwned}; ${process.execPath} ${BIN}`;
  assert.deepEqual(await resumedHosts(base, record(evil), evil), { serverHost: 'local', remoteCommand: evil });
  assert.deepEqual(await resumedHosts(base, record(), undefined), { serverHost: 'local' });
  await assert.rejects(resumedHosts(base, record(evil), undefined), {
    message:
      `--resume: got "${base}", its run.json starts eventbench on the run's hosts with ${JSON.stringify(evil)}, and a results ` +
      'folder never runs a command by itself; if it is yours, give it again with --remote-eventbench',
  });
  await assert.rejects(resumedHosts(base, record(evil), 'eventbench'), {
    message: `--remote-eventbench: got "eventbench", is not the command the run started eventbench with, ${JSON.stringify(evil)} (its run.json): a results folder never chooses what runs; give that one, or start a new run`,
  });
  await assert.rejects(resumedHosts(base, record(), 'eventbench'), {
    message: /^--remote-eventbench: got "eventbench", the run being resumed started eventbench/,
  });
  assert.deepEqual(await resumedHosts(base, record(evil), undefined, async () => true), { serverHost: 'local', remoteCommand: evil });
  // Through the CLI: a folder edited to start eventbench with another command runs nothing it names.
  const dir = join(base, 'r');
  const info = runInfoOf(['events'], [10], { hosts: record(evil) });
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(info));
  const r = await cli(['run', '--resume', dir, '--no-report']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(withoutLeftovers(r.stderr), /^eventbench run: --resume: got ".*", its run\.json starts eventbench on the run's hosts with /);
  assert.equal(existsSync(pwned), false);
});
