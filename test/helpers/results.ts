// Writes run folders (run.json + points.jsonl) from typed objects, as `eventbench run` would, for the report's
// tests: realistic numbers built from a known line per server, so the expected fits are known.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Environment } from '../../src/core/environment.js';
import { POINTS_FILE, POINT_SCHEMA, RUN_FILE, RUN_SCHEMA, type Family, type Point, type RunInfo } from '../../src/results/schema.js';
import { LOAD_SCHEMA, type LoadResult, type PhaseMs } from '../../src/load/types.js';
import { latencyBuckets } from '../../src/load/distribution.js';
import { MEMORY_FILE, MEMORY_SCHEMA, type MemoryRun, type MemoryServer } from '../../src/experiments/memory.js';

export const ENVIRONMENT: Environment = {
  runtime: 'node',
  runtimeVersion: 'v20.20.2',
  platform: 'linux x64',
  kernel: '6.1.0-test',
  cpuModel: 'Test CPU @ 2.0GHz',
  cpus: 2,
  memoryBytes: 24 * 1024 ** 3,
  eventbenchVersion: '0.1.0',
};

export function runInfo(servers: string[], loads: number[], extra: Partial<RunInfo> = {}): RunInfo {
  return {
    schema: RUN_SCHEMA,
    id: '2025-01-02T03-04-05',
    startedAt: '2025-01-02T03:04:05.000Z',
    finishedAt: '2025-01-02T03:34:05.000Z',
    plan: {
      servers,
      loads,
      rounds: 1,
      requests: 20000,
      trim: 1000,
      pageBytes: 305,
      backlog: 4096,
      engine: 'eventbench',
      serverCpus: '0',
      clientCpus: '1',
      serverCpuShare: 0.25,
      latencyCapMs: 2000,
      errorShareCap: 0.05,
    },
    phases: [{ phase: 'closed' }],
    host: {
      somaxconn: 4096,
      tcpMaxSynBacklog: 4096,
      ipLocalPortRange: '1024 65535',
      throttle: { mechanism: 'cgroup-v1', share: 0.25 },
      pinned: true,
    },
    environment: ENVIRONMENT,
    skipped: [],
    warnings: [],
    ...extra,
  };
}

const phase = (mean: number): PhaseMs => ({ min: mean * 0.2, mean, sd: mean * 0.3, median: mean * 0.95, max: mean * 4 });

export interface PointSpec {
  server: string;
  family: Family;
  paperRow?: string;
  load: number;
  meanLatencyMs: number;
  /** Measured load; the offered load less 1% by default. */
  measuredLoad?: number;
  peakRssBytes?: number;
  errors?: number;
  listenOverflows?: number;
  round?: number;
  stopped?: string;
  failed?: string;
  /** The point ran but every request failed (`load` timeouts): no response, no value. */
  servedNothing?: boolean;
  /** Overrides the rate Little's law gives (0: a point too short for a rate, as a too-slow one). */
  throughputRps?: number;
  /** Jain's index of the point (0.999 by default); the slowest client's share follows from it. */
  jainIndex?: number;
}

/** A latency distribution around `meanMs` on the load generator's log buckets: most requests near it, a tail to 4×. */
function buckets(meanMs: number, requests: number): LoadResult['latencyBuckets'] {
  const values = Array.from({ length: 200 }, (_, i) => meanMs * (0.5 + 0.9 * (i / 200) ** 2 + (i >= 196 ? 2.5 : 0)));
  const b = latencyBuckets(values)!;
  return { ...b, counts: b.counts.map((c) => Math.round((c * requests) / values.length)) };
}

