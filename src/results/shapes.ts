// The shape of run.json (RunInfo, ./schema.ts), checked when a folder is read: a results folder is data that people
// share, download and edit by hand, so a field of the wrong type is one line naming the file, the field, what was
// expected and what is there, never a TypeError deep in the runner. Checked after the upgrade of older versions.
import { ENVIRONMENT_SHAPE } from '../core/environment.js';
import { arr, bool, int, literal, nullable, num, obj, oneOf, opt, record, str, type Shape } from '../core/shape.js';

const count = int;
const posNum = num;
const names = arr(str);

const POLICY = obj({ windowS: num, agree: int, tolerance: num, minRequests: num, maxRequests: num, maxS: num });

const USER_SERVER = obj({
  name: str,
  command: arr(str),
  cwd: str,
  env: opt(record(str)),
  envNotRecorded: opt(names),
  ready: obj({ timeoutS: num, path: str }),
  paperRow: opt(str),
  label: opt(str),
  connection: opt(str),
  slow: opt(bool),
  source: str,
  serveArgs: names,
});

const PLAN = obj({
  servers: names,
  loads: arr(posNum),
  rounds: count,
  seed: opt(int),
  requests: opt(count),
  durationS: opt(posNum),
  maxPointS: opt(posNum),
  trim: count,
  pageBytes: count,
  backlog: count,
  engine: literal('eventbench', 'ab'),
  serverCpus: str,
  clientCpus: str,
  serverCpuShare: num,
  throttlePeriodMs: opt(num),
  warmup: opt(obj({ session: POLICY, load: POLICY })),
  latencyCapMs: num,
  errorShareCap: num,
  runtimes: opt(record(str)),
  userServers: opt(arr(USER_SERVER)),
  urls: opt(arr(obj({ name: str, url: str }))),
  precision: opt(num),
  budgetS: opt(num),
  reference: opt(str),
  cycles: opt(count),
  referenceEvery: opt(count),
  serverCpuShareFrom: opt(literal('auto', 'asked')),
});

const PHASE: Shape = oneOf(
  [
    obj({ phase: literal('closed') }),
    obj({ phase: literal('open'), rateFractions: arr(num), minDurationS: num }),
    obj({
      phase: literal('memory'),
      levels: arr(count),
      budgetBytes: num,
      idleTimeoutS: num,
      settleMaxMs: num,
      settleLookMs: num,
      quick: bool,
    }),
  ],
  (v) => ['closed', 'open', 'memory'].indexOf((v as { phase?: string } | null)?.phase ?? ''),
);

const HOST_SETUP = obj({
  throttle: obj({ mechanism: literal('cgroup-v1', 'cgroup-v2', 'none'), share: num, periodMs: opt(num), reason: opt(str) }),
  pinned: bool,
});

const CLOCK = obj({ offsetMs: num, boundMs: num, rttMs: num });
const HOST_RECORD = obj({ host: str, hostname: str, environment: ENVIRONMENT_SHAPE, clock: opt(CLOCK) });
const RUN_HOSTS = obj({
  path: obj({ kind: literal('loopback', 'namespaces', 'ssh') }),
  server: obj({ host: str, hostname: str, environment: ENVIRONMENT_SHAPE, clock: opt(CLOCK), address: str }),
  clients: arr(HOST_RECORD),
  remoteCommand: opt(str),
});

const HALF_WIDTHS = arr(obj({ server: str, halfWidth: nullable(num), rounds: count }));

/** RunInfo as this eventbench reads it (after the upgrade of run/1 and run/2). */
export const RUN_INFO_SHAPE = obj({
  schema: str,
  id: str,
  startedAt: str,
  finishedAt: opt(str),
  interrupted: opt(bool),
  plan: PLAN,
  phases: arr(PHASE),
  host: HOST_SETUP,
  environment: ENVIRONMENT_SHAPE,
  hosts: opt(RUN_HOSTS),
  skipped: arr(obj({ server: str, reason: str })),
  incomplete: opt(arr(obj({ phase: str, why: str }))),
  warnings: names,
  addedRounds: opt(arr(obj({ round: count, servers: names, reference: str, sharpening: HALF_WIDTHS }))),
  precisionOutcome: opt(
    obj({ asked: num, reference: str, reached: names, missed: HALF_WIDTHS, noRatio: names, stopped: str }),
  ),
  sessions: opt(count),
  addedCycles: opt(
    arr(
      obj({
        round: count,
        cycle: count,
        servers: names,
        reference: str,
        sharpening: arr(obj({ server: str, halfWidth: nullable(num), cycles: count })),
      }),
    ),
  ),
  calibration: opt(
    obj({
      clientCapacityRps: num,
      clientCpuShare: opt(num),
      concurrency: count,
      transport: opt(str),
      probe: str,
      probeShare: num,
      probeRpsPerCore: num,
      headroomAsked: num,
      chosenShare: num,
      headroom: num,
      why: str,
      durationS: num,
    }),
  ),
  spentS: opt(num),
  overBudget: opt(obj({ byS: num, why: str })),
  hostFault: opt(str),
});

const CPU = record(num);

/** A line of visits.jsonl: a sweep of the paired design as it ran, or a round's end (VisitRecord, ./schema.ts). */
export const VISIT_SHAPE: Shape = oneOf(
  [
    obj({
      kind: literal('visit'),
      server: str,
      round: count,
      cycle: count,
      visit: count,
      session: count,
      startMs: num,
      endMs: num,
      cpuStartS: CPU,
      cpuEndS: CPU,
      warmedMs: opt(num),
      cpuWarmedS: opt(CPU),
      requests: num,
    }),
    obj({ kind: literal('round-end'), round: count, session: count, atMs: num, cpuS: CPU }),
  ],
  (v) => ['visit', 'round-end'].indexOf((v as { kind?: string } | null)?.kind ?? ''),
);
