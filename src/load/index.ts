// The load generator's library entry: `runLoad(options)` runs one measurement with either engine and returns
// one LoadResult in the versioned schema of types.ts.
import dns from 'node:dns/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { environment, eventbenchVersion } from '../core/environment.js';
import { UsageError } from '../core/errors.js';
import { runAb } from './ab.js';
import { runLoop, type LoopOutcome } from './loop.js';
import type { Records } from './records.js';
import { requestBytes, resolveLoadOptions, type LoadInput } from './options.js';
import { writeRaw } from './raw.js';
import { trimmedFigures, resultFields, SYN_RETRY_MS } from './stats.js';
import { somaxconnFix } from '../core/backlog.js';
import { notSteadyReason, type Steadiness } from './steady.js';
import { runWorkers } from './workers.js';
import { LOAD_SCHEMA, MEASURED_LOAD_FLOOR, type LoadOptions, type LoadResult } from './types.js';

export { resolveLoadOptions, LOAD_DEFAULTS, type LoadInput } from './options.js';
export * from './types.js';

/** Client CPU above this share of a core (per thread) means the client may have been the bottleneck. */
export const CLIENT_CPU_CEILING = 0.9;

export function verdict(
  concurrency: number,
  served: number,
  measuredLoad: number,
  cpuShare: number,
  threads: number,
): LoadResult['verdict'] {
  const reasons: string[] = [];
  if (served === 0) return { clientBound: false, reasons: ['no request was served: see the errors'] };
  if (measuredLoad < MEASURED_LOAD_FLOOR * concurrency) {
    reasons.push(`measured load ${measuredLoad.toFixed(1)} is below ${MEASURED_LOAD_FLOOR * 100}% of the offered ${concurrency}`);
  }
  if (cpuShare / threads > CLIENT_CPU_CEILING) {
    reasons.push(
      `the client used ${(100 * cpuShare).toFixed(0)}% of ${threads === 1 ? 'a core' : `${threads} cores`} (over ${CLIENT_CPU_CEILING * 100}%)`,
    );
  }
  return { clientBound: reasons.length > 0, reasons };
}

/** Adds the kept window's stationarity to a verdict: a point whose thirds disagree is `notSteady`. */
export function withSteadiness(v: LoadResult['verdict'], s: Steadiness | undefined): LoadResult['verdict'] {
  if (!s || s.steady) return v;
  return { ...v, notSteady: true, reasons: [...v.reasons, notSteadyReason(s)] };
}

/** Adds the accept queue's overflow, seen from the client, to a verdict: connects that waited for a SYN retry. */
export function withBacklog(
  v: LoadResult['verdict'],
  slowConnects: number,
  connectedLoad: number,
  concurrency: number,
): LoadResult['verdict'] {
  if (slowConnects === 0) return v;
  return { ...v, backlogBound: true, reasons: [...v.reasons, backlogReason(slowConnects, connectedLoad, concurrency)] };
}

/** The sentence for a point whose accept queue overflowed, with what fixes it. */
export function backlogReason(slowConnects: number, connectedLoad: number, concurrency: number): string {
  return `backlog-bound: ${slowConnects} request${slowConnects > 1 ? 's' : ''} waited ${SYN_RETRY_MS / 1000} s or more for a TCP handshake (a SYN dropped by a full accept queue, then resent), and only ${connectedLoad.toFixed(0)} of the ${concurrency} requests in flight were past their handshake; fix: raise the server's listen backlog (--backlog) and ${somaxconnFix(concurrency)}`;
}

export async function runLoad(input: LoadInput): Promise<LoadResult> {
  const o = resolveLoadOptions(input);
  const startedAt = new Date().toISOString();
  return o.engine === 'ab' ? abResult(o, startedAt) : (await eventbenchResult(o, startedAt)).result;
}

/**
 * The eventbench engine's result with its per-request records (on this thread's performance.now() clock), for an
 * agent whose share of a load is merged with others' (load/merge.ts).
 */
export async function runLoadWithRecords(input: LoadInput): Promise<{ result: LoadResult; records: Records }> {
  const o = resolveLoadOptions(input);
  if (o.engine !== 'eventbench') {
    throw new UsageError(
      'engine (--engine)',
      o.engine,
      'only the eventbench engine keeps per-request records to merge',
      'drop --engine ab',
    );
  }
  return eventbenchResult(o, new Date().toISOString());
}

/** The timer is trusted to this many ms before an instant; the rest is a spin (a busy machine fires timers late). */
const SPIN_MS = 5;

