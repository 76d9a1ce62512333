// The plan of a run: servers × loads × rounds, with every default in one place and every check in one function,
// so that bad input is refused with one clear line before any server starts.
import { MAX_BACKLOG, somaxconnFix } from '../core/backlog.js';
import { OPEN_FILES_FIX, RESERVED_FILES, connectionsAllowed, openFilesLimit } from '../core/open-files.js';
import { UsageError } from '../core/errors.js';
import { SETTINGS } from '../core/defaults.js';
import { PORT_RANGE_FIX, localPortRange, somaxconn } from '../core/sysctl.js';
import { DEFAULT_PAGE_BYTES, MAX_PAGE_BYTES, MIN_PAGE_BYTES } from '../servers/page.js';
import { models, runtimeVariant, serveRuntime, withRuntimes, type ServerModel } from '../servers/registry.js';
import { isRuntime, runtimeInfo, type RuntimeName } from '../servers/runtime.js';
import type { Engine } from '../load/types.js';
import { checkTransport } from '../load/options.js';
import { DEFAULT_TRANSPORT, type TransportChoice } from '../load/transport.js';
import type { Plan } from '../results/schema.js';
import { DEFAULT_THROTTLE_PERIOD_MS, MAX_THROTTLE_PERIOD_MS, MIN_THROTTLE_PERIOD_MS } from '../host/throttle.js';
import { parseCpuList, allowedCpus } from '../host/cpus.js';
import { DEFAULT_WARMUP, LOAD_WARMUP, SESSION_WARMUP } from '../load/warmup.js';
import { newSeed, shuffled } from '../core/random.js';
import type { Sweep } from './engine.js';

/**
 * Defaults of `eventbench run`. Validity first, then the budget: 10 minutes with every server installed (29 now) on
 * 2 cores, the memory phase and the report included (docs/running.md: Time). Priced from the stored default run of 23
 * servers (3 rounds of 5 loads, 0.6 s points, 0.3 s settles: 11.5 min, of which warm-ups 164 s, settles 130 s,
 * measuring 320 s, starting and stopping servers and clients 80 s; `processes` and `threads` 78 s for 8 points):
 * - every server is warmed to steady state before it is measured (src/load/warmup.ts, unchanged: V8 needs its
 *   requests and three agreeing windows), and each point's kept window is checked for stationarity; the warm-up
 *   is paid once per server per round, since a server is started fresh for each round and then kept warm across
 *   that round's loads (docs/method.md: "Fresh or warm");
 * - three rounds (--repeat), each over every server and load, servers shuffled per round from a recorded seed, so
 *   that the machine's drift lands on every server alike and every slope gets an interval; then rounds are added
 *   where the ratio intervals are widest, while the budget lasts (`precision`, `budgetS`, src/sweep/sharpen.ts);
 * - three loads over the paper's 1..1000: the variance that matters is the process's (a fresh process is faster
 *   or slower at every load of its round), which more loads per round do not average, while each load costs
 *   every sweep its settle and its point. The relatively weighted line (fit.ts) through 10, 250 and 1000 carries
 *   0.86 of a point's own scatter into its slope, through the five loads 10..1000 0.73 (simulated): 18% more, for
 *   40% fewer points, which buy rounds, and a round narrows an interval far more (t at 2 degrees of freedom is 4.3,
 *   at 3 it is 3.2). 10 is the lowest load where the server, not the client, sets the pace; 250 is past the
 *   paper's somaxconn plateau near 128 (--backlog 128 shows it), so r still sees the middle of the range;
 * - points are time-bound at 0.4 s and lengthened, by the server's rate at its previous load, to hold 8 waves of
 *   `load` requests (pointDurationS), up to 3 s as before (`maxPointS`): at l = 10 and 250 a point of 0.4 s holds
 *   hundreds of waves already, and at l = 1000 the 8 waves set the length anyway; `requests` caps the count so a
 *   very fast server cannot exhaust local ports;
 * - the settle at each new load is one 0.2 s window (it was 0.3: the stored run's not-steady flags were no rarer
 *   at l = 1000 than elsewhere), and none at a sweep's first load, where the warm-up has just ended steady at that
 *   very load (src/experiments/closed-loop.ts);
 * - the throttle's period is 10 ms, so a quarter-core server behaves like a slow CPU, not like a fast one that
 *   stalls 75 ms in every 100 (src/host/throttle.ts).
 * Priced part by part from the stored run: 27 servers × 3 rounds ≈ 525 s (warm-ups 150, `processes` and
 * `threads` 70, starts and stops 40, points 265; about 780 s with the 5 loads, 0.6 s points and 0.3 s settles
 * before), the memory phase ≤ 90 s, the report ≈ 10 s; webfs and mini-httpd (29 servers) add about 40 s at the
 * same price per server. So with every server installed the planned rounds fill
 * the 10 minutes by themselves and few rounds or none are added (the run says which servers missed the
 * precision, and by how much it passed its budget); with fewer servers the budget buys rounds where they are
 * needed. The precision asked is ±10% of every ratio to the reference: two servers whose slopes differ by a
 * fifth are then told apart, the size of the differences the paper reads (ST against CPC, nginx against
 * lighttpd), and it is the target of bench:repro.
 */
