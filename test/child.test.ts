// The one way eventbench starts a program (src/core/child.ts): everything a child printed is there once it has
// exited, even when the exit is seen before the last of its output was read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startChild } from '../src/core/child.js';

test('a child that prints 4 MB and exits at once: exited resolves with every byte read', async () => {
  const bytes = 4 << 20;
  for (let i = 0; i < 5; i++) {
    const child = startChild(process.execPath, ['-e', `process.stdout.write('x'.repeat(${bytes}) + 'END')`], { keepStdout: true });
    const { code } = await child.exited;
    assert.equal(code, 0);
    assert.equal(child.stdout().length, bytes + 3, `run ${i + 1}: ${child.stdout().length} bytes read of ${bytes + 3}`);
  }
});

test('a child whose own child keeps its pipes open: exited still resolves, within the drain bound', async () => {
  // The grandchild inherits stdout and sleeps 5 s, in the child's process group; the child exits at once.
  const child = startChild(
    process.execPath,
    [
      '-e',
      "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'inherit' }).unref(); console.log('bye')",
    ],
    { keepStdout: true },
  );
  const t0 = performance.now();
  await child.exited;
  const waited = performance.now() - t0;
  assert.ok(waited < 3000, `resolved after ${waited.toFixed(0)} ms`);
  assert.equal(child.stdout(), 'bye\n');
  process.kill(-child.pid, 'SIGKILL'); // the grandchild, still in the group
});
