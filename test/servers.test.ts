// Every TypeScript model passes the conformance suite, plus the `serve` command's own behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { typescriptModels } from '../src/servers/models.js';
import { conformances } from './helpers/conformance.js';

const CLI = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const run = promisify(execFile);

// Each model declares where it departs from our rules (node-http's own headers; for a slow one, the time a thread or
// process per connection takes to start): ServerModel.conformance and ServerModel.slow.
conformances(typescriptModels.map((m) => [m.name]));

test('serve --list names every TypeScript model with its family and paper row', async () => {
  const { stdout } = await run(process.execPath, [CLI, 'serve', '--list']);
  for (const model of typescriptModels) {
    assert.match(stdout, new RegExp(`^${model.name} +typescript +${(model.paperRow ?? '-').replace(/[/()]/g, '.')}`, 'm'));
  }
});

test('serve rejects an unknown model and bad flags with one clear line and exit status 2', async () => {
  const cases: [string[], RegExp][] = [
    [['serve', 'nope'], /MODEL: got "nope", expected one of events/],
    [['serve', 'events', '--port', '70000'], /--port: got 70000, the limit is 0 to 65535/],
    [['serve', 'events', '--host', '8.8.8.8'], /--host: got "8\.8\.8\.8", expected a loopback address/],
    [['serve', 'events', '--page-bytes', '10'], /--page-bytes: got 10, the limit is/],
    [['serve', 'events', '--bogus'], /flag: got "--bogus", is not a flag of this command/],
  ];
  for (const [args, message] of cases) {
    const failed = await run(process.execPath, [CLI, ...args]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    assert.ok(failed, `${args.join(' ')} should fail`);
    assert.equal(failed.code, 2, args.join(' '));
    assert.match(failed.stderr, message);
    assert.equal(failed.stderr.trim().split('\n').length, 1, `one line: ${failed.stderr}`);
  }
});
