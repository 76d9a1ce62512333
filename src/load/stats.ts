// From records to figures: trim by start order, then latency, ab's phase breakdown, throughput and the paper's
// measured load l_m = n·t_r/t over the kept window.
import { ERROR_NAME, type RecordsData } from './records.js';
import { steadiness } from './steady.js';
import { fairness, latencyBuckets } from './distribution.js';
import { ERROR_KINDS, PERCENTILES, type ErrorKind, type LatencyMs, type LoadResult, type PhaseMs } from './types.js';

/**
 * A connect that took this long waited for a SYN retransmission: Linux resends an unanswered SYN after 1 s, and a
 * listening socket whose accept queue is full drops new SYNs (or the handshake's last ACK) instead of answering.
 */
export const SYN_RETRY_MS = 1000;

export interface Trim {
  /** Requests dropped at each end. */
  k: number;
  note?: string;
}

/** The paper drops the first and last K samples; when 2K is more than half of N, K becomes N/10. */
export function trimFor(n: number, requested: number): Trim {
  if (2 * requested <= n / 2) return { k: requested };
  const k = Math.floor(n / 10);
  return { k, note: `--trim ${requested} would drop ${2 * requested} of ${n} requests; trimmed ${k} at each end (a tenth) instead` };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function phase(values: Float64Array): PhaseMs {
  const n = values.length;
  if (n === 0) return { min: NaN, mean: NaN, sd: NaN, median: NaN, max: NaN };
  const sorted = values.slice().sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of sorted) sq += (v - mean) ** 2;
  return { min: sorted[0]!, mean, sd: n > 1 ? Math.sqrt(sq / (n - 1)) : 0, median: percentile(sorted, 50), max: sorted[n - 1]! };
}

export function latency(values: Float64Array): LatencyMs {
  const p = phase(values);
  const sorted = values.slice().sort();
  const percentiles: Record<string, number> = {};
  for (const q of PERCENTILES) percentiles[String(q)] = percentile(sorted, q);
  return { ...p, percentiles };
}

/** The load result's figures over the kept window (documented once, in types.ts), with the trim as decided. */
export type Figures = Pick<
  LoadResult,
  | 'requests'
  | 'durationS'
  | 'totalDurationS'
  | 'throughputRps'
  | 'measuredLoad'
  | 'latencyMs'
  | 'phasesMs'
  | 'bytesReceived'
  | 'errors'
  | 'statusCounts'
  | 'requestsCompleted'
  | 'steadiness'
  | 'connectedLoad'
  | 'slowConnects'
  | 'fairness'
  | 'latencyBuckets'
> & { trim: Trim };

/** The finished requests (end is set), in start order, and those kept after trimming `requestedTrim` at each end. */
export function keptRequests(r: RecordsData, requestedTrim: number): { finished: number[]; trim: Trim; kept: number[] } {
  const finished: number[] = [];
  for (let i = 0; i < r.length; i++) if (!Number.isNaN(r.end[i]!)) finished.push(i);
  const trim = trimFor(finished.length, requestedTrim);
  return { finished, trim, kept: finished.slice(trim.k, finished.length - trim.k) };
}

/**
 * Figures over the kept window. Requests are kept by start order (records are in start order); of those, the ones
 * that got a whole response (2xx or not) are the served ones, whose times make the latency figures and l_m.
 * Requests the run cut short (end = NaN) are neither kept nor counted.
 */
export function trimmedFigures(r: RecordsData, requestedTrim: number, concurrency = 1): Figures {
  const { finished, trim, kept } = keptRequests(r, requestedTrim);
  return keptFigures(r, finished, kept, trim, concurrency);
}

/**
 * Served requests' time in flight inside [fromMs, toMs], summed (ms), the same past their TCP handshake, and how
 * many of them ended inside: over the window's length, the first is the paper's l_m. Every request given counts,
 * kept or trimmed, for the time it spent inside.
 */
export function inFlight(
  r: RecordsData,
  indices: Iterable<number>,
  fromMs: number,
  toMs: number,
): { inFlightMs: number; connectedMs: number; endedInside: number } {
  let inFlightMs = 0,
    connectedMs = 0,
    endedInside = 0;
  for (const i of indices) {
    if (r.status[i]! === 0) continue;
    const start = r.start[i]!,
      end = r.end[i]!;
    inFlightMs += Math.max(0, Math.min(end, toMs) - Math.max(start, fromMs));
    connectedMs += Math.max(0, Math.min(end, toMs) - Math.max(r.connected[i]!, fromMs));
    if (end >= fromMs && end <= toMs) endedInside++;
  }
  return { inFlightMs, connectedMs, endedInside };
}

/**
 * Figures over a kept set of finished requests given in start order (a trimmed run's, or the span several agents
 * all cover: load/merge.ts). `finished` is every finished request of the run, for the error counts and l_m.
 */