export const RUN_DEFAULTS = {
  loads: SETTINGS.loads.value,
  rounds: 2,
  cycles: 1,
  referenceEvery: 4,
  requests: 30_000,
  durationS: 0.4,
  /** The paper dropped 1000 requests at each end; each point drops min(trim, load), the ramp of a closed loop. */
  trim: SETTINGS.trim.value,
  pageBytes: DEFAULT_PAGE_BYTES,
  backlog: SETTINGS.backlog.value,
  engine: 'eventbench' as Engine,
  serverCpus: SETTINGS.serverCpus.value,
  clientCpus: SETTINGS.clientCpus.value,
  serverCpuShare: SETTINGS.serverCpuShare.value,
  throttlePeriodMs: DEFAULT_THROTTLE_PERIOD_MS,
  latencyCapMs: 10_000,
  errorShareCap: 0.05,
  warmup: DEFAULT_WARMUP,
} as const;

/**
 * What a run spends beyond its planned rounds (`--precision`, `--budget`): the half-width asked of every ratio
 * interval to the reference, and the seconds the whole run may take (see RUN_DEFAULTS for why these). Applied to
 * the default plan; an explicit --repeat or --quick measures exactly its rounds unless either flag is given.
 */
export const SHARPEN_DEFAULTS = { precision: 0.1, budgetS: 600 } as const;
/** The limits of --precision (a share of the ratio) and --budget (seconds). */
export const PRECISION_LIMITS = { min: 0.01, max: 1 } as const;
export const BUDGET_LIMITS_S = { min: 1, max: 24 * 3600 } as const;

/**
 * `--quick`: three loads, one round, short points and short warm-ups, for a first look in about a minute and a
 * half. Its TypeScript rows may not be at steady state (V8 needs 3 to 5 s at a quarter core): each point's warm-up
 * and stationarity are recorded as in a full run, so the report says so where it matters.
 */
export const QUICK_DEFAULTS = {
  loads: [10, 100, 300],
  rounds: 1,
  requests: 5_000,
  durationS: 0.3,
  /** Also the per-request timeout: a slow model costs at most this per point before the stop rules retire it. */
  latencyCapMs: 2_000,
  warmup: {
    session: { ...SESSION_WARMUP, windowS: 0.3, agree: 2, maxS: 1.2 },
    load: { ...LOAD_WARMUP, windowS: 0.1, maxS: 0.2 },
  },
} as const;

export const ENGINES: readonly Engine[] = ['eventbench', 'ab'];

/** What the user asked for; anything left out takes its default. */
export interface PlanInput {
  servers?: string[];
  loads?: number[];
  /** Rounds (`--repeat`): processes per server, each started fresh and warmed once. */
  rounds?: number;
  /** Cycles planned per round (`--cycles`): sweeps of every server, the reference between them. */
  cycles?: number;
  /** The reference is swept after every this many others (`--reference-every`). */
  referenceEvery?: number;
  requests?: number;
  durationS?: number;
  trim?: number;
  pageBytes?: number;
  backlog?: number;
  engine?: Engine;
  /** The eventbench engine's transport (`--transport`); default DEFAULT_TRANSPORT. */
  transport?: TransportChoice;
  serverCpus?: string;
  clientCpus?: string;
  serverCpuShare?: number;
  throttlePeriodMs?: number;
  /** Seed of the per-round server order (default: a fresh one, recorded in the plan). */
  seed?: number;
  latencyCapMs?: number;
  errorShareCap?: number;
  quick?: boolean;
  /** Runtimes to run every TypeScript model under (`--runtimes node,bun`): servers named `events@bun`; default Node only. */
  runtimes?: string[];
  /** The open loop's rates as fractions of each server's capacity (`--open-loop [--rates]`); absent: no open loop. */
  openLoop?: number[];
  /** The memory phase (default on; `--no-memory`: false). */
  memory?: boolean;
  /** The half-width asked of every ratio interval to the reference (`--precision`, 0.05: ±5%). */
  precision?: number;
  /** Seconds the whole run may take (`--budget`): sweeps, open loop, memory phase and report. */
  budgetS?: number;
  /** The server ratios divide by, measured in every added round (`--reference`); one of the run's servers. */
  reference?: string;
}

