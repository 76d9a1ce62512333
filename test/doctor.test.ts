import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const doctor = (...args: string[]) => spawnSync(process.execPath, [BIN, 'doctor', ...args], { encoding: 'utf8' });

test('doctor prints every check, a fix for each problem, and exits 1 exactly when something fails', () => {
  const r = doctor();
  for (const name of [
    'somaxconn',
    'tcp_max_syn_backlog',
    'local ports',
    'open files',
    'cores',
    'taskset',
    'cgroup CPU',
    'C compiler',
    'ab',
    'servers',
  ]) {
    assert.match(r.stdout, new RegExp(`^(ok  |warn|FAIL)  ${name} `, 'm'), name);
  }
  assert.equal(r.status, /^FAIL/m.test(r.stdout) ? 1 : 0, r.stdout);
  for (const line of r.stdout.split('\n').filter((l) => /^(warn|FAIL)/.test(l))) {
    const next = r.stdout.split('\n')[r.stdout.split('\n').indexOf(line) + 1] ?? '';
    assert.match(next, /fix: /, `no fix after: ${line}`);
  }
});

test('a load beyond what the kernel queues is a failing check with the sysctl that fixes it', () => {
  const r = doctor('--max-load', '900000');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^FAIL {2}somaxconn .*below the largest load 900000/m);
  assert.match(r.stdout, /fix: (sudo )?sysctl -w net.core.somaxconn=900000/);
  assert.equal(doctor('--max-load', '0').status, 2);
});
