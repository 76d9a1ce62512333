// The runner's test fixtures: a catalog of tiny real servers (test/helpers/serve-process.ts, which speaks the
// `eventbench serve` contract) and the trial command that starts them; the client is the real `eventbench load`.
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import type { ServerModel } from '../../src/servers/registry.js';
import type { TrialServer, TrialSettings } from '../../src/sweep/session.js';
import type { Plan } from '../../src/results/schema.js';
import { startedHereMatching } from './processes.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
export const SERVE_SCRIPT = here('./serve-process.js');
export const RUN_CHILD = here('./run-child.js');

/** The tiny server alone, as a child of this process (`extra`: its flags), and the URL it prints once it listens. */
export function startTiny(extra: string[] = []) {
  const p = spawn(process.execPath, [SERVE_SCRIPT, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise<string>((resolve) =>
    p.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d.trim().slice('listening on '.length))),
  );
  return { p, url };
}

/**
 * Extra server flags per test model name: `tiny` is healthy, `crashy` dies on its 30th connection; `vanishing` is
 * `tiny`, but unavailable where EVENTBENCH_TEST_GONE names it (a server uninstalled between a run and its resume);
 * `busy` and `busier` spend 1 and 2 ms of CPU on every request, so that their mean latency rises with the load
 * whatever else the machine does (a slope, and a ratio of about 2, for the runs that add rounds), `busier` 2 ms ± 20%
 * drawn per process, so that its ratio to `busy` varies from round to round as a real server's does (two identical
 * processes on a quiet machine once met a 1% precision in two rounds, and no round was added); `sluggish` spends
 * 100 ms on every request, too slow for a short point to hold two waves of its clients.
 */
const FLAGS: Record<string, string[]> = {
  tiny: [],
  vanishing: [],
  'tiny-tree': ['--child'],
  crashy: ['--crash-after', '30'],
  stall: ['--stall'],
  busy: ['--work-ms', '1'],
  busier: ['--work-ms', '2', '--work-spread', '0.2'],
  sluggish: ['--work-ms', '100'],
};

export const testCatalog: ServerModel[] = Object.keys(FLAGS).map((name) => ({
  name,
  family: 'typescript',
  paperRow: null,
  connection: 'event',
  slow: false,
  summary: `test server ${name}`,
  available: async () =>
    (process.env.EVENTBENCH_TEST_GONE ?? '').split(',').includes(name)
      ? { ok: false, reason: `${name} is gone`, hint: 'unset EVENTBENCH_TEST_GONE' }
      : { ok: true },
  start: async () => {
    throw new Error('the runner starts servers through their command line');
  },
}));

export const testTrial: TrialSettings = {
  serverArgv: (server: TrialServer, plan: Plan) => [
    process.execPath,
    SERVE_SCRIPT,
    ...(FLAGS[server.name] ?? []),
    '--backlog',
    String(plan.backlog),
    '--page-bytes',
    String(plan.pageBytes),
  ],
  warmupRequests: 10,
};

/** Live pids this test file started whose command line mentions `needle` (to prove no test server outlived its run). */
export function processesRunning(needle: string): number[] {
  return startedHereMatching(needle).map((p) => p.pid);
}

/** The quota given: a run measures no client capacity to choose it (4-5 s a run; run-real.test.ts checks that). */
export const QUOTA = ['--server-cpu-share', '0.25'];

/** `run` in a quick closed sweep of two TypeScript servers (every machine has them) at two small loads, no memory phase. */
export const QUICK_RUN = [
  ...['run', '--quick', '--servers', 'events,async', '--loads', '10,20', '--seed', '7', '--no-memory', '--no-report'],
  ...QUOTA,
];

/** Starts test/helpers/serve-process.ts in its own process (so its stalls do not stall the client) and stops it after. */
export async function withServeProcess<T>(flags: string[], fn: (url: string) => Promise<T>): Promise<T> {
  const child: ChildProcess = spawn(process.execPath, [SERVE_SCRIPT, ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /^listening on (\S+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`test server exited (${code}) before listening`)));
    });
    return await fn(url);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }
}