/** A Point as the runner stores it, with a LoadResult consistent with the given mean latency (Little's law). */
export function point(s: PointSpec): Point {
  const base = {
    schema: POINT_SCHEMA,
    server: s.server,
    family: s.family,
    ...(s.paperRow ? { paperRow: s.paperRow } : {}),
    load: s.load,
    round: s.round ?? 1,
    startedAt: '2025-01-02T03:05:00.000Z',
  } as const;
  if (s.failed) return { ...base, status: 'failed', reason: s.failed, ...(s.stopped ? { stopped: s.stopped } : {}) };
  if (s.servedNothing) return { ...base, status: 'ok', result: nothingServed(s), ...(s.stopped ? { stopped: s.stopped } : {}) };
  const measuredLoad = s.measuredLoad ?? s.load * 0.99;
  const throughputRps = s.throughputRps ?? (measuredLoad / s.meanLatencyMs) * 1000;
  const requests = 18000;
  const errors = s.errors ?? 0;
  const jain = s.jainIndex ?? 0.999;
  const result: LoadResult = {
    schema: LOAD_SCHEMA,
    engine: 'eventbench',
    url: 'http://127.0.0.1:40000/',
    mode: 'close',
    concurrency: s.load,
    workers: 1,
    requestsStarted: 20000,
    requestsCompleted: 20000,
    requests,
    trim: 1000,
    durationS: requests / throughputRps,
    totalDurationS: 20000 / throughputRps,
    throughputRps,
    measuredLoad,
    latencyMs: {
      ...phase(s.meanLatencyMs),
      percentiles: { '50': s.meanLatencyMs * 0.95, '90': s.meanLatencyMs * 1.3, '99': s.meanLatencyMs * 1.8, '100': s.meanLatencyMs * 4 },
    },
    phasesMs: {
      connect: phase(0.05),
      processing: phase(s.meanLatencyMs - 0.05),
      waiting: phase(s.meanLatencyMs * 0.9),
      total: phase(s.meanLatencyMs),
    },
    bytesReceived: requests * 386,
    documentBytes: 305,
    errors: { connect: errors, reset: 0, timeout: 0, status: 0, length: 0, other: 0, total: errors },
    statusCounts: { '200': 20000 - errors },
    clientCpu: { userS: 1, systemS: 1, share: 0.4 },
    verdict: { clientBound: false, reasons: [] },
    fairness: { clients: s.load, jainIndex: jain, slowestClientShare: Math.max(0, 1 - 8 * (1 - jain)) },
    latencyBuckets: buckets(s.meanLatencyMs, requests),
    startedAt: base.startedAt,
    environment: ENVIRONMENT,
  };
  return {
    ...base,
    status: 'ok',
    result,
    ...(s.stopped ? { stopped: s.stopped } : {}),
    ...(s.peakRssBytes !== undefined
      ? {
          metrics: {
            cpuS: 5,
            cpuShare: 0.25,
            peakRssBytes: s.peakRssBytes,
            idleRssBytes: s.peakRssBytes / 2,
            peakProcesses: 1,
            peakThreads: 1,
            listenOverflows: s.listenOverflows ?? 0,
            listenDrops: 0,
            backlog: { requested: 4096, effective: 4096 },
          },
        }
      : {}),
  };
}

/** A result in which every request timed out, as a thread per connection's at l=100 under a quarter core. */
function nothingServed(s: PointSpec): LoadResult {
  const none = { min: NaN, mean: NaN, sd: NaN, median: NaN, max: NaN };
  return {
    schema: LOAD_SCHEMA,
    engine: 'eventbench',
    url: 'http://127.0.0.1:40000/',
    mode: 'close',
    concurrency: s.load,
    workers: 1,
    requestsStarted: s.load,
    requestsCompleted: s.load,
    requests: 0,
    trim: 0,
    durationS: 0,
    totalDurationS: 10,
    throughputRps: 0,
    measuredLoad: 0,
    latencyMs: { ...none, percentiles: {} },
    phasesMs: { connect: none, processing: none, waiting: none, total: none },
    bytesReceived: 0,
    documentBytes: null,
    errors: { connect: 0, reset: 0, timeout: s.load, status: 0, length: 0, other: 0, total: s.load },
    statusCounts: {},
    clientCpu: { userS: 0.1, systemS: 0.1, share: 0.02 },
    verdict: { clientBound: false, reasons: ['no request was served: see the errors'] },
    startedAt: '2025-01-02T03:05:00.000Z',
    environment: ENVIRONMENT,
  };
}

/** Writes a run folder in a fresh temp dir; `tail` is appended raw to points.jsonl (a partial line, say). */
export async function writeRun(run: RunInfo, points: Point[], tail = ''): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventbench-report-'));
  await writeFile(path.join(dir, RUN_FILE), JSON.stringify(run, null, 2));
  await writeFile(path.join(dir, POINTS_FILE), points.map((p) => JSON.stringify(p) + '\n').join('') + tail);
  return dir;
}

