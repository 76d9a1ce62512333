// `eventbench run`: the paper's whole experiment in one command. Parses flags, draws progress on stderr, prints
// the ranking on stdout, and writes the report; the work itself is src/experiments/run.ts.
import { CLEAR_LINE } from '../progress.js';
import { fmtS, PHASE_TITLE, progress } from '../run-progress.js';
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { durationArg, numberArg, parseCommandArgs, parseNumberArg, shareArg, timeText } from '../../core/args.js';
import { UsageError } from '../../core/errors.js';
import { SETTINGS, settingHelp } from '../../core/defaults.js';
import { BUDGET_LIMITS_S, PRECISION_LIMITS, QUICK_DEFAULTS, RUN_DEFAULTS, SHARPEN_DEFAULTS, type PlanInput } from '../../sweep/plan.js';
import { runExperiment, type RunOptions, type RunOutcome } from '../../experiments/run.js';
import { MEMORY_FILE, OPEN_POINTS_FILE } from '../../results/schema.js';
import { removeLeftovers } from '../../host/leftovers.js';
import type { HostsInput } from '../../host/run-hosts.js';
import { checkRateFractions, DEFAULT_RATE_FRACTIONS } from '../../experiments/open-loop.js';
import { RUN_MEMORY, RUN_MEMORY_QUICK } from '../../experiments/phases.js';
import type { Engine } from '../../load/types.js';
import { DEFAULT_TRANSPORT, type TransportChoice } from '../../load/transport.js';
import { buildModel, readReportRun, REPORT_PRICE_S, writeReport } from '../../report/index.js';
import type { Plan } from '../../results/schema.js';
import { rankingTable } from '../../report/tables.js';
import { markdownTable } from '../../report/text.js';
import { urlServers } from '../../servers/user/index.js';
import type { ServerModel } from '../../servers/types.js';
import { models } from '../../servers/registry.js';
import { preflight } from '../../check/preflight.js';
import { cardText } from '../../check/card.js';
import { resumeServers, terminalConfirm, USER_SERVER_HELP, USER_SERVER_OPTIONS, userServersOf } from '../user-servers.js';

/** The column of the flags in the help. */
const W = 26;