export function keptFigures(r: RecordsData, finished: number[], kept: number[], trim: Trim, concurrency = 1): Figures {
  const run = wholeRunCounts(r, finished);
  const { served, total, connect, processing, waiting, bytesReceived } = servedTimes(r, kept);
  const { spanMs, steadyMs, inside } = keptWindow(r, finished, kept);
  const steady = steadiness(
    served.map((i) => r.start[i]!),
    total,
    concurrency,
  );
  // The closed loop's clients are its slots 0..concurrency-1; the open loop does not store these.
  const fair = fairness(r, served, concurrency);
  const buckets = latencyBuckets(total);
  return {
    ...(steady ? { steadiness: steady } : {}),
    ...(fair ? { fairness: fair } : {}),
    ...(buckets ? { latencyBuckets: buckets } : {}),
    requests: served.length,
    requestsCompleted: finished.length,
    trim,
    durationS: spanMs / 1000,
    totalDurationS: finished.length ? (run.lastEndMs - run.firstStartMs) / 1000 : 0,
    throughputRps: steadyMs > 0 ? inside.endedInside / (steadyMs / 1000) : 0,
    measuredLoad: steadyMs > 0 ? inside.inFlightMs / steadyMs : 0,
    connectedLoad: steadyMs > 0 ? inside.connectedMs / steadyMs : 0,
    slowConnects: run.slowConnects,
    latencyMs: latency(total),
    phasesMs: { connect: phase(connect), processing: phase(processing), waiting: phase(waiting), total: phase(total) },
    bytesReceived,
    errors: run.errors,
    statusCounts: run.statusCounts,
  };
}

/** Over every finished request of the run, kept or not: errors by kind, statuses, the run's span, SYN retries. */
function wholeRunCounts(r: RecordsData, finished: number[]) {
  const errors = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number> & { total: number };
  errors.total = 0;
  const statusCounts: Record<string, number> = {};
  let firstStartMs = Infinity,
    lastEndMs = -Infinity,
    slowConnects = 0;
  for (const i of finished) {
    const kind = ERROR_NAME[r.error[i]!];
    if (kind) {
      errors[kind]++;
      errors.total++;
    }
    if (r.status[i]) statusCounts[r.status[i]!] = (statusCounts[r.status[i]!] ?? 0) + 1;
    firstStartMs = Math.min(firstStartMs, r.start[i]!);
    lastEndMs = Math.max(lastEndMs, r.end[i]!);
    if (r.status[i]! !== 0 && r.connected[i]! - r.start[i]! >= SYN_RETRY_MS) slowConnects++;
  }
  return { errors, statusCounts, firstStartMs, lastEndMs, slowConnects };
}

/** The kept requests that got a whole response, and ab's phases of each (ms), in the same order. */
function servedTimes(r: RecordsData, kept: number[]) {
  const served = kept.filter((i) => r.status[i]! > 0);
  const total = new Float64Array(served.length);
  const connect = new Float64Array(served.length);
  const processing = new Float64Array(served.length);
  const waiting = new Float64Array(served.length);
  let bytesReceived = 0;
  served.forEach((i, j) => {
    total[j] = r.end[i]! - r.start[i]!;
    connect[j] = r.connected[i]! - r.start[i]!;
    processing[j] = r.end[i]! - r.connected[i]!;
    waiting[j] = r.firstByte[i]! - r.connected[i]!;
    bytesReceived += r.bytes[i]!;
  });
  return { served, total, connect, processing, waiting, bytesReceived };
}

/**
 * The kept window runs from the first kept start to the last kept end: the paper's t (spanMs). l_m and the
 * throughput are read over its steady part, first to last kept START, while the loop is still starting
 * requests: every request, kept or trimmed, counts for the time it spends inside, so l_m is the average number in
 * flight there. n·t_r/t over the kept requests alone reads low by about 1/(1 + l/n), since their count misses
 * the trimmed requests' time inside the window and t includes the last requests' ramp-down (14% at l = 1000
 * over 6000 requests); and a short run whose trim had to be lowered would read lower still.
 */
function keptWindow(r: RecordsData, finished: number[], kept: number[]) {
  let first = Infinity,
    last = -Infinity;
  for (const i of kept) {
    first = Math.min(first, r.start[i]!);
    last = Math.max(last, r.end[i]!);
  }
  const spanMs = kept.length ? last - first : 0;
  const steadyEnd = kept.length > 1 && r.start[kept[kept.length - 1]!]! > first ? r.start[kept[kept.length - 1]!]! : last;
  return { spanMs, steadyMs: steadyEnd - first, inside: inFlight(r, finished, first, steadyEnd) };
}

/** The fields of a load result that are the kept window's figures as they are, for either loop. */
export function resultFields(f: Figures) {
  return {
    requestsCompleted: f.requestsCompleted,
    requests: f.requests,
    trim: f.trim.k,
    ...(f.trim.note ? { trimNote: f.trim.note } : {}),
    durationS: f.durationS,
    totalDurationS: f.totalDurationS,
    throughputRps: f.throughputRps,
    measuredLoad: f.measuredLoad,
    latencyMs: f.latencyMs,
    phasesMs: f.phasesMs,
    bytesReceived: f.bytesReceived,
    errors: f.errors,
    statusCounts: f.statusCounts,
  };
}
