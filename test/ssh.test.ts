// Host strings and ssh command lines (src/host/ssh.ts): each field of ssh://[user@]host[:port] checked by its rule
// (a host or user starting with "-" would be an option to ssh), refused in one line naming the field, the value and
// the rule before ssh ever runs; and `--` before the destination in every ssh command line eventbench builds (seen
// through a stand-in `ssh` on PATH that writes down its argv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../src/core/errors.js';
import { parseHostSpec, sshArgv, sshTry } from '../src/host/ssh.js';
import { cli } from './helpers/cli.js';

/** The payload: a host that ssh would take for an option, running `touch x` through the shell. */
const EVIL = `ssh://-oProxyCommand=touch$\{IFS}x`;
const FORM = 'expected local or ssh://[user@]host[:port], e.g. ssh://bench@192.168.1.20 or ssh://10.208.0.11';
const HOST_RULE =
  'is not a host (RFC 3986): a name of letters, digits, "-" and "." whose labels do not start with "-", an IPv4 ' +
  'address, or an IPv6 address in []';

test('host strings: each field is checked by its rule, and a bad one is one line naming the field, the value and the rule', () => {
  assert.deepEqual(parseHostSpec('ssh://bench@10.0.0.2:2222', '--server-host'), {
    kind: 'ssh',
    text: 'ssh://bench@10.0.0.2:2222',
    host: '10.0.0.2',
    user: 'bench',
    port: 2222,
  });
  assert.deepEqual(parseHostSpec('ssh://[fe80::1]:22/'), { kind: 'ssh', text: 'ssh://[fe80::1]:22/', host: 'fe80::1', port: 22 });
  assert.deepEqual(parseHostSpec('ssh://bench.lab-2.example.org'), {
    kind: 'ssh',
    text: 'ssh://bench.lab-2.example.org',
    host: 'bench.lab-2.example.org',
  });
  const cases: [string, string][] = [
    [EVIL, `its host "-oProxyCommand=touch$\{IFS}x" ${HOST_RULE}`],
    [
      'ssh://-oProxyCommand=x@host',
      'its user "-oProxyCommand=x" is not a user name: letters, digits, ".", "_" and "-", at most 32, not starting with "-"',
    ],
    ['ssh://bench@-p2222', `its host "-p2222" ${HOST_RULE}`],
    ['ssh://a.-b', `its host "a.-b" ${HOST_RULE}`],
    ['ssh://host;reboot', `its host "host;reboot" ${HOST_RULE}`],
    ['ssh://[not:an:ip]', `its host "[not:an:ip]" ${HOST_RULE}`],
    ['ssh://host:0', 'its port "0" is not a port: the limit is 1 to 65535'],
    ['ssh://host:65536', 'its port "65536" is not a port: the limit is 1 to 65535'],
    ['ssh://host:-1', 'its port "-1" is not a port: the limit is 1 to 65535'],
  ];
  for (const [text, rule] of cases) {
    assert.throws(
      () => parseHostSpec(text, '--server-host'),
      (e: Error) => e instanceof UsageError && e.message === `--server-host: got ${JSON.stringify(text)}, ${rule}; ${FORM}`,
      text,
    );
  }
  for (const text of ['bench@10.0.0.2', 'http://x', 'ssh://u:pw@a', 'ssh://a/b', 'ssh://']) {
    assert.throws(
      () => parseHostSpec(text),
      { message: `--agents: got ${JSON.stringify(text)}, ${FORM.replace(', e.g.', '; e.g.')}` },
      text,
    );
  }
});

test('every ssh command line has -- before the destination; the hint to try by hand does too', () => {
  const spec = parseHostSpec('ssh://bench@bench.example:2222');
  assert.ok(spec.kind === 'ssh');
  assert.deepEqual(sshArgv(spec, ['-o', 'BatchMode=yes'], ['eventbench agent']), [
    '-o',
    'BatchMode=yes',
    '--',
    'bench.example',
    'eventbench agent',
  ]);
  assert.equal(sshTry(spec), 'ssh -p 2222 -l bench -- bench.example true');
});

test('a host string that would be an option to ssh is refused by run, load and doctor, and runs nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eventbench-ssh-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const evil = EVIL;
  const runs: [string[], string][] = [
    [['run', '--quick', '--servers', 'events', '--server-host', evil, '--out', join(dir, 'r')], '--server-host'],
    [['run', '--quick', '--servers', 'events', '--client-hosts', `local,${evil}`, '--out', join(dir, 'r')], '--client-hosts'],
    [['load', '--agents', evil, '-c', '1', '-n', '1', 'http://127.0.0.1:9/'], '--agents'],
    [['doctor', '--host', evil], '--host'],
  ];
  for (const [args, field] of runs) {
    const r = await cli(args, { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const said = r.stderr
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('eventbench run: removed '))
      .join('\n');
    assert.match(said, new RegExp(`^eventbench \\w+: ${field}: got "ssh://-oProxyCommand=touch\\$\\{IFS\\}x", its host "-oProxyCommand=`));
    assert.deepEqual(readdirSync(dir), [], 'nothing ran: no file x, no run folder');
  }
});

test('the ssh eventbench runs gets -- before its destination, for the session and for closing the master', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eventbench-ssh-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A stand-in ssh that writes down its argv, one line per call, and fails as ssh does when it cannot connect.
  const log = join(dir, 'argv.log');
  writeFileSync(
    join(dir, 'ssh'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> ${log}\necho 'ssh: connect to host h: Connection refused' >&2\nexit 255\n`,
  );
  chmodSync(join(dir, 'ssh'), 0o755);
  const r = await cli(['load', '--agents', 'ssh://bench@h.example:2222', '-c', '1', '-n', '1', 'http://127.0.0.1:9/'], {
    env: { PATH: `${dir}:${process.env.PATH}` },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^eventbench load: ssh:\/\/bench@h\.example:2222: ssh could not connect or log in .*: ssh -p 2222 -l bench -- h\.example true\n$/,
  );
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(calls.length, 2, calls.join('\n'));
  assert.match(calls[0]!, / -p 2222 -l bench -- h\.example \S+.* agent$/, 'the session');
  assert.match(calls[1]!, / -p 2222 -l bench -O exit -- h\.example$/, 'closing the master');
  assert.equal(existsSync(join(dir, 'x')), false);
});
