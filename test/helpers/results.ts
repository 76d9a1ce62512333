// Writes run folders (run.json + points.jsonl) from typed objects, as `eventbench run` would, for the report's
// tests: realistic numbers built from a known line per server, so the expected fits are known.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Environment } from '../../src/core/environment.js';
import { POINTS_FILE, POINT_SCHEMA, RUN_FILE, RUN_SCHEMA, type Family, type Point, type RunInfo } from '../../src/sweep/schema.js';
import { LOAD_SCHEMA, type LoadResult, type PhaseMs } from '../../src/load/types.js';

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
      servers, loads, rounds: 1, requests: 20000, trim: 1000, pageBytes: 305, backlog: 4096, engine: 'eventbench',
      serverCpus: '0', clientCpus: '1', serverCpuShare: 0.25, latencyCapMs: 2000, errorShareCap: 0.05,
    },
    phases: [{ phase: 'closed' }],
    host: { somaxconn: 4096, tcpMaxSynBacklog: 4096, ipLocalPortRange: '1024 65535', throttle: { mechanism: 'cgroup-v1', share: 0.25 }, pinned: true },
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
}

/** A Point as the runner stores it, with a LoadResult consistent with the given mean latency (Little's law). */
export function point(s: PointSpec): Point {
  const base = { schema: POINT_SCHEMA, server: s.server, family: s.family, ...(s.paperRow ? { paperRow: s.paperRow } : {}), load: s.load, round: s.round ?? 1, startedAt: '2025-01-02T03:05:00.000Z' } as const;
  if (s.failed) return { ...base, status: 'failed', reason: s.failed, ...(s.stopped ? { stopped: s.stopped } : {}) };
  const measuredLoad = s.measuredLoad ?? s.load * 0.99;
  const throughputRps = (measuredLoad / s.meanLatencyMs) * 1000;
  const requests = 18000;
  const errors = s.errors ?? 0;
  const result: LoadResult = {
    schema: LOAD_SCHEMA, engine: 'eventbench', url: 'http://127.0.0.1:40000/', mode: 'close', concurrency: s.load, workers: 1,
    requestsStarted: 20000, requestsCompleted: 20000, requests, trim: 1000,
    durationS: requests / throughputRps, totalDurationS: 20000 / throughputRps, throughputRps, measuredLoad,
    latencyMs: { ...phase(s.meanLatencyMs), percentiles: { '50': s.meanLatencyMs * 0.95, '90': s.meanLatencyMs * 1.3, '99': s.meanLatencyMs * 1.8, '100': s.meanLatencyMs * 4 } },
    phasesMs: { connect: phase(0.05), processing: phase(s.meanLatencyMs - 0.05), waiting: phase(s.meanLatencyMs * 0.9), total: phase(s.meanLatencyMs) },
    bytesReceived: requests * 386, documentBytes: 305,
    errors: { connect: errors, reset: 0, timeout: 0, status: 0, length: 0, other: 0, total: errors },
    statusCounts: { '200': 20000 - errors },
    clientCpu: { userS: 1, systemS: 1, share: 0.4 },
    verdict: { clientBound: false, reasons: [] },
    startedAt: base.startedAt,
    environment: ENVIRONMENT,
  };
  return {
    ...base, status: 'ok', result,
    ...(s.stopped ? { stopped: s.stopped } : {}),
    ...(s.peakRssBytes !== undefined ? {
      metrics: {
        cpuS: 5, cpuShare: 0.25, peakRssBytes: s.peakRssBytes, idleRssBytes: s.peakRssBytes / 2, peakProcesses: 1, peakThreads: 1,
        listenOverflows: s.listenOverflows ?? 0, listenDrops: 0, backlog: { requested: 4096, effective: 4096 },
      },
    } : {}),
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
  server: string; family: Family; paperRow?: string;
  slopeMs: number; interceptMs: number; bytesPerConnection: number; idleRssBytes: number;
}

const LINES: ServerLine[] = [
  { server: 'native-st', family: 'native', paperRow: 'ST', slopeMs: 0.031, interceptMs: 0.4, bytesPerConnection: 12 * 1024, idleRssBytes: 2e6 },
  { server: 'lighttpd', family: 'production', paperRow: 'lighttpd', slopeMs: 0.042, interceptMs: 0.5, bytesPerConnection: 3 * 1024, idleRssBytes: 4e6 },
  { server: 'nginx', family: 'production', paperRow: 'thttpd', slopeMs: 0.038, interceptMs: 0.45, bytesPerConnection: 1.5 * 1024, idleRssBytes: 5e6 },
  { server: 'async', family: 'typescript', paperRow: 'CPC', slopeMs: 0.085, interceptMs: 0.9, bytesPerConnection: 6 * 1024, idleRssBytes: 45e6 },
  { server: 'events', family: 'typescript', slopeMs: 0.07, interceptMs: 0.8, bytesPerConnection: 4 * 1024, idleRssBytes: 44e6 },
  { server: 'threads', family: 'typescript', paperRow: 'NPTL', slopeMs: 0.16, interceptMs: 1.5, bytesPerConnection: 900 * 1024, idleRssBytes: 50e6 },
  { server: 'apache-prefork', family: 'production', paperRow: 'Apache', slopeMs: 0.12, interceptMs: 1.1, bytesPerConnection: 600 * 1024, idleRssBytes: 20e6 },
  { server: 'processes', family: 'typescript', paperRow: 'fork', slopeMs: 0.4, interceptMs: 3, bytesPerConnection: 30 * 1024 ** 2, idleRssBytes: 45e6 },
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
        server: s.server, family: s.family, ...(s.paperRow ? { paperRow: s.paperRow } : {}), load,
        meanLatencyMs: (s.interceptMs + s.slopeMs * load) * wiggle, peakRssBytes: s.idleRssBytes + s.bytesPerConnection * load,
      };
      if (s.server === 'threads' && load === 1000) { spec.measuredLoad = 700; spec.meanLatencyMs *= 0.7; }
      if (s.server === 'apache-prefork' && load > 600) continue;
      if (s.server === 'apache-prefork' && load === 600) { spec.listenOverflows = 1234; spec.errors = 40; spec.stopped = 'mean latency 2110 ms is above the cap of 2000 ms'; }
      if (s.server === 'processes' && load > 800) continue;
      if (s.server === 'processes' && load === 800) { spec.failed = 'the server died (exit code 137)'; spec.stopped = 'the server failed'; }
      points.push(point(spec));
      if (s.server === 'events') points.push(point({ ...spec, round: 2, meanLatencyMs: spec.meanLatencyMs * 1.02 }));
    }
  }
  const run = runInfo(LINES.map((s) => s.server), LOADS, {
    finishedAt: undefined,
    warnings: ['somaxconn is 4096: loads above it would overflow the accept queue', 'apache-prefork: ListenBacklog capped at 511 by the configuration'],
    skipped: [{ server: 'native-pth', reason: 'libpth-dev is not installed (apt-get install libpth-dev)' }],
  });
  delete run.finishedAt;
  const tail = JSON.stringify(point({ server: 'processes', family: 'typescript', load: 1000, meanLatencyMs: 400 })).slice(0, 120);
  return { run, points, tail, lines: LINES };
}