const HELP = `eventbench run: servers × loads, paired in time. The client's capacity is measured first and each server's
CPU quota chosen from it; in each round every server is started fresh in a cgroup of its own and warmed once, then
cycles sweep the servers in turn at every load, the reference between them, so that every ratio pairs with reference
sweeps seconds away; results kept as they come.

Usage: eventbench run [options]

  --servers LIST          servers to run, in order (default: every model that can run here, and yours)
                          e.g. --servers events,async,native-epoll,nginx
${USER_SERVER_HELP}
                          Yours join the built-ins, or the --servers list unless it names one of them.
                          Each gets \`eventbench check --short\` first: one that does not serve the page is refused.
  --url [NAME=]URL        also measure a server already running, e.g. --url http://127.0.0.1:8080/ (repeatable);
                          nothing pins, throttles or samples it: its points are flagged unthrottled, and it is
                          compared with no other server (its slope is its own)
  --runtimes LIST         run every TypeScript model under each of node, bun, deno (default node); the others are
                          named events@bun, events@deno. e.g. --runtimes node,bun,deno
${settingHelp(SETTINGS.loads, W)}
  --repeat N              rounds: processes of each server, each started fresh and warmed once (default ${RUN_DEFAULTS.rounds}),
                          e.g. --repeat 3; exactly the cycles planned unless --precision or --budget is given
  --cycles N              cycles planned in each round, each a sweep of every server at every load (default ${RUN_DEFAULTS.cycles}),
                          e.g. --cycles 4
  --reference-every K     the reference is swept again after every K other servers of a cycle (default
                          ${RUN_DEFAULTS.referenceEvery}), e.g. --reference-every 2
  --precision P           the half-width asked of every server's 95% ratio interval to the reference, as 5% or
                          0.05 (default ${SHARPEN_DEFAULTS.precision * 100}%): after each round's planned cycles, cycles are added for the
                          servers whose intervals are widest, the reference between them, until every one is this
                          narrow or the round's share of the budget is spent, e.g. --precision 5%
  --budget T              how long the whole run may take, every phase and the report included, as 90s, 10m, 1h
                          or seconds (default ${timeText(SHARPEN_DEFAULTS.budgetS)}); the planned rounds always run whole, e.g. --budget 30m
  --reference NAME        the server ratios divide by, swept between the others in every cycle (default lighttpd,
                          else native-epoll, else events), e.g. --reference nginx
  --seed N                seed of the cycles' shuffles (default: a fresh one, recorded in run.json), e.g. --seed 42
  -n, --requests N        requests per point (default ${RUN_DEFAULTS.requests}, a cap on time-bound points), e.g. -n 20000
  -t, --duration S        seconds per point (default ${RUN_DEFAULTS.durationS}), e.g. -t 5
${settingHelp(SETTINGS.trim, W)}
${settingHelp(SETTINGS.pageBytes, W)}
${settingHelp(SETTINGS.backlog, W)}
  --engine NAME           eventbench or ab (default ${RUN_DEFAULTS.engine}), e.g. --engine ab
  --transport T           the eventbench client's connections: epoll, tcp_wrap, net or auto (default ${DEFAULT_TRANSPORT};
                          \`eventbench load --help\` says what each is), recorded in run.json, e.g. --transport epoll
${settingHelp(SETTINGS.serverCpus, W)}
${settingHelp(SETTINGS.clientCpus, W)}
${settingHelp(SETTINGS.serverCpuShare, W)}
${settingHelp(SETTINGS.throttlePeriodMs, W)}
  --latency-cap S         do not push a server past a load whose mean latency exceeds S seconds (default ${RUN_DEFAULTS.latencyCapMs / 1000})
  --error-cap X           ... or whose errors exceed this share of requests (default ${RUN_DEFAULTS.errorShareCap})
  --quick                 loads ${QUICK_DEFAULTS.loads.join(',')}, one round, ${QUICK_DEFAULTS.durationS} s points, short warm-ups, ${QUICK_DEFAULTS.latencyCapMs / 1000} s latency cap: a first look
  --out DIR               results folder (default results/<date-time>/)
  --resume DIR            complete an interrupted run: each phase measures only what it misses, in order; your
                          servers (and --remote-eventbench) must be given again as the run started them, or
                          confirmed on a terminal: a results folder never runs a command by itself
  --no-report             do not write the HTML report at the end
  --open-loop             after the sweep, measure every server again with the open loop (requests on a schedule,
                          latency from the scheduled start) at rates that are fractions of ITS OWN closed-loop
                          capacity in this run; kept in DIR/${OPEN_POINTS_FILE}, drawn as latency against offered rate
  --rates LIST            those fractions (default ${DEFAULT_RATE_FRACTIONS.join(',')}), e.g. --rates 0.1,0.5,0.9,1.2
  --server-host HOST      run every server on another host, through eventbench's agent there over ssh, under
                          that host's own throttle and pinning (--server-cpus, --server-cpu-share apply there);
                          the client stays here. ssh://[user@]host[:port], or local (an agent in a child
                          process here). e.g. --server-host ssh://bench@192.168.1.20
  --server-address ADDR   the address the servers listen on, where the clients reach them (default: with
                          --server-host, that host's own address on its ssh path from here; with ssh client hosts
                          and the server here, this machine's address as they see it; else 127.0.0.1)
  --client-hosts LIST     split each point's load over these hosts (local or ssh://...), each keeping its share in
                          flight, all started at one instant, their records merged (see \`eventbench load --agents\`);
                          warm-ups stay here. e.g. --client-hosts ssh://10.208.0.11,ssh://10.208.0.12
  --remote-eventbench CMD how ssh starts eventbench on those hosts (default \`eventbench\` on their PATH; this
                          checkout's for the hosts of \`eventbench hosts up\`)
  --no-memory             skip the memory phase: after the sweeps, each server is started again (unthrottled,
                          unpinned) and holds ${RUN_MEMORY.levels.join(', ')} idle connections
                          (--quick: ${RUN_MEMORY_QUICK.levels.join(', ')}), to fit its bytes per connection, kept in
                          DIR/${MEMORY_FILE} (see \`eventbench memory\`)

Results: DIR/run.json (plan of every phase, host, environment), DIR/points.jsonl (one point per line), and
DIR/${OPEN_POINTS_FILE}, DIR/${MEMORY_FILE} for those phases, documented in docs/results-format.md. Ctrl-C keeps every
finished point; --resume DIR measures what each phase misses, in order, on the hosts the run recorded (exit status 4
when a phase cannot be completed, e.g. a server is no longer installed). With --server-host or --client-hosts,
run.json records every host (name, kernel, CPU, versions, clock offset) and the path between them, and each point
split over client hosts records each one's share, clock offset and bound; see docs/hosts.md.
Examples:
  eventbench run
  eventbench run --quick
  eventbench run --servers events,threads --loads 1,50,100,200 --backlog 128
  eventbench run --servers events,threads --open-loop --rates 0.1,0.5,0.9,1.1
  eventbench run --quick --no-memory
  eventbench run --servers events,async,coroutines,lighttpd --precision 5% --budget 20m
  eventbench run --server-host ssh://10.208.0.10 --servers events,nginx --loads 100,500
  eventbench run --client-hosts ssh://10.208.0.11,ssh://10.208.0.12 --server-host ssh://10.208.0.10`;