export const LOADS = [100, 200, 400, 600, 800, 1000];

interface ServerLine {
  server: string;
  family: Family;
  paperRow?: string;
  slopeMs: number;
  interceptMs: number;
  bytesPerConnection: number;
  idleRssBytes: number;
}

const LINES: ServerLine[] = [
  {
    server: 'native-st',
    family: 'native',
    paperRow: 'ST',
    slopeMs: 0.031,
    interceptMs: 0.4,
    bytesPerConnection: 12 * 1024,
    idleRssBytes: 2e6,
  },
  {
    server: 'lighttpd',
    family: 'production',
    paperRow: 'lighttpd',
    slopeMs: 0.042,
    interceptMs: 0.5,
    bytesPerConnection: 3 * 1024,
    idleRssBytes: 4e6,
  },
  {
    server: 'nginx',
    family: 'production',
    paperRow: 'thttpd',
    slopeMs: 0.038,
    interceptMs: 0.45,
    bytesPerConnection: 1.5 * 1024,
    idleRssBytes: 5e6,
  },
  {
    server: 'async',
    family: 'typescript',
    paperRow: 'CPC',
    slopeMs: 0.085,
    interceptMs: 0.9,
    bytesPerConnection: 6 * 1024,
    idleRssBytes: 45e6,
  },
  { server: 'events', family: 'typescript', slopeMs: 0.07, interceptMs: 0.8, bytesPerConnection: 4 * 1024, idleRssBytes: 44e6 },
  {
    server: 'threads',
    family: 'typescript',
    paperRow: 'NPTL',
    slopeMs: 0.16,
    interceptMs: 1.5,
    bytesPerConnection: 900 * 1024,
    idleRssBytes: 50e6,
  },
  {
    server: 'apache-prefork',
    family: 'production',
    paperRow: 'Apache',
    slopeMs: 0.12,
    interceptMs: 1.1,
    bytesPerConnection: 600 * 1024,
    idleRssBytes: 20e6,
  },
  {
    server: 'processes',
    family: 'typescript',
    paperRow: 'fork',
    slopeMs: 0.4,
    interceptMs: 3,
    bytesPerConnection: 30 * 1024 ** 2,
    idleRssBytes: 45e6,
  },
];

/**
 * A realistic run of eight servers: small deterministic wiggles around each line; threads client-bound at 1000;
 * apache-prefork stopped after 600 with accept-queue overflows there; processes failed at 800 and stopped; events
 * measured twice per load (repeats to average); a partial last line as a run still writing leaves.
 */
export function realisticRun(): { run: RunInfo; points: Point[]; tail: string; lines: ServerLine[] } {
  const points: Point[] = [];
  for (const [i, s] of LINES.entries()) {
    for (const [j, load] of LOADS.entries()) {
      const wiggle = 1 + 0.01 * Math.sin(1.7 * i + 2.3 * j);
      const spec: PointSpec = {
        server: s.server,
        family: s.family,
        ...(s.paperRow ? { paperRow: s.paperRow } : {}),
        load,
        meanLatencyMs: (s.interceptMs + s.slopeMs * load) * wiggle,
        peakRssBytes: s.idleRssBytes + s.bytesPerConnection * load,
      };
      if (s.server === 'threads' && load === 1000) {
        spec.measuredLoad = 700;
        spec.meanLatencyMs *= 0.7;
      }
      if (s.server === 'apache-prefork' && load > 600) continue;
      if (s.server === 'apache-prefork' && load === 600) {
        spec.listenOverflows = 1234;
        spec.errors = 40;
        spec.stopped = 'mean latency 2110 ms is above the cap of 2000 ms';
      }
      if (s.server === 'processes' && load > 800) continue;
      if (s.server === 'processes' && load === 800) {
        spec.failed = 'the server died (exit code 137)';
        spec.stopped = 'the server failed';
      }
      points.push(point(spec));
      if (s.server === 'events') points.push(point({ ...spec, round: 2, meanLatencyMs: spec.meanLatencyMs * 1.02 }));
    }
  }
  const run = runInfo(
    LINES.map((s) => s.server),
    LOADS,
    {
      finishedAt: undefined,
      warnings: [
        'somaxconn is 4096: loads above it would overflow the accept queue',
        'apache-prefork: ListenBacklog capped at 511 by the configuration',
      ],
      skipped: [{ server: 'native-pth', reason: 'libpth-dev is not installed (apt-get install libpth-dev)' }],
    },
  );
  delete run.finishedAt;
  const tail = JSON.stringify(point({ server: 'processes', family: 'typescript', load: 1000, meanLatencyMs: 400 })).slice(0, 120);
  return { run, points, tail, lines: LINES };
}