/** Resolves at `atMs` on performance.now(), as closely as this process can: a timer, then a short spin. */
export async function waitUntil(atMs: number, signal?: AbortSignal): Promise<void> {
  const early = atMs - performance.now() - SPIN_MS;
  if (early > 0) await sleep(early, undefined, { signal }).catch(() => {});
  while (!signal?.aborted && performance.now() < atMs) {
    /* spin: at most SPIN_MS */
  }
}

/** What every loop of one load needs whichever loop it is (closed or open): where to connect, what to send, when to stop. */
export async function wireOf(o: Omit<LoadOptions, 'concurrency' | 'workers' | 'engine'>) {
  const url = new URL(o.url);
  return {
    host: await resolveHost(url),
    port: Number(url.port || 80),
    request: requestBytes(url, o.method, o.keepalive, eventbenchVersion()),
    head: o.method === 'HEAD',
    requests: o.requests,
    durationS: o.durationS,
    timeoutS: o.timeoutS,
    keepalive: o.keepalive,
    signal: o.signal,
    onProgress: o.onProgress,
    transport: o.transport,
  };
}

export async function resolveHost(url: URL): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) return host;
  try {
    return (await dns.lookup(host)).address;
  } catch {
    throw new UsageError('url', url.href, `the host ${host} does not resolve`, 'use an IP address such as 127.0.0.1');
  }
}

async function eventbenchResult(o: LoadOptions, startedAt: string): Promise<{ result: LoadResult; records: Records }> {
  const loop = { ...(await wireOf(o)), concurrency: o.concurrency, bailout: o.bailout };
  if (o.startAtMs !== undefined) await waitUntil(o.startAtMs, o.signal);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const outcome: LoopOutcome = o.workers > 1 ? await runWorkers(loop, o.workers) : await runLoop(loop);
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  if (o.rawFile) await writeRaw(o.rawFile, outcome.records);
  const f = trimmedFigures(outcome.records, o.trim, o.concurrency);
  const share = wallS > 0 ? (cpu.user + cpu.system) / 1e6 / wallS : 0;
  const result: LoadResult = {
    schema: LOAD_SCHEMA,
    engine: 'eventbench',
    transport: outcome.transport,
    url: o.url,
    mode: o.keepalive ? 'keepalive' : 'close',
    concurrency: o.concurrency,
    workers: o.workers,
    requestsStarted: outcome.records.length,
    ...resultFields(f),
    documentBytes: outcome.documentBytes,
    clientCpu: { userS: cpu.user / 1e6, systemS: cpu.system / 1e6, share },
    ...(f.steadiness ? { steadiness: f.steadiness } : {}),
    connectedLoad: f.connectedLoad,
    slowConnects: f.slowConnects,
    ...(f.fairness ? { fairness: f.fairness } : {}),
    ...(f.latencyBuckets ? { latencyBuckets: f.latencyBuckets } : {}),
    verdict: withBacklog(
      withSteadiness(verdict(o.concurrency, f.requests, f.measuredLoad, share, o.workers), f.steadiness),
      f.slowConnects ?? 0,
      f.connectedLoad ?? 0,
      o.concurrency,
    ),
    ...(outcome.stoppedEarly ? { stoppedEarly: outcome.stoppedEarly } : {}),
    startedAt,
    environment: environment(),
  };
  return { result, records: outcome.records };
}

async function abResult(o: LoadOptions, startedAt: string): Promise<LoadResult> {
  const ab = await runAb(o);
  const measuredLoad = (ab.throughputRps * ab.latencyMs.mean) / 1000;
  const share = ab.durationS > 0 ? (ab.cpuS.user + ab.cpuS.system) / ab.durationS : 0;
  return {
    schema: LOAD_SCHEMA,
    engine: 'ab',
    url: o.url,
    mode: o.keepalive ? 'keepalive' : 'close',
    concurrency: o.concurrency,
    workers: 1,
    requestsStarted: ab.requestsCompleted,
    requestsCompleted: ab.requestsCompleted,
    requests: ab.requestsCompleted - (ab.errors.total - ab.non2xx),
    trim: 0,
    trimNote: 'ab keeps no per-request records in start order: its figures cover every request, untrimmed',
    durationS: ab.durationS,
    totalDurationS: ab.durationS,
    throughputRps: ab.throughputRps,
    measuredLoad,
    latencyMs: ab.latencyMs,
    phasesMs: ab.phasesMs,
    bytesReceived: ab.bytesReceived,
    documentBytes: ab.documentBytes,
    errors: ab.errors,
    statusCounts: {},
    clientCpu: { userS: ab.cpuS.user, systemS: ab.cpuS.system, share },
    verdict: verdict(o.concurrency, ab.requestsCompleted - ab.errors.total, measuredLoad, share, 1),
    startedAt,
    environment: environment(),
  };
}
