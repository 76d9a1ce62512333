// CPU lists and pinning (src/host/cpus.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCpuList, pinned } from '../src/host/cpus.js';

test('CPU lists name CPUs that exist, or are refused with the ones that do', () => {
  assert.deepEqual(parseCpuList('--server-cpus', '0-2,5', [0, 1, 2, 3, 4, 5]), [0, 1, 2, 5]);
  assert.throws(() => parseCpuList('--client-cpus', '7', [0, 1]), {
    message: /--client-cpus: got "7", CPU 7 does not exist here; available: 0,1/,
  });
  assert.throws(() => parseCpuList('--client-cpus', 'one', [0, 1]), { message: /expected a CPU list such as 0, 1-3 or 0,2/ });
  assert.deepEqual(pinned('1', ['node', 'x'], true), ['taskset', '-c', '1', 'node', 'x']);
  assert.deepEqual(pinned('1', ['node', 'x'], false), ['node', 'x']);
});
