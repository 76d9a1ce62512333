// What an agent (./agent.ts) and the runner's side of its link (./link.ts) say to each other, in one place: the
// protocol's version, the commands, the shape of a request, an answer, a hello, a clock reading and a load's answer,
// each written once as a type and as a shape (src/core/shape.ts) that every answer is checked against before the
// runner reads it, and how long each answer may take. One JSON object per line each way; see ./agent.ts for what
// each command does.
import { isIP } from 'node:net';
import { ENVIRONMENT_SHAPE, type Environment } from '../core/environment.js';
import { any, arr, bool, int, literal, nullable, num, obj, oneOf, opt, record, str, type Shape } from '../core/shape.js';
import type { LoadInput } from '../load/options.js';
import { RECORD_ARRAYS, type EncodedRecords } from '../load/records.js';
import type { LoadResult } from '../load/types.js';
import type { ClientHost, ServerHost } from './hosts.js';

/** Bumped when a command or an answer changes shape; the runner checks it with the eventbench version. */
export const AGENT_PROTOCOL = 3;

/** The methods of ServerHost an agent answers as `server.NAME`, and of ClientHost as `client.NAME`. */
export const SERVER_CALLS = [
  'environment',
  'available',
  'setUp',
  'start',
  'throttle',
  'unthrottle',
  'cpuUsage',
  'exitReason',
  'startSampling',
  'stopSampling',
  'memory',
  'connections',
  'stop',
  'tearDown',
] as const satisfies readonly (keyof ServerHost)[];

export const CLIENT_CALLS = ['environment', 'setUp', 'warm', 'load', 'tearDown'] as const satisfies readonly (keyof ClientHost)[];

export interface AgentRequest {
  id: number;
  cmd: string;
  [field: string]: unknown;
}

export type AgentAnswer = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { code: string; message: string } };

export interface Hello {
  protocol: number;
  eventbenchVersion: string;
  nodeVersion: string;
  kernel: string;
  cpuModel: string;
  hostname: string;
  pid: number;
  environment: Environment;
  /**
   * The ssh connection it was reached by (SSH_CONNECTION on its side): the runner's address as this host sees it,
   * and this host's own address on the path to the runner (where its servers listen for clients there).
   */
  ssh?: { clientAddress: string; serverAddress: string };
  /** What an agent killed before it could clean up (its cgroups) left on this host, removed by this one: one line each. */
  removed: string[];
}

export interface ClockReading {
  monoMs: number;
  wallMs: number;
}

/** The options of a load an agent accepts (no file, no callback: it runs on another host). */
export const LOAD_FIELDS = [
  'url',
  'concurrency',
  'requests',
  'durationS',
  'timeoutS',
  'trim',
  'keepalive',
  'workers',
  'method',
  'transport',
] as const;

export type AgentLoadOptions = Pick<LoadInput, (typeof LOAD_FIELDS)[number]>;

export interface AgentLoadAnswer {
  result: LoadResult;
  records: EncodedRecords;
  /** When it was told to start, on its clock (ms); its first record says when it did (a request that came late starts at once). */
  startAtMs: number;
}

/** Temporary folders holding the ControlMaster sockets of the eventbench process whose pid follows. */
export const SSH_DIR_PREFIX = 'eventbench-ssh-';

// The shapes of what an agent answers. Figures an agent measured may come as null (JSON has no NaN): `fig`.
const fig = nullable(num);
const warnings = arr(str);
const ip: Shape = {
  what: 'an IP address',
  problem: (v, at) => str.problem(v, at) ?? (isIP(v as string) ? undefined : `${at}: expected an IP address, got ${JSON.stringify(v)}`),
};

/** A hello of this version (of another, only its versions are read: the runner refuses it naming both). */
export const HELLO_SHAPE = obj({
  protocol: int,
  eventbenchVersion: str,
  nodeVersion: str,
  kernel: str,
  cpuModel: str,
  hostname: str,
  pid: int,
  environment: ENVIRONMENT_SHAPE,
  ssh: opt(obj({ clientAddress: ip, serverAddress: ip })),
  removed: arr(str),
});

const PHASE = obj({ min: fig, mean: fig, sd: fig, median: fig, max: fig });