function list(field: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(field, raw, 'expected a comma-separated list');
  return items;
}

/** The only flags that go with --resume; short names of the others, to name them as typed. */
const RESUME_TAKES = ['resume', 'no-report', 'server', 'servers-file', 'url', 'remote-eventbench'];
const SHORT: Record<string, string> = { requests: '-n', duration: '-t' };

export interface RunArgs {
  input: PlanInput;
  hosts?: HostsInput;
  out?: string;
  resume?: string;
  report: boolean;
  user: ServerModel[];
}

/** Every flag of `run` (the help above says what each means). */
const RUN_OPTIONS = {
  servers: { type: 'string' },
  loads: { type: 'string' },
  repeat: { type: 'string' },
  cycles: { type: 'string' },
  'reference-every': { type: 'string' },
  requests: { type: 'string', short: 'n' },
  duration: { type: 'string', short: 't' },
  trim: { type: 'string' },
  'page-bytes': { type: 'string' },
  backlog: { type: 'string' },
  engine: { type: 'string' },
  transport: { type: 'string' },
  'server-cpus': { type: 'string' },
  'client-cpus': { type: 'string' },
  'server-cpu-share': { type: 'string' },
  'throttle-period-ms': { type: 'string' },
  seed: { type: 'string' },
  'latency-cap': { type: 'string' },
  'error-cap': { type: 'string' },
  quick: { type: 'boolean' },
  runtimes: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'string' },
  'no-report': { type: 'boolean' },
  'open-loop': { type: 'boolean' },
  rates: { type: 'string' },
  'no-memory': { type: 'boolean' },
  ...USER_SERVER_OPTIONS,
  url: { type: 'string', multiple: true },
  precision: { type: 'string' },
  budget: { type: 'string' },
  reference: { type: 'string' },
  'server-host': { type: 'string' },
  'server-address': { type: 'string' },
  'client-hosts': { type: 'string' },
  'remote-eventbench': { type: 'string' },
} as const;

type RunValues = Record<string, string | boolean | string[] | undefined>;

export function parseRunArgs(argv: string[]): RunArgs {
  const { values, positionals } = parseCommandArgs('run', argv, RUN_OPTIONS);
  if (positionals.length > 0)
    throw new UsageError('argument', positionals[0], 'run takes no positional arguments', 'see `eventbench run --help`');
  const v = values as RunValues;
  const s = (k: string) => v[k] as string | undefined;
  if (s('resume') !== undefined) refuseBesideResume(v);
  const input = planInputOf(v);
  const user = userServersOfArgs(values, input);
  const hosts = hostsOf(v);
  const out = s('out') ? { out: s('out')! } : {};
  const other = Object.keys(hosts).length > 0 ? { hosts } : {};
  return { input, ...other, ...out, ...(s('resume') ? { resume: s('resume')! } : {}), report: v['no-report'] !== true, user };
}

/** The plan comes from the folder: a flag beside --resume would be silently ignored, so it is refused by name. */
function refuseBesideResume(v: RunValues): void {
  const extra = Object.keys(v)
    .filter((k) => v[k] !== undefined && !RESUME_TAKES.includes(k))
    .map((k) => (SHORT[k] ? `--${k} (${SHORT[k]})` : `--${k}`));
  if (extra.length > 0)
    throw new UsageError(
      '--resume',
      v.resume as string,
      `takes its plan from the folder, so it refuses ${extra.join(', ')}`,
      `drop ${extra.length > 1 ? 'them' : 'it'} (with --resume go only --no-report, and --server, --servers-file, --url and --remote-eventbench as the run used them), or start a new run`,
    );
}