export interface ResolvedPlan {
  plan: Plan;
  /** The models to run, in plan order. */
  models: ServerModel[];
  skipped: { server: string; reason: string }[];
  warnings: string[];
}

/** The largest load this host allows: each connection needs a file descriptor in client and server, and a local port. */
export function maxLoadHere(): { max: number; why: string } {
  const files = openFilesLimit() ?? 1024; // not Linux: the common default
  const ports = localPortRange()?.ports ?? 28_232;
  const byFiles = connectionsAllowed(files);
  return byFiles <= ports
    ? {
        max: byFiles,
        why: `the open files limit (${files}, less ${RESERVED_FILES} for the process itself); raise it with \`${OPEN_FILES_FIX}\``,
      }
    : { max: ports, why: `the local port range (${ports} ports); widen it with ${PORT_RANGE_FIX}` };
}

function positive(field: string, value: number | undefined, min: number, max: number, integer: boolean): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(field, value, `expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  if (value < min || value > max) throw new UsageError(field, value, `the limit is ${min} to ${max}`);
}

/** Validates the input, fills defaults, and splits the servers into runnable and skipped (with why). */
export async function resolvePlan(
  input: PlanInput,
  available = modelAvailability,
  catalog: readonly ServerModel[] = models,
): Promise<ResolvedPlan> {
  const warnings: string[] = [];
  const loads = checkLoads(input);
  checkNumbers(input);
  const cpus = checkCpus(input, warnings);
  const backlog = input.backlog ?? RUN_DEFAULTS.backlog;
  const top = loads[loads.length - 1]!;
  const cap = somaxconn();
  if (cap !== undefined && cap < Math.min(backlog, top)) {
    warnings.push(
      `net.core.somaxconn is ${cap}, below the largest load (${top}): the accept queue will overflow as in the paper's Figure 1(a); fix: ${somaxconnFix(top)}`,
    );
  }
  const { chosen, skipped } = await chooseServers(input, available, catalog);
  // The client keeps `load` requests in flight, so a count-bound point needs at least that many.
  if (input.requests !== undefined && input.requests < top) {
    throw new UsageError('--requests', input.requests, `must be at least the largest load (${top})`, `raise -n or lower --loads`);
  }
  checkReference(input, chosen, skipped);
  const plan = buildPlan(input, chosen, loads, backlog, cpus);
  const runtimes = runtimeVersions(chosen);
  if (Object.keys(runtimes).some((r) => r !== 'node')) plan.runtimes = runtimes;
  return { plan, models: chosen, skipped, warnings };
}

/** The loads asked (or the defaults), each within what this host allows; ascending, without repeats. */
function checkLoads(input: PlanInput): number[] {
  const loads = [...(input.loads ?? (input.quick ? QUICK_DEFAULTS.loads : RUN_DEFAULTS.loads))];
  if (loads.length === 0) throw new UsageError('--loads', '', 'expected at least one load', 'e.g. --loads 1,100,500');
  const { max, why } = maxLoadHere();
  for (const l of loads) {
    if (!Number.isInteger(l) || l < 1) throw new UsageError('--loads', l, 'each load must be a whole number of at least 1');
    if (l > max) throw new UsageError('--loads', l, `the most this host allows is ${max}, set by ${why}`);
  }
  return [...new Set(loads)].sort((a, b) => a - b);
}

