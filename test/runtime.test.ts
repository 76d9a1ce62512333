// Every TypeScript model under every runtime it runs under (Bun and Deno, from the project's own optional
// dependencies), and each runtime's own server, pass the same conformance suite and bad-input tests as under Node;
// a combination that cannot run is refused with its reason, never faked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { typescriptModels } from '../src/servers/models.js';
import { findModel, modelRuntime, withRuntimes } from '../src/servers/registry.js';
import { RUNTIMES, runtimeInfo, splitRuntime, type RuntimeName } from '../src/servers/runtime.js';
import { resolvePlan } from '../src/sweep/plan.js';
import { serveArgv } from '../src/host/local.js';
import { type ConformanceOptions, conformances } from './helpers/conformance.js';
import { needs } from './helpers/optional.js';

const CLI = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const run = promisify(execFile);

/** Skip line for a missing runtime: it comes with `npm ci` (an optional dependency), not with the Debian packages. */
function needsRuntime(runtime: RuntimeName): false | string {
  return needs(runtime, runtimeInfo(runtime).missing, 'npm ci');
}

// The limits of the runtimes' own servers, measured (Bun 1.4.5, Deno 2.9.6), are declared by the models themselves
// (bun-serve.ts, deno-serve.ts: their own 4xx and headers, Bun's own idle clock, Deno's missing timeouts) and show
// as named skips and bounds. A complete head over 8 KiB gets our 431 from both (runtime-serve.ts).
conformances([
  ...RUNTIMES.filter((r) => r !== 'node').flatMap((runtime) =>
    typescriptModels
      .filter((m) => m.runtimes?.[runtime] === true)
      .map((m): [string, ConformanceOptions] => [`${m.name}@${runtime}`, { skip: needsRuntime(runtime) }]),
  ),
  ['bun-serve', { skip: needsRuntime('bun') }],
  ['deno-serve', { skip: needsRuntime('deno') }],
]);

test('every TypeScript model declares where it runs, and says why where it does not', () => {
  for (const model of typescriptModels) {
    assert.ok(model.runtimes, `${model.name} declares no runtimes`);
    for (const r of RUNTIMES) {
      const s = model.runtimes[r];
      assert.ok(s === true || (typeof s === 'string' && s.length > 10), `${model.name} under ${r}: ${String(s)}`);
    }
  }
  assert.equal(typescriptModels.find((m) => m.name === 'events-uv')!.runtimes!.bun === true, false, 'events-uv needs tcp_wrap');
});

test('names: events@bun is events under Bun; Node keeps the plain name; bun-serve runs under Bun only', () => {
  assert.deepEqual(splitRuntime('events@bun'), { model: 'events', runtime: 'bun' });
  assert.deepEqual(splitRuntime('events'), { model: 'events' });
  assert.deepEqual(withRuntimes(['events', 'nginx', 'bun-serve'], ['node', 'deno']), ['events', 'events@deno', 'nginx', 'bun-serve']);
  assert.deepEqual(modelRuntime(findModel('bun-serve')!), { runtime: 'bun' });
  assert.match(JSON.stringify(modelRuntime(findModel('events-uv')!, 'deno')), /tcp_wrap/);
  assert.equal(findModel('nginx@bun'), undefined, 'only TypeScript models run under a runtime');
});

test('the run: --runtimes expands every TypeScript model, skips what cannot run with why, records versions', {
  skip: needsRuntime('bun') || needsRuntime('deno'),
}, async () => {
  const { plan, skipped } = await resolvePlan({
    servers: ['events', 'events-uv', 'threads'],
    runtimes: ['node', 'bun', 'deno'],
    loads: [10],
  });
  assert.deepEqual(plan.servers, ['events', 'events@bun', 'events@deno', 'events-uv', 'threads', 'threads@bun']);
  assert.deepEqual(
    skipped.map((s) => s.server),
    ['events-uv@bun', 'events-uv@deno', 'threads@deno'],
  );
  for (const s of skipped) assert.match(s.reason, /tcp_wrap|file descriptor/);
  assert.equal(plan.runtimes?.bun, runtimeInfo('bun').version);
  assert.equal(plan.runtimes?.deno, runtimeInfo('deno').version);
  const argv = serveArgv('events@deno', ['--port', '0']);
  assert.equal(argv[0], runtimeInfo('deno').bin);
  assert.deepEqual(argv.slice(1, 3), ['run', '-A']);
  assert.ok(argv.includes('events') && !argv.includes('events@deno'));
  await assert.rejects(
    resolvePlan({ servers: ['events'], runtimes: ['java'] }),
    /--runtimes: got "java", expected a list of node, bun, deno/,
  );
});

test('serve refuses a runtime it does not know, and a combination that cannot run, with one line naming why', async () => {
  const cases: [string[], number, RegExp][] = [
    [['serve', 'events', '--runtime', 'java'], 2, /--runtime: got "java", expected one of node, bun, deno/],
    [['serve', 'events-uv@bun'], 1, /events-uv does not run under bun: needs Node's internal tcp_wrap binding/],
    [['serve', 'threads', '--runtime', 'deno'], 1, /threads does not run under deno: Deno's node:net gives no file descriptor/],
    [['serve', 'bun-serve', '--runtime', 'node'], 1, /bun-serve does not run under node/],
    [['serve', 'events@bun', '--port', '70000'], 2, /--port: got 70000, the limit is 0 to 65535/],
  ];
  for (const [args, code, message] of cases) {
    const failed = await run(process.execPath, [CLI, ...args]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    assert.ok(failed, `${args.join(' ')} should fail`);
    assert.match(failed.stderr, message);
    assert.equal(failed.stderr.trim().split('\n').length, 1, `one line: ${failed.stderr}`);
    assert.equal(failed.code, code, `${args.join(' ')}: exit status`);
  }
});