/** The plan's flags, only their form: ranges are checked once, by the plan (sweep/plan.ts), with the limits of this host. */
function planInputOf(v: RunValues): PlanInput {
  const s = (k: string) => v[k] as string | undefined;
  const loads = list('--loads', s('loads'))?.map((x) => parseNumberArg('--loads', x)!);
  const latencyCapS = numberArg('--latency-cap', s('latency-cap'), 0.001, 3600, false);
  const input: PlanInput = {
    servers: list('--servers', s('servers')),
    loads,
    rounds: parseNumberArg('--repeat', s('repeat')),
    cycles: parseNumberArg('--cycles', s('cycles')),
    referenceEvery: parseNumberArg('--reference-every', s('reference-every')),
    requests: parseNumberArg('--requests', s('requests')),
    durationS: parseNumberArg('--duration', s('duration'), false),
    trim: parseNumberArg('--trim', s('trim')),
    pageBytes: parseNumberArg('--page-bytes', s('page-bytes')),
    backlog: parseNumberArg('--backlog', s('backlog')),
    engine: s('engine') as Engine | undefined,
    transport: s('transport') as TransportChoice | undefined,
    serverCpus: s('server-cpus'),
    clientCpus: s('client-cpus'),
    serverCpuShare: parseNumberArg('--server-cpu-share', s('server-cpu-share'), false),
    throttlePeriodMs: parseNumberArg('--throttle-period-ms', s('throttle-period-ms'), false),
    seed: parseNumberArg('--seed', s('seed')),
    latencyCapMs: latencyCapS === undefined ? undefined : latencyCapS * 1000,
    errorShareCap: parseNumberArg('--error-cap', s('error-cap'), false),
    quick: v.quick === true,
    runtimes: list('--runtimes', s('runtimes')),
    openLoop: openLoopArg(v['open-loop'] === true, s('rates')),
    memory: v['no-memory'] === true ? false : undefined,
    precision: shareArg('--precision', s('precision'), PRECISION_LIMITS.min, PRECISION_LIMITS.max),
    budgetS: durationArg('--budget', s('budget'), BUDGET_LIMITS_S.min, BUDGET_LIMITS_S.max),
    reference: s('reference'),
  };
  for (const k of Object.keys(input) as (keyof PlanInput)[]) if (input[k] === undefined) delete input[k];
  return input;
}

/** Servers given with --server, --servers-file and --url; they join a --servers list that names none of them. */
function userServersOfArgs(values: { server?: string[]; 'servers-file'?: string; url?: string[] }, input: PlanInput): ServerModel[] {
  const started = userServersOf(values);
  const user = [
    ...started,
    ...urlServers(
      values.url ?? [],
      models.map((m) => m.name),
      started.map((m) => m.name),
    ),
  ];
  if (input.servers && !input.servers.some((n) => user.some((m) => m.name === n))) input.servers.push(...user.map((m) => m.name));
  return user;
}

/** Where servers and clients run (--server-host, --client-hosts...); empty when all is here. */
function hostsOf(v: RunValues): HostsInput {
  const s = (k: string) => v[k] as string | undefined;
  const hosts: HostsInput = {
    serverHost: s('server-host'),
    serverAddress: s('server-address'),
    clientHosts: list('--client-hosts', s('client-hosts')),
    remoteCommand: s('remote-eventbench'),
  };
  for (const k of Object.keys(hosts) as (keyof HostsInput)[]) if (hosts[k] === undefined) delete hosts[k];
  return hosts;
}

/** The open loop's rate fractions, or undefined without --open-loop (--rates alone is refused). */
function openLoopArg(asked: boolean, rates: string | undefined): number[] | undefined {
  if (rates !== undefined && !asked) throw new UsageError('--rates', rates, 'belongs to the open loop', 'add --open-loop or drop --rates');
  const fractions = list('--rates', rates)?.map((x) => numberArg('--rates', x, 0.01, 10, false)!);
  return asked ? checkRateFractions(fractions ?? DEFAULT_RATE_FRACTIONS) : undefined;
}

