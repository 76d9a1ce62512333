// The production servers, started from their Debian binaries: they serve the page of the requested size, answer
// bad requests with a 4xx and keep serving, and leave no process and no temporary folder behind.
// (The shared conformance suite runs against them too, allowing any 4xx.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pageBody } from '../src/servers/page.js';
import { productionModels } from '../src/servers/external/index.js';
import type { ServeOptions, ServerModel } from '../src/servers/registry.js';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, descendants, killTree, signalProcess } from '../src/core/proc.js';
import { tempPrefix } from '../src/servers/external/site.js';
import { eventually, groupProcesses, serverProcess, tempEntries } from './helpers/processes.js';
import { bodyOf, exchange, statusOf } from './helpers/raw-http.js';
import { CARDS_AT_ONCE, conformance } from './helpers/conformance.js';
import { needsModel } from './helpers/optional.js';
import { errorCode } from '../src/check/checks.js';
import { exchange as rawExchange } from '../src/check/http.js';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const BINARY_NAMES: Record<string, string> = {
  'apache-prefork': 'apache2',
  'apache-worker': 'apache2',
  'apache-event': 'apache2',
  lighttpd: 'lighttpd',
  nginx: 'nginx',
  h2o: 'h2o',
  webfs: 'webfsd',
  'mini-httpd': 'mini_httpd',
};

// The production servers are Debian packages: without them their tests are skipped, naming the install command.
const skip = new Map(await Promise.all(productionModels.map(async (m) => [m.name, await needsModel(m)] as const)));