function checkNumbers(input: PlanInput): void {
  positive('--repeat', input.rounds, 1, 100, true);
  positive('--cycles', input.cycles, 1, 1000, true);
  positive('--reference-every', input.referenceEvery, 1, 100, true);
  positive('--requests', input.requests, 1, 10_000_000, true);
  positive('--duration', input.durationS, 0.05, 3600, false);
  positive('--trim', input.trim, 0, 1_000_000, true);
  positive('--page-bytes', input.pageBytes, MIN_PAGE_BYTES, MAX_PAGE_BYTES, true);
  positive('--backlog', input.backlog, 1, MAX_BACKLOG, true);
  positive('--latency-cap', input.latencyCapMs, 1, 3_600_000, false);
  positive('--error-cap', input.errorShareCap, 0, 1, false);
  positive('--throttle-period-ms', input.throttlePeriodMs, MIN_THROTTLE_PERIOD_MS, MAX_THROTTLE_PERIOD_MS, false);
  positive('--seed', input.seed, 0, 2 ** 31 - 1, true);
  positive('--precision', input.precision, PRECISION_LIMITS.min, PRECISION_LIMITS.max, false);
  positive('--budget', input.budgetS, BUDGET_LIMITS_S.min, BUDGET_LIMITS_S.max, false);
  const engine = input.engine ?? RUN_DEFAULTS.engine;
  if (!ENGINES.includes(engine)) throw new UsageError('--engine', engine, `expected one of ${ENGINES.join(', ')}`);
  checkTransport(input.transport, '--transport');
  if (engine === 'ab' && input.transport !== undefined)
    throw new UsageError('--transport', input.transport, "is the eventbench engine's connection layer", 'drop --transport or --engine ab');
}

/** The server's and the client's cores, which must exist; sharing one is allowed with a warning; the quota fits them. */
function checkCpus(input: PlanInput, warnings: string[]): { serverCpus: string; clientCpus: string; throttlePeriodMs: number } {
  const cpus = allowedCpus();
  const serverCpus = input.serverCpus ?? RUN_DEFAULTS.serverCpus;
  const clientCpus = input.clientCpus ?? RUN_DEFAULTS.clientCpus;
  const serverSet = parseCpuList('--server-cpus', serverCpus, cpus);
  const clientSet = parseCpuList('--client-cpus', clientCpus, cpus);
  const shared = serverSet.filter((c) => clientSet.includes(c));
  if (shared.length > 0) {
    warnings.push(
      `server and client share CPU(s) ${shared.join(',')}: the client may slow the server; give them disjoint --server-cpus and --client-cpus`,
    );
  }
  positive('--server-cpu-share', input.serverCpuShare, 0, serverSet.length, false);
  const throttlePeriodMs = input.throttlePeriodMs ?? RUN_DEFAULTS.throttlePeriodMs;
  if (throttlePeriodMs < 5) {
    warnings.push(
      `a ${throttlePeriodMs} ms throttle period is shorter than the kernel's 5 ms bandwidth slice: the quota may not be enforced (check with \`eventbench doctor\`)`,
    );
  }
  return { serverCpus, clientCpus, throttlePeriodMs };
}

/** Servers: unknown names are errors; known ones that cannot run here are skipped with why. */
async function chooseServers(input: PlanInput, available: typeof modelAvailability, catalog: readonly ServerModel[]) {
  let names = input.servers ?? catalog.map((m) => m.name);
  if (input.runtimes !== undefined) {
    const bad = input.runtimes.find((r) => !isRuntime(r));
    if (bad !== undefined || input.runtimes.length === 0)
      throw new UsageError('--runtimes', bad ?? '', 'expected a list of node, bun, deno', 'e.g. --runtimes node,bun,deno');
    names = withRuntimes(names, input.runtimes as RuntimeName[], catalog);
  }
  if (names.length === 0) throw new UsageError('--servers', '', 'expected at least one server', 'see `eventbench serve --list`');
  const chosen: ServerModel[] = [];
  const skipped: { server: string; reason: string }[] = [];
  for (const name of [...new Set(names)]) {
    const model = catalog.find((m) => m.name === name) ?? runtimeVariant(name, catalog);
    if (!model) {
      throw new UsageError(
        '--servers',
        name,
        `is not a server model; expected one of ${catalog.map((m) => m.name).join(', ') || '(none built yet)'}`,
        'see `eventbench serve --list`',
      );
    }
    const a = await available(model);
    if (a.ok) chosen.push(model);
    else skipped.push({ server: name, reason: `${a.reason} (${a.hint})` });
  }
  if (chosen.length === 0) {
    throw new UsageError(
      '--servers',
      names.join(','),
      'none of these can run here',
      skipped.map((s) => `${s.server}: ${s.reason}`).join('; '),
    );
  }
  return { chosen, skipped };
}

