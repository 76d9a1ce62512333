// The environment every result carries (src/core/environment.ts): the variables that change a measurement are kept
// by an allow-list; any other (a token, a password) is named at most, never written with its value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measurementVariables } from '../src/core/environment.js';

const ENVIRONMENT = fileURLToPath(new URL('../src/core/environment.js', import.meta.url));

test('only the allow-listed variables are kept with their values; the others are named', () => {
  const { kept, left } = measurementVariables({ UV_THREADPOOL_SIZE: '8', GOMAXPROCS: '1', AWS_SECRET_ACCESS_KEY: 's3cr3t', HOME: '/root' });
  assert.deepEqual(kept, { UV_THREADPOOL_SIZE: '8', GOMAXPROCS: '1' });
  assert.deepEqual(left, ['AWS_SECRET_ACCESS_KEY', 'HOME']);
});

test("the runner's environment records its allow-listed variables, and never a secret's value", () => {
  const script = `import(${JSON.stringify(ENVIRONMENT)}).then((m) => process.stdout.write(JSON.stringify(m.environment())))`;
  const env = { ...process.env, UV_THREADPOOL_SIZE: '8', API_TOKEN: 'hunter2' };
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
  assert.ok(!out.includes('hunter2'));
  const recorded = JSON.parse(out) as { variables: Record<string, string> };
  assert.equal(recorded.variables.UV_THREADPOOL_SIZE, '8');
  assert.equal(recorded.variables.API_TOKEN, undefined);
});
