// A server that leaves the process group it was started in (mini_httpd calls setsid(2) even in the foreground) is
// still counted whole and stopped whole: spawnServer and stopServer follow it into its own group, children included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { alive, groupMembers } from '../src/core/proc.js';
import { serverGroups, spawnServer, stopServer } from '../src/servers/spawned.js';
import { eventually } from './helpers/processes.js';

// util-linux's setsid(1): calls setsid(2) and execs the shell, which forks two sleepers into its new group.
const SETSID = ['/usr/bin/setsid', '/bin/setsid'].find((p) => existsSync(p));

test('a server that makes a session of its own is counted and stopped with every child it forked', {
  skip: SETSID ? false : 'no setsid(1)',
}, async (t) => {
  const server = spawnServer(SETSID!, ['/bin/sh', '-c', 'sleep 300 & sleep 300 & wait'], undefined, true);
  t.after(() => stopServer(server, 500));
  assert.ok(await eventually(() => server.processes() === 3, 5000), `the shell and its two sleepers: ${server.processes()}`);
  const groups = serverGroups(server.pid);
  assert.equal(groups.length, 2, `the guard's group and the one the server made: ${groups.join(', ')}`);
  const own = groupMembers(groups[1]!);
  assert.equal(own.length, 3);
  await stopServer(server);
  assert.deepEqual(own.filter(alive), [], 'no process of its own group is left');
  assert.deepEqual(groupMembers(server.pid), [], 'nor of the group it was started in');
});

test('a server that stays in its group is counted as before: the guard is not one of its processes', async (t) => {
  const server = spawnServer('/bin/sh', ['-c', 'sleep 300 & wait'], undefined, true);
  t.after(() => stopServer(server, 500));
  assert.ok(await eventually(() => server.processes() === 2, 5000), `the shell and its sleeper: ${server.processes()}`);
  assert.deepEqual(serverGroups(server.pid), [server.pid]);
  await stopServer(server);
  assert.deepEqual(groupMembers(server.pid), []);
});
