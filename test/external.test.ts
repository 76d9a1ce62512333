// The production servers, started from their Debian binaries: they serve the page of the requested size, answer
// bad requests with a 4xx and keep serving, and leave no process and no temporary folder behind.
// (The shared conformance suite runs against them too, allowing any 4xx.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageBody } from '../src/servers/page.js';
import { productionModels } from '../src/servers/external/index.js';
import type { ServeOptions } from '../src/servers/registry.js';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { alive, descendants, killTree, signalProcess } from '../src/core/proc.js';
import { tempPrefix } from '../src/servers/external/launch.js';
import { eventually, groupProcesses, serverProcess, tempEntries } from './helpers/processes.js';
import { bodyOf, exchange, statusOf } from './helpers/raw-http.js';
import { conformance } from './helpers/conformance.js';
import { needsModel } from './helpers/optional.js';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const BINARY_NAMES: Record<string, string> = {
  'apache-prefork': 'apache2',
  'apache-worker': 'apache2',
  'apache-event': 'apache2',
  lighttpd: 'lighttpd',
  nginx: 'nginx',
  h2o: 'h2o',
};

// The production servers are Debian packages: without them their tests are skipped, naming the install command.
const skip = new Map(await Promise.all(productionModels.map(async (m) => [m.name, await needsModel(m)] as const)));

for (const model of productionModels) {
  test(`${model.name}: serves the page, answers bad requests with a 4xx, stops without leftovers`, {
    skip: skip.get(model.name) ?? false,
  }, async (t) => {
    const tempBefore = tempEntries(`eventbench-${model.name}-`);
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
    for (const bad of ['POST / HTTP/1.0\r\n\r\n', 'garbage\r\n\r\n', '\x00\x01\x02 binary\r\n\r\n']) {
      const status = statusOf((await exchange(server.url, Buffer.from(bad, 'latin1'))).bytes);
      assert.ok(status >= 400 && status < 500, `${JSON.stringify(bad.slice(0, 12))} got ${status}`);
    }
    assert.equal(statusOf((await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n')).bytes), 200, 'still serving');

    await server.close();
    assert.deepEqual(
      groupProcesses(main.pid).filter((p) => p.state !== 'Z'),
      [],
      'no process of the server is left',
    );
    assert.deepEqual(tempEntries(`eventbench-${model.name}-`), tempBefore, 'its temporary folder is removed');
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

for (const model of productionModels) conformance(model.name, { skip: skip.get(model.name) ?? false });

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
    /\/nonexistent\/eventbench-ghost is not installed; install it with `sudo apt-get install ghost-httpd`/,
  );
  await assert.rejects(ghost.start({ host: '127.0.0.1', port: 0, backlog: 511, pageBytes: 305, idleTimeoutMs: 1000 }), {
    code: 'EB_SERVER',
    message: /apt-get install ghost-httpd/,
  });
});

test('kill -9 of `eventbench serve nginx` takes nginx and its workers with it; the next doctor removes its folder and says so', {
  skip: skip.get('nginx') ?? false,
}, async (t) => {
  const serve = spawn(process.execPath, [BIN, 'serve', 'nginx', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => killTree(serve.pid!, 'SIGKILL', process.pid));
  await new Promise<void>((resolve, reject) => {
    serve.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.startsWith('listening on ')) resolve();
    });
    serve.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  });
  const tree = descendants(serve.pid!).filter((p) => p !== serve.pid);
  assert.ok(tree.length >= 2, `nginx runs a master and workers: ${tree.length} processes`);
  t.after(() => {
    for (const p of tree.filter(alive)) signalProcess(p, 'SIGKILL');
  }); // seen as ours: even if the test fails
  const folders = tempEntries(tempPrefix('nginx', serve.pid!));
  assert.equal(folders.length, 1, "its temporary folder carries its owner's pid");
  serve.kill('SIGKILL');
  assert.ok(await eventually(() => tree.filter(alive).length === 0, 5000), `left running: ${tree.filter(alive).join(', ')}`);
  const doctor = spawnSync(process.execPath, [BIN, 'doctor'], { encoding: 'utf8', timeout: 60_000 });
  assert.match(
    doctor.stdout,
    new RegExp(`removed \\S+${folders[0]}, the folder of a nginx started by eventbench pid ${serve.pid}, which is gone`),
  );
  assert.deepEqual(tempEntries(tempPrefix('nginx', serve.pid!)), []);
});