const MEMORY_LEVELS = [0, 250, 500, 1000];

/** One server of the memory phase on a known line: `base` bytes idle, `perConnection` more for each connection held. */
function memoryLine(server: string, family: Family, base: number, perConnection: number, measure: 'pss' | 'rss'): MemoryServer {
  return {
    server,
    family,
    status: 'ok',
    measurable: true,
    levels: MEMORY_LEVELS.map((connections) => ({
      connections,
      acceptedConnections: connections,
      memoryBytes: base + perConnection * connections,
      measure,
      processes: 1,
      threads: 7,
      settled: true,
    })),
    fit: { bytesPerConnection: perConnection, interceptBytes: base, r: 1, n: MEMORY_LEVELS.length },
    connectionsInBudget: { connections: Math.floor((2 ** 30 - base) / perConnection), extrapolated: true },
  };
}

/**
 * memory.json as `eventbench memory` (or run's memory phase) writes it into a run folder: events and threads on
 * known lines, native-epoll too flat to measure, apache-prefork failed.
 */
export async function writeMemoryRun(dir: string): Promise<MemoryRun> {
  const line = memoryLine;
  const flat = { ...line('native-epoll', 'native', 2e6, 1, 'rss'), measurable: false, why: 'r 0.31 < 0.9' };
  delete flat.connectionsInBudget;
  const run: MemoryRun = {
    schema: MEMORY_SCHEMA,
    startedAt: '2025-01-02T03:40:00.000Z',
    finishedAt: '2025-01-02T03:41:00.000Z',
    environment: ENVIRONMENT,
    levels: MEMORY_LEVELS,
    budgetBytes: 2 ** 30,
    idleTimeoutS: 3600,
    quick: true,
    servers: [
      line('events', 'typescript', 45e6, 1200, 'rss'),
      line('threads', 'typescript', 50e6, 260 * 1024, 'rss'),
      flat,
      {
        server: 'apache-prefork',
        family: 'production',
        status: 'failed',
        reason: 'apache2 is not installed',
        levels: [],
        measurable: false,
      },
    ],
  };
  await writeFile(path.join(dir, MEMORY_FILE), JSON.stringify(run, null, 2));
  return run;
}

/**
 * A run of `rounds` (one per factor) over loads 10..1000, each server on its line `1 + slopeMs·load` scaled in each
 * round by that round's factor (a process effect) and by a small fixed wobble per point; `flagAt` makes one point
 * client-bound (left out of the fits).
 */
export function roundsRun(specs: { server: string; slopeMs: number; factors: number[]; flagAt?: { load: number; round: number } }[]) {
  const loads = [10, 100, 250, 500, 1000];
  const points = specs.flatMap((s) =>
    s.factors.flatMap((f, r) =>
      loads.map((load, i) =>
        point({
          server: s.server,
          family: 'typescript',
          load,
          round: r + 1,
          meanLatencyMs: (1 + s.slopeMs * load) * f * (1 + 0.01 * Math.sin(3.1 * i + 1.7 * r + s.slopeMs * 50)),
          // A flagged point (client-bound: half the offered load was in flight) stays out of every fit.
          ...(s.flagAt?.load === load && s.flagAt.round === r + 1 ? { measuredLoad: load / 2 } : {}),
        }),
      ),
    ),
  );
  const info = runInfo(
    specs.map((s) => s.server),
    loads,
  );
  info.plan.rounds = Math.max(...specs.map((s) => s.factors.length));
  return { info, points, stored: { dir: '/nowhere', info, points, notes: [] } };
}