/** A LoadResult (src/load/types.ts): the fields the runner and the report read, each of its type. */
export const LOAD_RESULT_SHAPE = obj({
  schema: str,
  engine: literal('eventbench', 'ab'),
  url: str,
  mode: literal('close', 'keepalive'),
  concurrency: int,
  workers: int,
  requestsStarted: int,
  requestsCompleted: int,
  requests: int,
  trim: int,
  durationS: fig,
  totalDurationS: fig,
  throughputRps: fig,
  measuredLoad: fig,
  connectedLoad: opt(fig),
  slowConnects: opt(int),
  latencyMs: obj({ min: fig, mean: fig, sd: fig, median: fig, max: fig, percentiles: record(fig) }),
  phasesMs: obj({ connect: PHASE, processing: PHASE, waiting: PHASE, total: PHASE }),
  bytesReceived: num,
  documentBytes: nullable(num),
  errors: record(int),
  statusCounts: record(int),
  clientCpu: obj({ userS: fig, systemS: fig, share: fig }),
  verdict: obj({ clientBound: bool, reasons: arr(str) }),
  stoppedEarly: opt(str),
  startedAt: str,
  environment: ENVIRONMENT_SHAPE,
});

const STARTED = obj({
  id: str,
  url: str,
  backlog: obj({ requested: int, effective: int }),
  warnings,
  external: opt(literal(true)),
});

const SAMPLE = obj({
  cpuS: fig,
  cpuShare: fig,
  loadCpuShare: opt(fig),
  quotaPeriods: opt(obj({ total: int, throttled: int })),
  acceptQueue: opt(obj({ peak: int, backlog: int, samples: int })),
  peakRssBytes: num,
  idleRssBytes: num,
  peakProcesses: int,
  peakThreads: int,
  listenOverflows: opt(int),
  listenDrops: opt(int),
});

const HOST_SETUP = obj({
  somaxconn: opt(int),
  tcpMaxSynBacklog: opt(int),
  ipLocalPortRange: opt(str),
  throttle: obj({ mechanism: literal('cgroup-v1', 'cgroup-v2', 'none'), share: num, periodMs: opt(num), reason: opt(str) }),
  pinned: bool,
});

const WARMUP = obj({ requests: int, durationS: fig, windowsRps: arr(fig), steady: bool, concurrency: int });

const ENCODED_RECORDS = obj({ length: int, ...Object.fromEntries(RECORD_ARRAYS.map((k) => [k, str])) });

/** The shape of each command's result, by command. */
const RESULTS: Readonly<Record<string, Shape>> = {
  hello: obj({ protocol: int, eventbenchVersion: str }),
  clock: obj({ monoMs: num, wallMs: num }),
  cancel: obj({ cancelled: bool }),
  doctor: arr(obj({ name: str, status: literal('ok', 'warn', 'fail'), detail: str, fix: opt(str) })),
  load: obj({ result: LOAD_RESULT_SHAPE, records: ENCODED_RECORDS, startAtMs: fig }),
  'server.environment': ENVIRONMENT_SHAPE,
  'server.available': oneOf([obj({ ok: literal(true) }), obj({ ok: literal(false), reason: str, hint: str })], (v) =>
    (v as { ok?: unknown } | null)?.ok === false ? 1 : 0,
  ),
  'server.setUp': obj({ host: HOST_SETUP, warnings }),
  'server.start': oneOf([literal('aborted'), STARTED, obj({ failed: str })], (v) =>
    typeof v === 'object' && v !== null && 'failed' in v ? 2 : typeof v === 'string' ? 0 : 1,
  ),
  'server.exitReason': nullable(str),
  'server.throttle': warnings,
  'server.unthrottle': warnings,
  'server.cpuUsage': record(nullable(num)),
  'server.startSampling': any,
  'server.stopSampling': obj({ sample: SAMPLE, warnings }),
  'server.memory': obj({
    memoryBytes: num,
    measure: literal('pss', 'rss'),
    processes: int,
    threads: int,
    hostAvailableBytes: nullable(num),
    kernel: obj({
      source: literal('cgroup-v1', 'cgroup-v2', 'host'),
      reason: opt(str),
      memory: opt(obj({ bytes: num, parts: record(num) })),
    }),
  }),
  'server.connections': obj({ established: opt(int), queued: opt(int) }),
  'server.stop': warnings,
  'server.tearDown': warnings,
  'client.environment': ENVIRONMENT_SHAPE,
  'client.setUp': obj({ pinned: bool, warnings }),
  'client.warm': WARMUP,
  'client.load': obj({ result: opt(LOAD_RESULT_SHAPE), error: opt(str), aborted: opt(literal(true)) }),
  'client.tearDown': warnings,
};

