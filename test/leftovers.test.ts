// What a killed run left behind (src/host/leftovers.ts), removed by the next run: only what is this user's. Another
// user's stale ssh folder in a shared /tmp is theirs: left alone, without an EACCES that would stop the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needs } from './helpers/optional.js';

const LEFTOVERS = fileURLToPath(new URL('../src/host/leftovers.js', import.meta.url));

/** Whether this test may act as another user (root, with util-linux's setpriv). */
function otherUser(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test runs as root to act as nobody';
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'setpriv is missing (util-linux)';
  }
}

test("another user's stale ssh folder is left alone, no EACCES; ours is removed", {
  skip: needs('another user (root, setpriv)', otherUser()),
}, (t) => {
  const shared = mkdtempSync(join(tmpdir(), 'eventbench-leftovers-'));
  t.after(() => rmSync(shared, { recursive: true, force: true }));
  chmodSync(shared, 0o1777);
  // Left by a root run whose pid is gone, with a socket file in it: nobody may not remove it.
  const roots = join(shared, 'eventbench-ssh-999999-abcdef');
  mkdirSync(roots);
  writeFileSync(join(roots, 'sock'), '');
  const script = `import(${JSON.stringify(LEFTOVERS)}).then((m) => process.stdout.write(JSON.stringify(m.removeStaleSshFolders(${JSON.stringify(shared)}))))`;
  const asNobody = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], {
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(asNobody), [], 'nothing said, nothing thrown');
  assert.ok(existsSync(join(roots, 'sock')), "root's folder is root's");
  const asRoot = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(asRoot), [`removed ${roots}, the ssh sockets of eventbench pid 999999, which is gone`]);
  assert.equal(existsSync(roots), false);
});