/** The reference, when asked, must be a server of this run: every added round measures it. */
function checkReference(input: PlanInput, chosen: readonly ServerModel[], skipped: readonly { server: string; reason: string }[]): void {
  const asked = input.reference;
  if (asked === undefined || chosen.some((m) => m.name === asked)) return;
  const gone = skipped.find((s) => s.server === asked);
  if (gone) throw new UsageError('--reference', asked, `cannot run here: ${gone.reason}`, 'choose another reference');
  throw new UsageError(
    '--reference',
    asked,
    `is not a server of this run; expected one of ${chosen.map((m) => m.name).join(', ')}`,
    'add it to --servers or choose another',
  );
}

/**
 * Whether the run adds rounds where the intervals are widest: when --precision or --budget is given, and in the
 * default plan; an explicit --repeat or --quick measures exactly the rounds it names.
 */
function sharpens(input: PlanInput): boolean {
  return input.precision !== undefined || input.budgetS !== undefined || (input.quick !== true && input.rounds === undefined);
}

/** The plan: the input checked, every field left out at its default (--quick's where it has one). */
function buildPlan(input: PlanInput, chosen: ServerModel[], loads: number[], backlog: number, cpus: ReturnType<typeof checkCpus>): Plan {
  const quick = input.quick === true;
  const timeBound = input.durationS !== undefined || input.requests === undefined;
  return {
    servers: chosen.map((m) => m.name),
    loads,
    rounds: input.rounds ?? (quick ? QUICK_DEFAULTS.rounds : RUN_DEFAULTS.rounds),
    cycles: input.cycles ?? RUN_DEFAULTS.cycles,
    referenceEvery: input.referenceEvery ?? RUN_DEFAULTS.referenceEvery,
    reference: input.reference ?? defaultReference(chosen.map((m) => m.name)),
    seed: input.seed ?? newSeed(),
    requests: input.requests ?? (input.durationS !== undefined ? undefined : quick ? QUICK_DEFAULTS.requests : RUN_DEFAULTS.requests),
    durationS: timeBound ? (input.durationS ?? (quick ? QUICK_DEFAULTS.durationS : RUN_DEFAULTS.durationS)) : undefined,
    trim: input.trim ?? RUN_DEFAULTS.trim,
    pageBytes: input.pageBytes ?? RUN_DEFAULTS.pageBytes,
    backlog,
    engine: input.engine ?? RUN_DEFAULTS.engine,
    ...((input.engine ?? RUN_DEFAULTS.engine) === 'eventbench' ? { transport: input.transport ?? DEFAULT_TRANSPORT } : {}),
    ...cpus,
    serverCpuShare: input.serverCpuShare ?? RUN_DEFAULTS.serverCpuShare,
    serverCpuShareFrom: input.serverCpuShare !== undefined ? 'asked' : 'auto',
    warmup: quick ? QUICK_DEFAULTS.warmup : RUN_DEFAULTS.warmup,
    latencyCapMs: input.latencyCapMs ?? (quick ? QUICK_DEFAULTS.latencyCapMs : RUN_DEFAULTS.latencyCapMs),
    errorShareCap: input.errorShareCap ?? RUN_DEFAULTS.errorShareCap,
    // 3 s, as the 0.6 s points before it were lengthened to; a longer --duration keeps its 5×.
    ...(timeBound && !quick ? { maxPointS: Math.max(MAX_POINT_S, MAX_STRETCH * (input.durationS ?? RUN_DEFAULTS.durationS)) } : {}),
    ...(sharpens(input)
      ? { precision: input.precision ?? SHARPEN_DEFAULTS.precision, budgetS: input.budgetS ?? SHARPEN_DEFAULTS.budgetS }
      : {}),
  };
}

async function modelAvailability(model: ServerModel) {
  try {
    return await model.available();
  } catch (err) {
    return { ok: false as const, reason: `its availability check failed: ${(err as Error).message}`, hint: 'run `eventbench doctor`' };
  }
}

/** Lengthened points are never longer than this many times plan.durationS, or plan.maxPointS where recorded. */
export const MAX_STRETCH = 5;
/** A run's points are lengthened up to this many seconds at least (plan.maxPointS), as 0.6 s points were by 5×. */
export const MAX_POINT_S = 3;
/**
 * A point should hold this many waves of `load` requests: one trimmed at each end, and six kept, the fewest in
 * which its stationarity can be judged (src/load/steady.ts).
 */