const ENVELOPE = obj({ id: int, ok: bool });
const ERROR = obj({ code: str, message: str });

/**
 * What is wrong with one line an agent sent, read as the answer to a request of `cmdOf(id)` (undefined: no request
 * of that id waits), or undefined when it is a well-formed answer; the line's answer comes with it when it parses.
 */
export function answerProblem(raw: unknown, cmdOf: (id: number) => string | undefined): string | undefined {
  const envelope = ENVELOPE.problem(raw, 'the answer');
  if (envelope) return envelope;
  const a = raw as { id: number; ok: boolean; result?: unknown; error?: unknown };
  const cmd = cmdOf(a.id);
  if (cmd === undefined) {
    const said = a.ok ? '' : `: ${(ERROR.problem(a.error, 'error') ?? (a.error as { message: string }).message).slice(0, 200)}`;
    return `an answer with id ${a.id}, and no request of that id waits${said}`;
  }
  if (!a.ok) return ERROR.problem(a.error, `the answer to ${cmd}.error`);
  if (!('result' in a)) return `the answer to ${cmd}.result: is missing`;
  return RESULTS[cmd]?.problem(a.result, `the answer to ${cmd}.result`);
}

/** How long an answer may take when the request does not say how long its work is, ms, by command. */
const ANSWER_WITHIN_MS: Readonly<Record<string, number>> = {
  clock: 10_000,
  cancel: 10_000,
  doctor: 120_000,
  // It builds a native server that is not built yet (a cold Go cache on a slow host takes minutes).
  'server.available': 600_000,
  'server.setUp': 30_000,
  'server.stopSampling': 30_000,
  'server.memory': 60_000,
  // SIGTERM, a grace (src/host/local.ts STOP_GRACE_MS), SIGKILL, and what is left killed by pid.
  'server.stop': 30_000,
  'server.tearDown': 30_000,
  'client.tearDown': 30_000,
};
/** ... and for any other command not below. */
const DEFAULT_ANSWER_WITHIN_MS = 15_000;
/** A request that says how long its work may take (a start's ready timeout, a load's length) gets that and this, ms. */
export const ANSWER_MARGIN_MS = 20_000;

type Fields = Record<string, unknown>;
const numberAt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The longest a load may run: its length, or every request of a count-bound one timing out, plus its timeout, s. */
function loadLengthS(o: Fields | undefined): number {
  const timeoutS = numberAt(o?.timeoutS) ?? 30;
  const durationS = numberAt(o?.durationS);
  if (durationS !== undefined) return durationS + timeoutS;
  const waves = Math.ceil((numberAt(o?.requests) ?? 1) / Math.max(1, numberAt(o?.concurrency) ?? 1));
  return waves * timeoutS;
}

/**
 * The deadline of a request, ms: derived from what it asks where it says (a server's ready timeout, a load's length
 * and timeout, a warm-up's bounds) plus ANSWER_MARGIN_MS, else the command's own bound. A missed deadline is a host
 * fault (./link.ts).
 */
export function answerWithinMs(cmd: string, fields: Fields): number {
  const first = (Array.isArray(fields.args) ? fields.args[0] : undefined) as Fields | undefined;
  switch (cmd) {
    case 'server.start':
      return (numberAt(first?.readyTimeoutMs) ?? 60_000) + ANSWER_MARGIN_MS;
    case 'client.load':
      return (numberAt(first?.limitS) ?? 600) * 1000 + ANSWER_MARGIN_MS;
    case 'client.warm': {
      const policy = first?.policy as Fields | undefined;
      return ((numberAt(policy?.maxS) ?? 120) + (numberAt(first?.timeoutS) ?? 30)) * 1000 + ANSWER_MARGIN_MS;
    }
    case 'load':
      return loadLengthS(fields.options as Fields | undefined) * 1000 + ANSWER_MARGIN_MS;
    default:
      return ANSWER_WITHIN_MS[cmd] ?? DEFAULT_ANSWER_WITHIN_MS;
  }
}
