// Runs last in `npm test`, by itself, after every other file (scripts/test.sh): lists what the suite skipped for a missing
// optional component, with the install command, and fails if any process the suite started is still running.
// `npm test` marks every process of the suite with EVENTBENCH_TEST_SUITE (children inherit it); a process that
// still carries the mark once every other file has finished was left behind by one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { alive, procStat, signalProcess } from '../src/core/proc.js';
import { allProcesses, carries, eventually } from './helpers/processes.js';
import { INSTALL_COMMAND, REQUIRE_ALL, skipsFile } from './helpers/optional.js';

const suite = process.env.EVENTBENCH_TEST_SUITE;
const notSuite = suite ? false : "only as part of `npm test`, which marks the suite's processes";

test("the suite's skips for missing optional components, each with its install command", { skip: notSuite }, (t) => {
  const file = skipsFile()!;
  const lines = existsSync(file) ? [...new Set(readFileSync(file, 'utf8').trim().split('\n').filter(Boolean))] : [];
  rmSync(file, { force: true });
  if (lines.length === 0) return t.diagnostic('nothing skipped: every optional component is installed');
  t.diagnostic(`skipped ${lines.length} optional component(s); \`${INSTALL_COMMAND}\` installs them all:`);
  for (const line of lines) t.diagnostic(`  ${line}`);
  assert.equal(REQUIRE_ALL, false, 'EVENTBENCH_REQUIRE_ALL=1 and yet something was skipped');
});

/** This process and every ancestor: they carry the mark and are meant to. */
function ancestry(): Set<number> {
  const out = new Set<number>();
  for (let p: number | undefined = process.pid; p !== undefined && p > 1 && !out.has(p); p = procStat(p)?.ppid) out.add(p);
  return out;
}

function marked(): { pid: number; cmdline: string }[] {
  const mine = ancestry();
  return allProcesses().filter((p) => {
    // A sibling of the test runner (say `| tee` in a shell that exported the mark) is not the suite's.
    if (mine.has(p.pid) || p.state === 'Z' || (mine.has(p.ppid) && p.ppid !== process.ppid)) return false;
    return carries(p.pid, `EVENTBENCH_TEST_SUITE=${suite}`);
  });
}

test('no process started by the suite is left running', { skip: notSuite }, async () => {
  // Servers whose parent died notice within a second or two (their dead-parent checks): give them that.
  await eventually(() => marked().length === 0, 5000);
  const left = marked();
  for (const p of left) if (alive(p.pid)) signalProcess(p.pid, 'SIGKILL'); // ours by the mark: clean up, then fail
  assert.deepEqual(
    left.map((p) => `${p.pid} ${p.cmdline.slice(0, 120)}`),
    [],
    'processes left behind by the suite',
  );
});
