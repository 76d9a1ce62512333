// Does a user's server pay an overhead of its own? nginx measured twice in the same rounds: as the built-in model,
// and as a user's server (`--servers-file`) whose command starts the very same nginx with the same configuration.
// The run engine measures both (rounds, warm-ups, fits with 95% intervals); target: the two slopes' intervals overlap.
// bench/servers.ts prints its line at its end when nginx is among its servers; alone:
//   node dist/bench/user-server.js [--loads 10,100,250,500,1000] [--repeat 3] [--smoke]
// --smoke: two loads, two rounds, short points: only that the path works, no figure to report.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { nginxModel, nginxSpec } from '../src/servers/external/nginx.js';
import { prepareSite } from '../src/servers/external/site.js';
import { userServers } from '../src/servers/user/index.js';
import { models } from '../src/servers/registry.js';
import { runExperiment, type RunEvent } from '../src/experiments/run.js';
import { RUN_DEFAULTS, QUICK_DEFAULTS, type PlanInput } from '../src/sweep/plan.js';
import { buildModel, type ReportModel } from '../src/report/model.js';
import type { ServerSummary } from '../src/analysis/summary.js';
import { readReportRun } from '../src/report/index.js';
import { overlaps } from '../src/core/intervals.js';
import { flagLabels } from '../src/report/tables.js';
import { intervalText } from '../src/core/format.js';

/** A port no server is given: the configuration is written with it, and the command puts {port} in its place. */
const SENTINEL_PORT = 1;
const USER_NAME = 'nginx-user';

/**
 * A servers file in `dir` whose one server runs the built-in's own nginx configuration, with {port} put into its
 * listen line by sed, then `exec nginx`: the same process tree as the built-in's (guard, master, one worker).
 */
function nginxServersFile(dir: string, pageBytes: number, backlog: number): string {
  const options = { host: '127.0.0.1', port: SENTINEL_PORT, backlog, pageBytes, idleTimeoutMs: 10_000 };
  const site = prepareSite(nginxSpec, options, SENTINEL_PORT);
  const launch = nginxSpec.configure(site);
  const conf = path.join(site.dir, 'nginx.conf');
  const template = path.join(site.dir, 'nginx.conf.in');
  writeFileSync(template, readFileSync(conf, 'utf8').replace(`127.0.0.1:${SENTINEL_PORT} `, '127.0.0.1:@PORT@ '));
  const quoted = launch.args.map((a) => `'${a}'`).join(' ');
  const script = `sed "s/@PORT@/$1/" '${template}' > '${conf}' && exec ${nginxSpec.binary} ${quoted}`;
  const file = path.join(dir, 'servers.json');
  const label = "nginx, started through --servers-file with the built-in's configuration";
  const servers = [{ name: USER_NAME, label, command: ['/bin/sh', '-c', script, USER_NAME, '{port}'] }];
  writeFileSync(file, JSON.stringify({ servers }, null, 2));
  return site.dir;
}

export interface UserServerBenchOptions {
  loads?: number[];
  repeat?: number;
  /** Two loads, two rounds, short points: the code path, not a figure. */
  smoke?: boolean;
}

/** The lines that report both slopes, their 95% intervals, and whether they overlap. */
function verdictLines(model: ReportModel, smoke: boolean): string[] {
  const built = model.servers.find((s) => s.server === 'nginx');
  const mine = model.servers.find((s) => s.server === USER_NAME);
  const slope = (s: ServerSummary | undefined) =>
    s?.slopeCi
      ? `${intervalText(s.slopeCi, 4)} ms/client`
      : s?.latencyFit
        ? `${s.latencyFit.slope.toFixed(4)} ms/client, no interval`
        : `no slope (${s ? flagLabels(s) : 'not measured'})`;
  let verdict = 'no verdict: a slope or its interval is missing (its flags are named above)';
  if (built?.slopeCi && mine?.slopeCi) {
    const met = overlaps(built.slopeCi, mine.slopeCi);
    const overlap = met ? 'overlap: no overhead of its own (target met)' : 'do NOT overlap (target missed)';
    verdict = `the two slopes' 95% intervals ${overlap}; ratio ${(mine.slopeCi.value / built.slopeCi.value).toFixed(3)}`;
  }
  return [
    '',
    "nginx as a built-in and as a user server (target: the two slopes' intervals overlap)",
    `  nginx (built-in)      : ${slope(built)}`,
    `  ${USER_NAME} (--server) : ${slope(mine)}`,
    `  ${verdict}`,
    ...(smoke ? ['  (--smoke: a code-path check, not a figure)'] : []),
  ];
}

/** Measures nginx both ways in one run and returns the lines to print (the slopes, their intervals, the verdict). */
export async function nginxThroughServer(o: UserServerBenchOptions = {}): Promise<string[]> {
  const available = await nginxModel.available();
  if (!available.ok) return [`nginx through --server: not measured (${available.reason}; ${available.hint})`];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eventbench-bench-user-'));
  const siteDir = nginxServersFile(dir, RUN_DEFAULTS.pageBytes, RUN_DEFAULTS.backlog);
  try {
    const input: PlanInput = {
      servers: ['nginx', USER_NAME],
      loads: o.loads ?? (o.smoke ? [10, 50] : [...RUN_DEFAULTS.loads]),
      rounds: o.repeat ?? (o.smoke ? 2 : RUN_DEFAULTS.rounds),
      // The closed sweep alone: the memory phase measures something else.
      memory: false,
      ...(o.smoke ? { quick: true, durationS: QUICK_DEFAULTS.durationS } : {}),
    };
    const user = userServers(
      { serversFile: path.join(dir, 'servers.json') },
      models.map((m) => m.name),
    );
    const plan = `loads ${input.loads!.join(',')}, ${input.rounds} rounds`;
    process.stderr.write(`nginx and ${USER_NAME} (the same nginx through --servers-file): ${plan}\n`);
    const onEvent = (e: RunEvent) => {
      if (e.type === 'point' && e.kept.phase === 'closed') {
        const p = e.kept.point;
        process.stderr.write(`  ${p.server} @ ${p.load} #${p.round}: ${p.status}\n`);
      }
    };
    const outcome = await runExperiment({ input, out: path.join(dir, 'run'), userModels: user, onEvent });
    return verdictLines(buildModel(readReportRun(outcome.dir)), o.smoke === true);
  } finally {
    rmSync(siteDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { loads: { type: 'string' }, repeat: { type: 'string' }, smoke: { type: 'boolean' } } });
  const lines = await nginxThroughServer({
    ...(values.loads ? { loads: values.loads.split(',').map(Number) } : {}),
    ...(values.repeat ? { repeat: Number(values.repeat) } : {}),
    smoke: values.smoke === true,
  });
  process.stdout.write(lines.join('\n') + '\n');
}