for (const model of productionModels) {
  test(`${model.name}: serves the page, answers bad requests with a 4xx, stops without leftovers`, {
    skip: skip.get(model.name) ?? false,
  }, async (t) => {
    const tempBefore = tempEntries(tempPrefix(model.name)); // this process's only: other test files run beside this one
    const options: ServeOptions = { host: '127.0.0.1', port: 0, backlog: 300, pageBytes: 1000, idleTimeoutMs: 2000 };
    const server = await model.start(options);
    t.after(() => server.close());
    assert.ok(server.effectiveBacklog > 0);
    const main = serverProcess(BINARY_NAMES[model.name] ?? model.name);

    const get = await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(statusOf(get.bytes), 200);
    assert.ok(bodyOf(get.bytes).equals(pageBody(1000)), "the body is page.ts's page of the requested size");
    assert.match(get.bytes.toString('latin1'), /\r\ncontent-type: text\/html/i);
    const index = await exchange(server.url, 'GET /index.html HTTP/1.0\r\n\r\n');
    assert.ok(bodyOf(index.bytes).equals(pageBody(1000)));
    const head = await exchange(server.url, 'HEAD / HTTP/1.0\r\n\r\n');
    assert.equal(statusOf(head.bytes), 200);
    assert.equal(bodyOf(head.bytes).length, 0);
    assert.equal(statusOf((await exchange(server.url, 'GET /nope HTTP/1.0\r\n\r\n')).bytes), 404);
    const declared = model.conformance ?? {};
    for (const bad of ['POST / HTTP/1.0\r\n\r\n', 'garbage\r\n\r\n', '\x00\x01\x02 binary\r\n\r\n']) {
      const status = errorCode(declared, (await exchange(server.url, Buffer.from(bad, 'latin1'))).bytes);
      // webfs and mini_httpd answer a POST to a file with 501, declared (Conformance.notImplemented).
      const ok = (status >= 400 && status < 500) || (bad.startsWith('POST') && status === 501 && declared.notImplemented !== undefined);
      assert.ok(ok, `${JSON.stringify(bad.slice(0, 12))} got ${status}`);
    }
    assert.equal(statusOf((await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n')).bytes), 200, 'still serving');

    await server.close();
    assert.deepEqual(
      groupProcesses(main.pid).filter((p) => p.state !== 'Z'),
      [],
      'no process of the server is left',
    );
    assert.deepEqual(tempEntries(tempPrefix(model.name)), tempBefore, 'its temporary folder is removed');
  });
}

test('apache records the ListenBacklog it asked for, capped by somaxconn', { skip: skip.get('apache-prefork') ?? false }, async (t) => {
  const apache = productionModels.find((m) => m.name === 'apache-prefork');
  assert.ok(apache);
  const server = await apache.start({ host: '127.0.0.1', port: 0, backlog: 77, pageBytes: 305, idleTimeoutMs: 2000 });
  t.after(() => server.close());
  assert.equal(server.effectiveBacklog, 77);
  assert.match(server.notes.join('\n'), /ListenBacklog 77/);
});

test('a port already in use is reported, not mistaken for the server', { skip: skip.get('nginx') ?? false }, async (t) => {
  const { default: net } = await import('node:net');
  const squatter = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => squatter.once('listening', r));
  t.after(() => squatter.close());
  const port = (squatter.address() as { port: number }).port;
  const nginx = productionModels.find((m) => m.name === 'nginx');
  assert.ok(nginx);
  await assert.rejects(nginx.start({ host: '127.0.0.1', port, backlog: 511, pageBytes: 305, idleTimeoutMs: 2000 }), /in use/);
});

/** Requests from the open Internet, each sent whole without a half-close: the server must end every connection itself. */
const HOSTILE: [string, string | Buffer][] = [
  ['binary garbage', Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256))],
  ['NUL bytes in the request line', 'GET /\x00/../etc/passwd HTTP/1.0\r\n\r\n'],
  ['a 100 KB header', `GET / HTTP/1.0\r\nX-Filler: ${'a'.repeat(100_000)}\r\n\r\n`],
  ['5000 small headers', `GET / HTTP/1.0\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`],
  ['an unfinished 1 MB head', `GET / HTTP/1.0\r\nX-Filler: ${'a'.repeat(1_000_000)}`],
  ['a 100 KB URI', `GET /${'a'.repeat(100_000)} HTTP/1.0\r\n\r\n`],
  ['/../../etc/passwd', 'GET /../../etc/passwd HTTP/1.0\r\n\r\n'],
  ['%2e%2e', 'GET /%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n'],
  ['..%2f', 'GET /..%2f..%2f..%2fetc%2fpasswd HTTP/1.0\r\n\r\n'],
  ['%252e, encoded twice', 'GET /%252e%252e/%252e%252e/etc/passwd HTTP/1.0\r\n\r\n'],
  ['a traversal after the page', 'GET /index.html/../../../../etc/passwd HTTP/1.0\r\n\r\n'],
  ['backslashes', 'GET /..\\..\\..\\etc\\passwd HTTP/1.0\r\n\r\n'],
  ['a bare ..', 'GET /.. HTTP/1.0\r\n\r\n'],
  ['an absolute URI', 'GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'],
  ['an absolute URI with a traversal', 'GET http://127.0.0.1/../../etc/passwd HTTP/1.0\r\n\r\n'],
  ['an asterisk', 'OPTIONS * HTTP/1.0\r\n\r\n'],
  ['HTTP/0.9', 'GET /\r\n\r\n'],
  ['an unknown version', 'GET / HTTP/9.9\r\n\r\n'],
  ['bare LFs', 'GET / HTTP/1.0\nHost: x\n\n'],
  ['a header without a colon', 'GET / HTTP/1.0\r\nnonsense\r\n\r\n'],
  ['a negative Content-Length', 'GET / HTTP/1.0\r\nContent-Length: -1\r\n\r\n'],
  ['a broken chunked body', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnope\r\n\r\n'],
  ['a thousand ranges', `GET / HTTP/1.0\r\nRange: bytes=${Array.from({ length: 600 }, () => '0-0').join(',')}\r\n\r\n`],
  ['pipelined then garbage', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02\x03\r\n\r\n'],
];

/**
 * Each server's hostile requests beside its conformance card (each waits out mini_httpd's 60 s clock once), the
 * servers CARDS_AT_ONCE at a time, mini_httpd first: its minute holds the others.
 */
describe('production servers', { concurrency: CARDS_AT_ONCE }, () => {
  const first = (m: ServerModel) => (m.name === 'mini-httpd' ? 0 : 1);
  for (const model of [...productionModels].sort((a, b) => first(a) - first(b))) {
    describe(model.name, { concurrency: true }, () => {
      hostile(model);
      conformance(model.name, { skip: skip.get(model.name) ?? false });
    });
  }
});

function hostile(model: ServerModel): void {
  test(`${model.name}: hostile requests end in a close (or a reset), leak no file outside its folder, and it keeps serving`, {
    skip: skip.get(model.name) ?? false,
  }, async (t) => {
    const server = await model.start({ host: '127.0.0.1', port: 0, backlog: 511, pageBytes: 305, idleTimeoutMs: 1000 });
    t.after(() => server.close());
    const { hostname, port } = new URL(server.url);
    // Its idle timeout is 1 s; a server with a clock of its own declares how long it may take (mini_httpd: 62 s).
    const boundMs = (model.conformance?.ownIdleClose?.withinS ?? 5) * 1000 + 2000;
    const ends = await Promise.all(
      HOSTILE.map(([, request]) => rawExchange({ host: hostname, port: Number(port) }, request, { timeoutMs: boundMs })),
    );
    for (const [i, r] of ends.entries()) {
      const what = HOSTILE[i]![0];
      assert.ok(r.end === 'closed' || r.end === 'reset', `${what}: the connection ended ${r.end} after ${r.elapsedMs} ms`);
      const text = r.data.toString('latin1');
      assert.doesNotMatch(text, /root:[^:\n]*:0:0:/, `${what}: it sent /etc/passwd`);
      // A 200 serves the page, the only file in its folder, or nothing (Apache answers OPTIONS * so).
      const body = bodyOf(r.data);
      if (statusOf(r.data) === 200 && body.length > 0)
        assert.ok(body.subarray(0, 305).equals(pageBody(305)), `${what}: a 200 that is not the page`);
    }
    const after = await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(statusOf(after.bytes), 200, 'still serving');
  });
}

test('a missing production server is reported with its Debian package, never a stack trace', async () => {
  const { productionModel } = await import('../src/servers/external/launch.js');
  const ghost = productionModel({
    name: 'ghost',
    paperRow: null,
    connection: 'event',
    summary: 'not installed',
    binary: '/nonexistent/eventbench-ghost',
    debianPackage: 'ghost-httpd',
    configure: () => ({ args: [], effectiveBacklog: 1, notes: [] }),
  });
  const availability = await ghost.available();
  assert.equal(availability.ok, false);
  assert.match(
    availability.ok ? '' : `${availability.reason}; ${availability.hint}`,
    /\/nonexistent\/eventbench-ghost is not installed; install it with `(sudo )?apt-get install ghost-httpd`/,
  );
  await assert.rejects(ghost.start({ host: '127.0.0.1', port: 0, backlog: 511, pageBytes: 305, idleTimeoutMs: 1000 }), {
    code: 'EB_SERVER',
    message: /apt-get install ghost-httpd/,
  });
});

// nginx forks its workers into the launcher's group; mini_httpd calls setsid(2) and forks a child per connection in
// a group of its own, which the guard must follow (servers/spawned.ts). A silent client holds one such child.
for (const name of ['nginx', 'mini-httpd']) {
  test(`kill -9 of \`eventbench serve ${name}\` takes it and every process it forked with it; the next doctor removes its folder and says so`, {
    skip: skip.get(name) ?? false,
  }, async (t) => {
    // A temp folder of its own: another test file's run, beside this one, would remove the leftover before doctor.
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'eventbench-external-'));
    chmodSync(tmp, 0o755); // nginx's workers drop root and must reach the page
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
    const env = { ...process.env, TMPDIR: tmp };
    const serve = spawn(process.execPath, [BIN, 'serve', name, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    t.after(() => killTree(serve.pid!, 'SIGKILL', process.pid));
    const url = await new Promise<string>((resolve, reject) => {
      serve.stdout.setEncoding('utf8').on('data', (d: string) => {
        const m = /^listening on (\S+)/.exec(d);
        if (m) resolve(m[1]!);
      });
      serve.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
    });
    const { default: net } = await import('node:net');
    const silent = net.connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    silent.on('error', () => {});
    t.after(() => silent.destroy());
    await new Promise((r) => silent.once('connect', r));
    await eventually(() => descendants(serve.pid!).length >= 4, 2000); // serve, the guard, the server, a worker or child
    const tree = descendants(serve.pid!).filter((p) => p !== serve.pid);
    assert.ok(tree.length >= 3, `${name} runs under its guard with a worker or a child: ${tree.length} processes`);
    t.after(() => {
      for (const p of tree.filter(alive)) signalProcess(p, 'SIGKILL');
    }); // seen as ours: even if the test fails
    const folders = tempEntries(tempPrefix(name, serve.pid!), tmp);
    assert.equal(folders.length, 1, "its temporary folder carries its owner's pid");
    serve.kill('SIGKILL');
    assert.ok(await eventually(() => tree.filter(alive).length === 0, 5000), `left running: ${tree.filter(alive).join(', ')}`);
    const doctor = spawnSync(process.execPath, [BIN, 'doctor'], { encoding: 'utf8', timeout: 60_000, env });
    assert.match(
      doctor.stdout,
      new RegExp(`removed \\S+${folders[0]}, the folder of a ${name} started by eventbench pid ${serve.pid}, which is gone`),
    );
    assert.deepEqual(tempEntries(tempPrefix(name, serve.pid!), tmp), []);
  });
}

test('webfs refuses an IPv6 host with the flag, the value and what to use, and leaves no folder', {
  skip: skip.get('webfs') ?? false,
}, async () => {
  const webfs = productionModels.find((m) => m.name === 'webfs');
  assert.ok(webfs);
  const before = tempEntries(tempPrefix('webfs'));
  await assert.rejects(webfs.start({ host: '::1', port: 0, backlog: 511, pageBytes: 305, idleTimeoutMs: 1000 }), {
    code: 'EB_USAGE',
    message: /^--host: got "::1", webfs answers 400 to every request without a Host header over IPv6; use 127\.0\.0\.1$/,
  });
  assert.deepEqual(tempEntries(tempPrefix('webfs')), before);
});

test("a TMPDIR that the server's user cannot enter is refused before the start, named, and leaves no folder", {
  skip: skip.get('nginx') ?? (process.getuid?.() !== 0 && 'run as root only: a server started by another user keeps its user'),
}, async () => {
  const nginx = productionModels.find((m) => m.name === 'nginx')!;
  const closed = mkdtempSync(path.join(os.tmpdir(), 'eventbench-closed-'));
  chmodSync(closed, 0o700);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = closed;
  try {
    await assert.rejects(nginx.start({ host: '127.0.0.1', port: 0, backlog: 511, pageBytes: 305, idleTimeoutMs: 1000 }), {
      message: new RegExp(
        `^nginx: its workers run as www-data and cannot enter ${closed} \\(mode 0700, owner uid 0\\), on the way to the page in ` +
          `${closed}/eventbench-nginx-\\S+: it would answer 403\\. TMPDIR is ${closed}: set it to a folder every user can enter, such as /tmp$`,
      ),
    });
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  assert.deepEqual(tempEntries('eventbench-', closed), []);
  rmSync(closed, { recursive: true });
});

test('serve --list names every production model with its family and the paper row it answers', async () => {
  const list = spawnSync(process.execPath, [BIN, 'serve', '--list'], { encoding: 'utf8', timeout: 60_000 });
  for (const model of productionModels) {
    assert.match(list.stdout, new RegExp(`^${model.name} +production +${model.paperRow ?? '-'} `, 'm'));
  }
  // thttpd's row is webfs's, its kin; mini_httpd stands beside the fork toy without answering its row.
  assert.match(list.stdout, /^webfs +production +thttpd +webfs: one process, a select\(2\) loop/m);
  assert.match(list.stdout, /^mini-httpd +production +- +mini_httpd: a process forked per connection/m);
});