/** The default run's 23 servers, then the C++, io_uring and Go ones a run of every server adds: name, family, paper row. */
export const EVERY_SERVER: [string, Family, string?][] = [
  ['events', 'typescript', 'thttpd'],
  ['events-uv', 'typescript', 'thttpd'],
  ['async', 'typescript', 'CPC'],
  ['async-compiled', 'typescript', 'CPC'],
  ['coroutines', 'typescript', 'ST'],
  ['threads', 'typescript', 'NPTL'],
  ['thread-pool', 'typescript', 'Apache'],
  ['processes', 'typescript', 'fork'],
  ['process-pool', 'typescript', 'Apache'],
  ['node-http', 'typescript'],
  ['bun-serve', 'typescript'],
  ['deno-serve', 'typescript'],
  ['native-fork', 'native', 'fork'],
  ['native-pthreads', 'native', 'NPTL'],
  ['native-pth', 'native', 'Pth'],
  ['native-st', 'native', 'ST'],
  ['native-epoll', 'native'],
  ['apache-prefork', 'production', 'Apache'],
  ['apache-worker', 'production', 'Apache'],
  ['apache-event', 'production'],
  ['lighttpd', 'production', 'lighttpd'],
  ['nginx', 'production', 'thttpd'],
  ['h2o', 'production', 'Polipo'],
  ['native-coro', 'native', 'CPC'],
  ['native-uring', 'native', 'completion'],
  ['go-nethttp', 'native', 'ST'],
  ['go-raw', 'native', 'ST'],
];

/**
 * A default run over `servers` (the default run's 23 by default): three rounds at loads 10 to 1000, each server on
 * its own line with a small wobble per round and point; threads and processes too slow at l=10 and then serving
 * nothing at l=100 (stopped), bun-serve overflowing its accept queue at l=1000.
 */
export function defaultRun(servers: readonly [string, Family, string?][] = EVERY_SERVER.slice(0, 23)): { run: RunInfo; points: Point[] } {
  const points: Point[] = [];
  const loads = [10, 100, 250, 500, 1000];
  servers.forEach(([server, family, paperRow], i) => {
    for (const load of loads) {
      for (const round of [1, 2, 3]) {
        const base = { server, family, ...(paperRow ? { paperRow } : {}), load, round };
        if (server === 'threads' || server === 'processes') {
          if (load === 10) points.push(point({ ...base, meanLatencyMs: 4000, throughputRps: 0 }));
          const stopped = 'errors were 100.0% of requests, past the cap of 5.0% at load 100';
          if (load === 100 && round === 1) points.push(point({ ...base, meanLatencyMs: 1, servedNothing: true, stopped }));
          continue;
        }
        const wiggle = 1 + 0.04 * Math.sin(3.1 * i + 1.7 * round + load);
        points.push(
          point({
            ...base,
            meanLatencyMs: (0.3 + (0.07 + 0.02 * i) * load) * wiggle,
            peakRssBytes: 2e6 + 1e4 * load,
            ...(server === 'bun-serve' && load === 1000 ? { listenOverflows: 6354, errors: 12 } : {}),
          }),
        );
      }
    }
  });
  const run = runInfo(
    servers.map(([s]) => s),
    loads,
  );
  run.plan = { ...run.plan, rounds: 3, durationS: 0.6, requests: 30_000 };
  return { run, points };
}

/** memory.json for every server of a run, as its memory phase writes it: each on a line of its own. */
export async function writeMemoryOf(dir: string, servers: readonly [string, Family, string?][]): Promise<MemoryRun> {
  const run: MemoryRun = {
    schema: MEMORY_SCHEMA,
    startedAt: '2025-01-02T03:40:00.000Z',
    finishedAt: '2025-01-02T03:41:00.000Z',
    environment: ENVIRONMENT,
    levels: MEMORY_LEVELS,
    budgetBytes: 2 ** 30,
    idleTimeoutS: 3600,
    quick: false,
    servers: servers.map(([server, family], i) => memoryLine(server, family, 2e6 + 1e6 * i, 1024 * (1 + i * i), 'pss')),
  };
  await writeFile(path.join(dir, MEMORY_FILE), JSON.stringify(run, null, 2));
  return run;
}
