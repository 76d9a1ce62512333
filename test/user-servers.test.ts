// The user's own servers: bad input is one line naming the field, the value and what to do, with nothing left
// running; a Python example goes through a real quick run (throttled, ranked, labelled); a user server that forks
// a child leaves no orphan after the run, nor after a Ctrl-C to the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, cli } from './helpers/cli.js';
import { needs } from './helpers/optional.js';
import { processesRunning, QUOTA } from './helpers/runner.js';
import { killTree } from '../src/core/proc.js';
import { models } from '../src/servers/registry.js';
import { parseServerFlag, readServersFile } from '../src/servers/user/spec.js';
import { splitWords } from '../src/servers/user/command.js';
import { resumedUserServers, type UserServerModel } from '../src/servers/user/index.js';
import { detectCgroup } from '../src/host/throttle.js';
import type { Point, RunInfo } from '../src/results/schema.js';

const BUILTINS = models.map((m) => m.name);
const EXAMPLES = fileURLToPath(new URL('../../examples/servers.json', import.meta.url));
const FORKING = fileURLToPath(new URL('./fixtures/forking-server.js', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'eventbench-user-test-'));

test('a --server command is split into words as a shell would, without a shell', () => {
  assert.deepEqual(splitWords('--server', `python3 app.py --name 'a b' "c \\"d\\"" e\\ f {port}`), [
    'python3',
    'app.py',
    '--name',
    'a b',
    'c "d"',
    'e f',
    '{port}',
  ]);
  assert.throws(() => splitWords('--server', `python3 'app.py`), /--server: got "python3 'app.py", has an unclosed ' quote/);
  const spec = parseServerFlag('mine=./app --port {port}', BUILTINS);
  assert.deepEqual(
    [spec.name, spec.command, spec.cwd, spec.ready],
    ['mine', ['./app', '--port', '{port}'], process.cwd(), { timeoutS: 20, path: '/' }],
  );
});

test('a bad --server or servers file is refused in one line naming the file, the entry, the field and what to do', (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (text: string) => {
    const f = join(dir, `s${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, text);
    return f;
  };
  const flags: [string, RegExp][] = [
    [
      'mine=python3 -m http.server',
      /^--server: got "python3 -m http.server", has no \{port\}: the server must listen on the port eventbench gives it; put \{port\}/,
    ],
    ['events=./x {port}', /^--server: got "events", is the name of a built-in server .*; choose another name/],
    ['python3 {port}', /^--server: got "python3 \{port\}", expected NAME=COMMAND/],
    ['a@b=./x {port}', /^--server: got "a@b", expected a name of letters/],
  ];
  for (const [value, message] of flags) assert.throws(() => parseServerFlag(value, BUILTINS), { message }, value);
  const bad = file('{"servers": [{"name": "x", "command": ["a" "b"]}]}');
  const notJson = new RegExp(`^--servers-file: got "${bad}", is not valid JSON at line 1 \\(.*\\); fix the file$`);
  assert.throws(() => readServersFile(bad, BUILTINS), { message: notJson });
  const entries: [string, RegExp][] = [
    [
      '{"servers": [{"name": "ok", "command": ["./a", "{port}"]}, {"name": "x"}]}',
      /: servers\[1\] \("x"\)\.command: got undefined, is missing; every server needs command$/,
    ],
    [
      '{"servers": [{"name": "x", "command": ["./a", "{port}"], "redy": {}}]}',
      /: servers\[0\] \("x"\)\.redy: got \{\}, is not a field of a server; expected name, command/,
    ],
    ['{"servers": [{"name": "x", "command": ["./a"]}]}', /: servers\[0\] \("x"\)\.command: got "\.\/a", has no \{port\}/],
    [
      '{"servers": [{"name": "x", "command": ["./a", "{port}"], "ready": {"timeoutS": 0}}]}',
      /\.ready\.timeoutS: got 0, the limit is 0\.1 to 600 seconds$/,
    ],
    [
      '{"servers": [{"name": "x", "command": ["./a", "{port}"], "paperRow": "Nginx"}]}',
      /\.paperRow: got "Nginx", is not a row of the paper's Figure 2; expected one of ST, CPC/,
    ],
    [
      '{"servers": [{"name": "x", "command": ["./a", "{port}"]}, {"name": "x", "command": ["./b", "{port}"]}]}',
      /servers\[1\] \("x"\)\.name: got "x", names two user servers/,
    ],
    ['{"servers": []}', /: servers: got \[\], expected a non-empty list of servers/],
  ];
  for (const [text, message] of entries) {
    const f = file(text);
    assert.throws(
      () => readServersFile(f, BUILTINS),
      (err: Error) => err.message.startsWith(f) && message.test(err.message),
      text,
    );
  }
});

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

test('a user server that exits first, never answers, or listens elsewhere: one line, exit 1, nothing left running', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = `eb-user-bad-${process.pid}`;
  const node = (code: string) => `${process.execPath} -e ${JSON.stringify(code)} ${marker} {port}`;
  const other = await freePort();
  const never = join(dir, 'never.json');
  const sleeper = [process.execPath, '-e', 'setInterval(() => {}, 1000)', marker, '{port}'];
  writeFileSync(never, JSON.stringify({ servers: [{ name: 'never', command: sleeper, ready: { timeoutS: 1 } }] }));
  const cases: [string[], RegExp][] = [
    [
      ['serve', '--server', `early=${node('console.error("line one"); console.error("cannot bind: boom"); process.exit(3)')}`],
      /^eventbench serve: --server ".*": exited \(code 3\) before it answered on 127\.0\.0\.1:\d+; its last output: line one \| cannot/,
    ],
    [
      ['serve', 'never', '--servers-file', never],
      /^eventbench serve: .*never\.json: servers\[0\] \("never"\): ready\.timeoutS: did not answer HTTP on 127\.0\.0\.1:\d+\/ within 1 s/,
    ],
    [
      ['serve', '--server', `elsewhere=${node(`require("net").createServer().listen(${other}, "127.0.0.1")`)}`],
      new RegExp(`^eventbench serve: --server ".*": listens on port ${other}, not on the port it was given \\(\\d+\\); put \\{port\\}`),
    ],
    [
      ['run', '--quick', '--servers', 'events', '--server', `early=${node('process.exit(3)')}`, '--out', join(dir, 'r'), ...QUOTA],
      /^eventbench run: early did not start: --server ".*": exited \(code 3\) before it answered/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args, { timeoutMs: 30_000 });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    // run also says, on lines of their own, that it checks the server first and what an earlier run left behind.
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/^eventbench run: (checking|removed|could not remove)/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
    assert.deepEqual(await processesRunning(marker), [], `${args[0]}: nothing of it is left`);
  }
  assert.equal(existsSync(join(dir, 'r')), false, 'a refused run creates no folder');
});

const python = needs('python3 (the example servers)', existsSync('/usr/bin/python3') ? undefined : '/usr/bin/python3 is missing');
const cgroup = needs('a cgroup CPU quota', detectCgroup().reason);

test('an example Python server through a quick run: throttled, ranked, and labelled as yours', { skip: python || cgroup }, async (t) => {
  const dir = join(tmp(), 'r');
  t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const args = [
    'run',
    '--quick',
    '--servers-file',
    EXAMPLES,
    '--servers',
    'asyncio-python',
    '--loads',
    '10,50',
    '-t',
    '0.3',
    '--out',
    dir,
    ...QUOTA,
  ];
  const r = await cli(args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /asyncio-python: all 8 applicable checks pass/);
  const points = readFileSync(join(dir, 'points.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Point);
  assert.deepEqual(
    points.map((p) => `${p.server}@${p.load}`),
    ['asyncio-python@10', 'asyncio-python@50'],
  );
  for (const p of points) {
    assert.equal(p.status, 'ok', p.reason);
    assert.equal(p.family, 'user');
    assert.equal(p.label, 'Python asyncio: a coroutine per connection');
    // Its CPU was counted by the cgroup's quota periods: its whole tree ran under the quota.
    assert.ok(p.metrics!.quotaPeriods && p.metrics!.quotaPeriods.total > 0, JSON.stringify(p.metrics));
    assert.ok(p.metrics!.loadCpuShare! < 0.25 * 1.5, `CPU share ${p.metrics!.loadCpuShare} under a 0.25-core quota`);
    // The python process alone: the node `serve` wrapper and the guard shell are left out.
    assert.equal(p.metrics!.peakProcesses, 1);
  }
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo;
  assert.notEqual(info.host.throttle.mechanism, 'none');
  assert.deepEqual(
    info.plan.userServers!.map((s) => [s.name, s.serveArgs]),
    [['asyncio-python', ['--servers-file', EXAMPLES]]],
  );
  assert.match(r.stdout, /\| (\d+=?|—) \| asyncio-python \(yours\) \| yours: Python asyncio: a coroutine per connection \|/);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.match(html, /asyncio-python \(yours\)/);
  assert.match(html, /yours: Python asyncio: a coroutine per connection/);
});

const forking = (marker: string) => [
  '--server',
  `forking=${process.execPath} ${FORKING} --port {port} --backlog {backlog} --page {page} --marker ${marker}`,
];

test('a user server that forks a child leaves no process behind after a run', async (t) => {
  const dir = join(tmp(), 'r');
  t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const marker = `eb-fork-run-${process.pid}`;
  const args = ['run', '--quick', '--servers', 'forking', ...forking(marker), '--loads', '5,10', '--out', dir, '--no-report', ...QUOTA];
  const r = await cli(args, { timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  const points = readFileSync(join(dir, 'points.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Point);
  assert.ok(
    points.every((p) => p.status === 'ok'),
    r.stderr,
  );
  // The server and its child were sampled as one tree.
  assert.ok(
    points.some((p) => p.metrics!.peakProcesses >= 2),
    JSON.stringify(points.map((p) => p.metrics?.peakProcesses)),
  );
  assert.deepEqual(await processesRunning(marker), [], 'no process of the forking server is left');
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo;
  assert.ok(!info.warnings.some((w) => /left \d+ process/.test(w)), info.warnings.join('\n'));
});

test('a user server that forks a child leaves no process behind after a Ctrl-C (SIGINT to the CLI)', async (t) => {
  const dir = join(tmp(), 'r');
  t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const marker = `eb-fork-int-${process.pid}`;
  const args = ['run', '--servers', 'forking', ...forking(marker), '--loads', '5,10,20', '--repeat', '1', '-t', '2', ...QUOTA];
  args.push('--out', dir, '--no-report');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => killTree(child.pid!, 'SIGKILL', process.pid));
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  // Interrupt in the middle of the measurement, once the server and its child are running under the runner.
  const deadline = Date.now() + 60_000;
  while (!/point\(s\) to measure/.test(err) || (await processesRunning(`child ${marker}`)).length === 0) {
    assert.ok(Date.now() < deadline, `the run did not start measuring within 60 s: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 130, err);
  assert.deepEqual(await processesRunning(marker), [], 'no process of the forking server is left');
});

const BROKEN = fileURLToPath(new URL('./fixtures/broken-server.js', import.meta.url));

test(
  'a results folder is data: run.json keeps only the variables that matter, and --resume runs no command it names ' +
    'unless you give it again, the same',
  async (t) => {
    const base = tmp();
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const file = join(base, 'servers.json');
    const command = [process.execPath, BROKEN, '--port', '{port}', '--page', '{page}'];
    const env = { SECRET_TOKEN: 'hunter2', UV_THREADPOOL_SIZE: '4' };
    writeFileSync(file, JSON.stringify({ servers: [{ name: 'mine', command, env }] }));
    const dir = join(base, 'r');
    const made = await cli(
      [
        'run',
        '--quick',
        '--servers',
        'mine',
        '--servers-file',
        file,
        '--loads',
        '5,10',
        '--no-memory',
        '--no-report',
        '--out',
        dir,
        ...QUOTA,
      ],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(made.code, 0, made.stderr);
    const text = readFileSync(join(dir, 'run.json'), 'utf8');
    assert.ok(!text.includes('hunter2'), 'a secret is never written');
    const recorded = (JSON.parse(text) as RunInfo).plan.userServers![0]!;
    assert.deepEqual([recorded.env, recorded.envNotRecorded], [{ UV_THREADPOOL_SIZE: '4' }, ['SECRET_TOKEN']]);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    // One point left to measure, and a copy of run.json edited by someone else to run another command.
    const lines = readFileSync(join(dir, 'points.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'points.jsonl'), `${lines[0]}\n`);
    const pwned = join(base, 'PWNED');
    const evil = JSON.parse(text) as RunInfo;
    evil.plan.userServers![0]!.command = ['/bin/sh', '-c', `touch ${pwned}; exec "$0" "$@"`, ...command];
    writeFileSync(join(dir, 'run.json'), JSON.stringify(evil));
    const shownEvil = `\`/bin/sh -c 'touch ${pwned}; exec "$0" "$@"' ${command.join(' ')}\` in ${base} with SECRET_TOKEN, UV_THREADPOOL_SIZE set`;
    const refused = await cli(['run', '--resume', dir, '--no-report']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(
      refused.stderr
        .split('\n')
        .filter((l) => l && !l.startsWith('eventbench run: removed '))
        .join('\n'),
      `eventbench run: --resume: got "${dir}", its run.json names your server mine, run as ${shownEvil}, and a results ` +
        'folder never runs a command by itself; if it is yours, give it again with --server or --servers-file, as you started the run',
    );
    const differs = await cli(['run', '--resume', dir, '--servers-file', file, '--no-report']);
    assert.equal(differs.code, 2, differs.stderr);
    assert.match(
      differs.stderr,
      new RegExp(
        `its run\\.json runs mine as .*touch ${pwned}.*, and you give \`${process.execPath} ${BROKEN} --port \\{port\\} --page \\{page\\}\` in ${base} with SECRET_TOKEN, UV_THREADPOOL_SIZE set: a results folder never chooses what runs`,
      ),
    );
    const stranger = await cli(['run', '--resume', dir, '--server', `other=${command.join(' ')}`]);
    assert.equal(stranger.code, 2);
    assert.match(stranger.stderr, /--server: got "other", is not a server of the run in .* \(its servers of yours are mine\); drop it/);
    assert.equal(existsSync(pwned), false, 'nothing the edited folder names ran');
    // The folder as the run wrote it, and the command given again: it goes on.
    writeFileSync(join(dir, 'run.json'), text);
    const resumed = await cli(['run', '--resume', dir, '--servers-file', file, '--no-report'], { timeoutMs: 120_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(readFileSync(join(dir, 'points.jsonl'), 'utf8').trim().split('\n').length, 2);
    assert.deepEqual(await processesRunning(BROKEN), []);
  },
);

test('--resume: a command the folder names runs only once confirmed, and only when the folder recorded all of it', async (t) => {
  const base = tmp();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const spec = { name: 'mine', command: ['./app', '--port', '{port}'], cwd: base, ready: { timeoutS: 20, path: '/' }, source: 'x' };
  const plan = { userServers: [{ ...spec, env: { UV_THREADPOOL_SIZE: '4' }, serveArgs: ['--server', 'mine=./app --port {port}'] }] };
  const asked: string[] = [];
  const yes = async (q: string) => {
    asked.push(q);
    return true;
  };
  const r = await resumedUserServers(base, plan, { user: [], urls: [] }, yes);
  assert.deepEqual(asked, [
    `${base}: run.json runs your server mine as \`./app --port {port}\` in ${base} with UV_THREADPOOL_SIZE set. Run that? [y/N] `,
  ]);
  const model = r.models[0] as UserServerModel;
  assert.equal(model.serveArgs[0], '--servers-file');
  const file = model.serveArgs[1]!;
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readServersFile(file, BUILTINS)[0]!.command, spec.command);
  r.cleanUp();
  assert.equal(existsSync(file), false);
  const secret = { userServers: [{ ...plan.userServers[0]!, envNotRecorded: ['API_KEY'] }] };
  await assert.rejects(resumedUserServers(base, secret, { user: [], urls: [] }, yes), {
    code: 'EB_USAGE',
    message:
      /its run\.json names your server mine, run as .* with API_KEY, UV_THREADPOOL_SIZE set, and a results folder never runs a command by itself/,
  });
  assert.equal(asked.length, 1, 'not asked: the folder does not hold all of it');
  await assert.rejects(
    resumedUserServers(base, plan, { user: [], urls: [] }, async () => false),
    { code: 'EB_USAGE' },
  );
  await assert.rejects(resumedUserServers(base, plan, { user: [], urls: [] }), { code: 'EB_USAGE' });
});
