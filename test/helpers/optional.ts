// Optional components (the Debian servers, GNU Pth and State Threads, ab, Chromium; Bun and Deno, from `npm ci`):
// a test that needs one that is missing is a SKIP naming the install command, listed again at the end of the suite
// (test/zz-suite-end.test.ts). Every skip for a missing component goes through here. CI installs everything and
// sets EVENTBENCH_REQUIRE_ALL=1 (.ci/run): there a missing component FAILS, so every server stays covered.
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The command that installs them, as typed by this user: root runs the script itself; anyone else through sudo. */
export const INSTALL_COMMAND = process.getuid?.() === 0 ? 'scripts/install-servers.sh' : 'sudo scripts/install-servers.sh';

/** Whether every optional component must be present (CI). */
export const REQUIRE_ALL = process.env.EVENTBENCH_REQUIRE_ALL === '1';

/** The file the suite's skips are listed in, when the suite runs as `npm test` (which names the run). */
export function skipsFile(): string | undefined {
  const suite = process.env.EVENTBENCH_TEST_SUITE;
  return suite ? path.join(os.tmpdir(), `eventbench-test-skips-${suite}.txt`) : undefined;
}

/**
 * The `skip` option of a test (or describe) that needs `component`: false when it is there (`why` undefined) or
 * when REQUIRE_ALL is set (so the test runs and fails), else the skip line naming the command that installs it.
 */
export function needs(component: string, why: string | undefined, install = INSTALL_COMMAND): false | string {
  if (why === undefined || REQUIRE_ALL) return false;
  const line = `${component} cannot run here (${why}): install it with \`${install}\``;
  const file = skipsFile();
  if (file) appendFileSync(file, `${line}\n`);
  return line;
}

/** `needs` for a server model: its availability, checked once. */
export async function needsModel(model: {
  name: string;
  available(): Promise<{ ok: true } | { ok: false; reason: string }>;
}): Promise<false | string> {
  const a = await model.available();
  return needs(model.name, a.ok ? undefined : a.reason);
}

/**
 * `needs` for a component only the test itself can look for (say, in a cgroup it has just made): skips `t` with the
 * same named line and says so (true), or says the test goes on (false: it is there, or REQUIRE_ALL, where it fails).
 */
export function skipped(t: { skip(message?: string): void }, component: string, why: string | undefined): boolean {
  const line = needs(component, why);
  if (line) t.skip(line);
  return line !== false;
}