/** run's short check of the user's servers of a new run, each card on stderr; throws for a server refused. */
async function checkUserServers(user: readonly ServerModel[], chosen: readonly { name: string }[], plan: Plan): Promise<void> {
  const mine = user.filter((m) => chosen.some((c) => c.name === m.name));
  if (mine.length === 0) return;
  const names = mine.map((m) => m.name).join(', ');
  process.stderr.write(`eventbench run: checking your server${mine.length > 1 ? 's' : ''} first (eventbench check --short): ${names}\n`);
  await preflight(mine, {
    pageBytes: plan.pageBytes,
    backlog: plan.backlog,
    onCard: (card, refused) => process.stderr.write((refused || !card.ok ? cardText(card) : cardText(card, false)) + '\n'),
  });
}

/** The command's body; `extra` lets tests choose the servers' catalog and the trial commands. */
export async function runCommand(argv: string[], extra: Pick<RunOptions, 'catalog' | 'trial'> = {}): Promise<number> {
  const args = parseRunArgs(argv);
  for (const line of removeLeftovers()) process.stderr.write(`eventbench run: ${line}\n`);
  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ninterrupted: stopping the server and the client; finished points are kept\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const confirm = args.resume ? terminalConfirm() : undefined;
  let resumed: Awaited<ReturnType<typeof resumeServers>> | undefined;
  try {
    resumed = args.resume ? await resumeServers(args.resume, args.user, confirm) : undefined;
    const user = resumed?.models ?? args.user;
    const outcome = await runExperiment({
      input: args.input,
      userModels: user,
      preflight: (chosen, plan) => checkUserServers(user, chosen, plan),
      ...(args.hosts ? { hostsInput: args.hosts } : {}),
      ...(args.out ? { out: args.out } : {}),
      ...(args.resume ? { resume: args.resume } : {}),
      ...(confirm ? { confirm } : {}),
      signal: controller.signal,
      onEvent: progress(process.stderr.isTTY === true),
      reserveS: args.report ? REPORT_PRICE_S : 0,
      ...extra,
    });
    if (process.stderr.isTTY) process.stderr.write(CLEAR_LINE);
    return await finish(outcome, args.report);
  } finally {
    resumed?.cleanUp();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** The ranking on stdout, the report, and the exit status: interrupted, incomplete (a phase left points out) or ok. */
async function finish(outcome: RunOutcome, report: boolean): Promise<number> {
  if (outcome.interrupted && outcome.points.length === 0) {
    // Nothing to rank (a Ctrl-C during the first point): say so, instead of the report's "no results yet".
    process.stderr.write(`interrupted before any point was measured: start again, or \`eventbench run --resume ${outcome.dir}\`\n`);
    return EXIT.interrupted;
  }
  // The ranking is the report's own (one fit, one table), printed short.
  const model = buildModel(readReportRun(outcome.dir));
  // The answer first, as the report opens with it; then the ranking, the report's own table.
  process.stdout.write([...model.answer.flatMap((l) => [l, '']), markdownTable(rankingTable(model))].join('\n') + '\n');
  process.stdout.write(`results: ${outcome.dir}\n`);
  if (outcome.interrupted) {
    process.stderr.write(`interrupted: resume with \`eventbench run --resume ${outcome.dir}\`\n`);
    return EXIT.interrupted;
  }
  if (report) {
    try {
      const written = await writeReport(outcome.dir);
      process.stdout.write(`report: ${written.htmlPath}\n`);
    } catch (err) {
      // The results are complete and kept; the report can be written again with `eventbench report DIR`.
      process.stderr.write(`warning: the report failed: ${(err as Error).message}; retry with \`eventbench report ${outcome.dir}\`\n`);
    }
  }
  const over = outcome.info.overBudget;
  if (over) process.stderr.write(`over budget by ${fmtS(over.byS)}: ${over.why}\n`);
  const incomplete = outcome.info.incomplete ?? [];
  for (const i of incomplete) process.stderr.write(`incomplete: ${PHASE_TITLE[i.phase]}: ${i.why}\n`);
  return incomplete.length > 0 ? EXIT.incomplete : EXIT.ok;
}

export const run: Command = {
  name: 'run',
  help: HELP,
  run: (argv) => runCommand(argv),
};