export const WAVES_PER_POINT = 8;

/**
 * Length of a time-bound point. A closed loop at load l serves in waves of l requests; a point needs a wave
 * trimmed at each end and six kept, so it is lengthened to WAVES_PER_POINT·load / (the server's throughput at
 * its previous load), at most plan.maxPointS (runs before it: MAX_STRETCH × plan.durationS).
 * --quick's points are not lengthened.
 */
export function pointDurationS(plan: Plan, load: number, previousRps?: number): number | undefined {
  if (plan.durationS === undefined) return undefined;
  // --quick's points are a first look, kept short: the load generator then lowers the trim and says so.
  if (plan.durationS <= QUICK_DEFAULTS.durationS || !previousRps || previousRps <= 0) return plan.durationS;
  const needS = (WAVES_PER_POINT * load) / previousRps;
  return Math.min(longestPointS(plan)!, Math.max(plan.durationS, Math.round(needS * 100) / 100));
}

/** The longest a time-bound point of `plan` may be lengthened to, s; undefined for count-bound points. */
export function longestPointS(plan: Plan): number | undefined {
  return plan.durationS === undefined ? undefined : Math.max(plan.durationS, plan.maxPointS ?? MAX_STRETCH * plan.durationS);
}

/** The order of servers in round `round` (1-based): the plan's servers shuffled by the plan's seed and the round. */
export function roundOrder(plan: Plan, round: number, servers: readonly string[] = plan.servers): string[] {
  return shuffled(servers, ((plan.seed ?? 0) + Math.imul(round, 0x9e3779b1)) >>> 0);
}

/** Every sweep of the plan in run order (round 1 over all servers, shuffled, then round 2, ...), at `steps`. */
export function planSweeps(plan: Plan, steps: readonly number[] = plan.loads): Sweep[] {
  const out: Sweep[] = [];
  for (let round = 1; round <= plan.rounds; round++) {
    for (const server of roundOrder(plan, round)) out.push({ round, server, steps: [...steps] });
  }
  return out;
}

/**
 * The reference a run divides by when none is asked: lighttpd (the paper's), else native-epoll (the floor of the C
 * servers), else events (the TypeScript baseline), else the first server.
 */
export function defaultReference(servers: readonly string[]): string {
  return ['lighttpd', 'native-epoll', 'events'].find((s) => servers.includes(s)) ?? servers[0]!;
}

/**
 * The order of one cycle of the paired design: `servers` other than the reference shuffled by the plan's seed, the
 * round and the cycle, with the reference first, after every `referenceEvery` others, and last, so that every sweep
 * has a reference sweep on each side of it, a few sweeps away.
 */
export function cycleOrder(plan: Plan, round: number, cycle: number, servers: readonly string[] = plan.servers): string[] {
  const reference = plan.reference!;
  const every = plan.referenceEvery ?? RUN_DEFAULTS.referenceEvery;
  const seed = ((plan.seed ?? 0) + Math.imul(round, 0x9e3779b1) + Math.imul(cycle, 0x85ebca6b)) >>> 0;
  const others = shuffled(
    servers.filter((s) => s !== reference),
    seed,
  );
  const out = [reference];
  others.forEach((s, i) => {
    out.push(s);
    if ((i + 1) % every === 0 || i === others.length - 1) out.push(reference);
  });
  return out;
}

/** The planned sweeps of the paired design: each round's cycles, each in cycleOrder, every sweep at every load. */
export function pairedSweeps(plan: Plan): Sweep[] {
  const out: Sweep[] = [];
  for (let round = 1; round <= plan.rounds; round++)
    for (let cycle = 1; cycle <= (plan.cycles ?? 1); cycle++)
      for (const server of cycleOrder(plan, round, cycle)) out.push({ round, cycle, server, steps: [...plan.loads] });
  return out;
}

/** The version of each runtime the plan's TypeScript servers run under (run.json's plan.runtimes). */
function runtimeVersions(chosen: ServerModel[]): Partial<Record<RuntimeName, string>> {
  const out: Partial<Record<RuntimeName, string>> = {};
  for (const m of chosen) {
    if (m.family !== 'typescript') continue;
    const { runtime } = serveRuntime(m.name);
    const version = runtimeInfo(runtime).version;
    if (version) out[runtime] = version;
  }
  return out;
}
