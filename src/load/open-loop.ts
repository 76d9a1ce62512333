// The open loop (`eventbench load --rate R`): requests start on a schedule, whatever the server does. The closed
// loop (loop.ts) waits for a response before it sends the next request, so a server that stalls also stalls the
// client and the stall shows in a few slow samples only ("coordinated omission"); here every request due during a
// stall is sent on time and waits, and its latency counts from its SCHEDULED start. The connection, parsing and
// records are the closed loop's own (this class extends it); only when a request starts differs. The client's own
// lag (actual start minus scheduled start) is recorded per request: past LAG_P99_BOUND_MS at p99 the client, not
// the server, fell behind, and the verdict says client-bound.
import { seededRandom } from '../core/random.js';
import { randomInt } from 'node:crypto';
import type { Histogram } from 'hdr-histogram-js';
import { environment } from '../core/environment.js';
import { UsageError } from '../core/errors.js';
import { wireOf } from './index.js';
import { Loop, Slot, type LoopOptions } from './loop.js';
import { openFilesLimit, resolveLoadOptions, type LoadInput } from './options.js';
import { writeRaw } from './raw.js';
import { ERROR_CODE, type Records } from './records.js';
import type { TransportName } from './transport.js';
import { trimmedFigures, keptRequests, resultFields, trimFor, type Figures } from './stats.js';
import { LOAD_SCHEMA, PERCENTILES, type Arrivals, type LoadOptions, type LoadResult } from './types.js';

export const OPEN_LOOP_DEFAULTS = { arrivals: 'poisson' as Arrivals, maxInflight: 10_000 };
/**
 * The client set the pace, not the server, when its lag p99 passes both of these: 1 ms (about ten times what a
 * fresh loopback connection costs the server), and a tenth of the latency p99 it measured (latency counts from the
 * scheduled start, so a lag that small moves the figure less than the run-to-run scatter). A fixed 1 ms alone
 * flagged nearly every point on a 2-core VM whose core the hypervisor takes away about 1% of the time for up to
 * 7 ms (bench:openloop measures it): lag p99 2–4 ms against latency p99 of 40–850 ms.
 */
export const LAG_P99_BOUND_MS = 1;
export const LAG_P99_SHARE = 0.1;

/** The lag p99 a point may have before the client counts as the bottleneck, ms. */
export const lagBoundMs = (latencyP99Ms: number): number =>
  Math.max(LAG_P99_BOUND_MS, LAG_P99_SHARE * (Number.isFinite(latencyP99Ms) ? latencyP99Ms : 0));
/** Rates above this are refused: a Node thread opens at most some tens of thousands of connections a second. */
export const MAX_RATE_RPS = 1_000_000;
/**
 * The loop spins (turns with setImmediate, polling sockets without sleeping) while requests are in flight or the
 * next is due within this many ms; else it sleeps on a timer (timers are ms-coarse). A client that slept between
 * requests would add its own wake-up, tens of µs to a millisecond on a busy VM, to the connects and responses it
 * times; spinning costs client CPU in proportion to the server's busy time, and the client has a core of its own.
 */
const SPIN_MS = 2;
/** At most this many requests are started per turn, so that responses are read between them. */
const BATCH = 64;

export interface OpenLoadOptions extends Omit<LoadOptions, 'concurrency' | 'workers' | 'engine'> {
  rateRps: number;
  arrivals: Arrivals;
  seed: number;
  maxInflight: number;
}
export type OpenLoadInput = Omit<LoadInput, 'concurrency' | 'workers' | 'engine'> &
  Pick<OpenLoadOptions, 'rateRps'> &
  Partial<Pick<OpenLoadOptions, 'arrivals' | 'seed' | 'maxInflight'>>;

/** Fills defaults and checks every field; throws UsageError naming the field, the value and the limit. */
export function resolveOpenLoadOptions(input: OpenLoadInput): OpenLoadOptions {
  const { rateRps, arrivals, seed, maxInflight, ...rest } = input;
  const { concurrency: _c, workers: _w, engine: _e, ...base } = resolveLoadOptions({ ...rest, concurrency: 1 });
  if (typeof rateRps !== 'number' || !Number.isFinite(rateRps) || rateRps <= 0 || rateRps > MAX_RATE_RPS) {
    throw new UsageError('rate (--rate)', rateRps, `expected requests per second above 0 and at most ${MAX_RATE_RPS}`);
  }
  const a = arrivals ?? OPEN_LOOP_DEFAULTS.arrivals;
  if (a !== 'uniform' && a !== 'poisson') throw new UsageError('arrivals (--arrivals)', a, 'expected uniform or poisson');
  const s = seed ?? randomInt(2 ** 32);
  if (!Number.isInteger(s) || s < 0 || s >= 2 ** 32)
    throw new UsageError('seed (--seed)', s, `expected a whole number from 0 to ${2 ** 32 - 1}`);
  const files = openFilesLimit();
  const maxFiles = Math.max(1, Math.min(100_000, files === undefined ? 100_000 : files - 64));
  const m = maxInflight ?? Math.min(OPEN_LOOP_DEFAULTS.maxInflight, maxFiles);
  if (!Number.isInteger(m) || m < 1 || m > maxFiles) {
    throw new UsageError(
      'max-inflight (--max-inflight)',
      m,
      `expected a whole number from 1 to ${maxFiles}`,
      files !== undefined && m > maxFiles ? `the open files limit is ${files}: raise it with \`ulimit -n 65536\`` : undefined,
    );
  }
  return { ...base, rateRps, arrivals: a, seed: s, maxInflight: m };
}

/** Gaps between scheduled starts, ms. */
export function arrivalGaps(arrivals: Arrivals, rateRps: number, seed: number): () => number {
  const meanMs = 1000 / rateRps;
  if (arrivals === 'uniform') return () => meanMs;
  const random = seededRandom(seed);
  return () => -Math.log(1 - random()) * meanMs;
}

/**
 * The schedule's first `rampRequests` gaps are stretched so that the rate climbs linearly from a tenth of the offered
 * rate to all of it: a fresh client process runs its first few thousand requests before its code is compiled, and
 * at 0.9 of its capacity the backlog it builds then (30 ms against nginx) takes ten times as long to clear. The
 * ramp is the trimmed head of the run (rampRequests = the trim at the start), so no kept request is in it.
 */
export function rampStretch(index: number, rampRequests: number): number {
  return index >= rampRequests ? 1 : 1 / (0.1 + (0.9 * index) / rampRequests);
}

export interface OpenLoopOptions extends Omit<LoopOptions, 'concurrency' | 'bailout'> {
  /** Requests of the ramp at the start (see rampStretch); 0 for none. */
  rampRequests: number;
  rateRps: number;
  arrivals: Arrivals;
  seed: number;
  maxInflight: number;
}

export interface OpenLoopOutcome {
  records: Records;
  /** Actual start minus scheduled start per record, ms (NaN for a request not sent). */
  lagMs: Float64Array;
  documentBytes: number | null;
  stoppedEarly?: 'aborted' | 'server-gone' | 'record-limit' | 'bailout';
  transport: TransportName;
  requestsScheduled: number;
  peakInflight: number;
}

const E_INFLIGHT = ERROR_CODE.inflight;

class OpenLoop extends Loop {
  /** Idle slots: those holding a kept-alive connection are used first. */
  private readonly idleWithConn: Slot[] = [];
  private readonly idle: Slot[] = [];
  lag = new Float64Array(1024);
  scheduled = 0;
  peakInflight = 0;
  private scheduleDone = false;
  private nextDueMs: number;
  private readonly gap: () => number;
  private timeout: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(readonly open: OpenLoopOptions) {
    super({ ...open, concurrency: open.maxInflight });
    // Refused connects in a row that mean the server is gone: many requests are in flight at once here.
    this.goneAfter = 100;
    this.gap = arrivalGaps(open.arrivals, open.rateRps, open.seed);
    this.nextDueMs = this.t0;
  }

  protected override startAll(): void {
    this.pump();
  }

  /** A synchronous transport's poll ends when the next request is due. */
  protected override wakeAtMs(): number {
    return this.scheduleDone ? Number.POSITIVE_INFINITY : this.nextDueMs;
  }

  /** Starts every request that is due, then sleeps until the next one is. */
  private readonly pump = (): void => {
    this.timeout = this.immediate = undefined;
    for (let n = 0; !this.stopping && n < BATCH; n++) {
      if ((this.open.requests !== undefined && this.scheduled >= this.open.requests) || this.nextDueMs >= this.endByMs) {
        this.scheduleDone = true;
        this.finish();
        return;
      }
      const now = performance.now();
      if (this.nextDueMs > now) break;
      this.launch(this.nextDueMs, now);
      this.scheduled++;
      this.nextDueMs += this.gap() * rampStretch(this.scheduled, this.open.rampRequests);
    }
    if (this.stopping) return;
    const waitMs = this.nextDueMs - performance.now();
    if (waitMs > SPIN_MS + 1 && this.inflight === 0) this.timeout = setTimeout(this.pump, waitMs - SPIN_MS);
    else this.immediate = setImmediate(this.pump);
  };

  private launch(dueMs: number, now: number): void {
    const r = this.records;
    if (this.inflight >= this.open.maxInflight) {
      // Never waited on: the request is recorded as not sent, an error of its own kind.
      const rec = r.open(dueMs, 0);
      if (rec < 0) {
        this.stop('record-limit');
        return;
      }
      r.end[rec] = dueMs;
      r.status[rec] = r.bytes[rec] = r.body[rec] = 0;
      r.error[rec] = E_INFLIGHT;
      this.setLag(rec, NaN);
      this.completed++;
      this.errors++;
      return;
    }
    let slot = this.idleWithConn.pop() ?? this.idle.pop();
    if (!slot) {
      slot = new Slot(this.slots.length, this);
      this.slots.push(slot);
    }
    const rec = r.open(dueMs, slot.id);
    if (rec < 0) {
      this.stop('record-limit');
      return;
    }
    this.setLag(rec, now - dueMs);
    this.begin(slot, rec, now);
    if (this.inflight > this.peakInflight) this.peakInflight = this.inflight;
  }

  private setLag(rec: number, ms: number): void {
    if (rec >= this.lag.length) {
      const grown = new Float64Array(Math.max(this.records.capacity, 2 * this.lag.length));
      grown.set(this.lag);
      this.lag = grown;
    }
    this.lag[rec] = ms;
  }

  /** A request ended: its slot goes idle (the closed loop would start the next request on it here). */
  override startNext(slot: Slot): void {
    (slot.conn ? this.idleWithConn : this.idle).push(slot);
    if (this.scheduleDone) this.finish();
  }

  protected override finish(): void {
    if (!this.stopping && !this.scheduleDone) return;
    if (this.inflight > 0) return;
    clearTimeout(this.timeout);
    clearImmediate(this.immediate);
    super.finish();
  }
}

/** Runs the open loop to the end of its schedule (count or time), or an abort, and returns its records. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopOutcome> {
  const loop = new OpenLoop(options);
  await loop.run();
  return {
    records: loop.records,
    lagMs: loop.lag,
    documentBytes: loop.documentBytes,
    stoppedEarly: loop.stoppedEarly,
    transport: loop.transport.name,
    requestsScheduled: loop.scheduled,
    peakInflight: loop.peakInflight,
  };
}

/**
 * hdr-histogram-js, loaded when an open loop runs: it costs every `eventbench load` process 60 ms to import, and
 * a run starts one such process per point.
 */
const loadHdr = async () => (await import('hdr-histogram-js')).default;
type Hdr = Awaited<ReturnType<typeof loadHdr>>;
const newHistogram = (hdr: Hdr) =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/** Percentiles "50".."99.9", "100" of a histogram of microseconds, in ms. */
function percentilesMs(h: Histogram): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of PERCENTILES) out[String(q)] = h.totalCount === 0 ? NaN : (q === 100 ? h.maxValue : h.getValueAtPercentile(q)) / 1000;
  return out;
}

const micros = (ms: number) => Math.max(1, Math.round(ms * 1000));

export function openVerdict(
  served: number,
  lagP99Ms: number,
  latencyP99Ms: number,
  notSent: number,
  maxInflight: number,
): LoadResult['verdict'] {
  const reasons: string[] = [];
  if (served === 0) reasons.push('no request was served: see the errors');
  const bound = lagBoundMs(latencyP99Ms);
  const clientBound = served > 0 && !(lagP99Ms <= bound);
  if (clientBound)
    reasons.push(
      `the client started requests late: lag p99 ${lagP99Ms.toFixed(3)} ms, over the bound of ${bound.toFixed(3)} ms (the larger of ${LAG_P99_BOUND_MS} ms and a tenth of the latency p99, ${latencyP99Ms.toFixed(3)} ms)`,
    );
  if (notSent > 0)
    reasons.push(
      `${notSent} request(s) were due while ${maxInflight} were in flight (--max-inflight) and were not sent: the server fell behind the schedule`,
    );
  return { clientBound, reasons };
}

/** `eventbench load --rate R`: the open loop, its result in the load schema with `loop: "open"` and `openLoop`. */
export async function runOpenLoad(input: OpenLoadInput): Promise<LoadResult> {
  const o = resolveOpenLoadOptions(input);
  const startedAt = new Date().toISOString();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const planned = Math.min(o.requests ?? Infinity, Math.ceil(o.rateRps * (o.durationS ?? Infinity)));
  const rampRequests = trimFor(planned, o.trim).k;
  const out = await runOpenLoop({
    rampRequests,
    ...(await wireOf(o)),
    rateRps: o.rateRps,
    arrivals: o.arrivals,
    seed: o.seed,
    maxInflight: o.maxInflight,
  });
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  if (o.rawFile) await writeRaw(o.rawFile, out.records);
  const f = trimmedFigures(out.records, o.trim);
  const hdr = await loadHdr();
  const k = keptOpenFigures(hdr, out, keptRequests(out.records, o.trim).kept);
  const share = wallS > 0 ? (cpu.user + cpu.system) / 1e6 / wallS : 0;
  const result = openResult(o, out, f, k, hdr, {
    rampRequests,
    startedAt,
    cpu: { userS: cpu.user / 1e6, systemS: cpu.system / 1e6, share },
  });
  k.latency.destroy();
  k.lag.destroy();
  return result;
}

/** Latency and lag over the kept requests, in HDR histograms of microseconds, and the rate at which they were sent. */
function keptOpenFigures(hdr: Hdr, out: OpenLoopOutcome, kept: number[]) {
  const r = out.records;
  const latency = newHistogram(hdr);
  const lag = newHistogram(hdr);
  let lagSum = 0,
    lagMax = 0,
    sent = 0,
    firstSent = Infinity,
    lastSent = -Infinity;
  for (const i of kept) {
    const l = out.lagMs[i]!;
    if (Number.isNaN(l)) continue;
    sent++;
    lagSum += l;
    lagMax = Math.max(lagMax, l);
    lag.recordValue(micros(Math.max(0, l)));
    firstSent = Math.min(firstSent, r.start[i]! + l);
    lastSent = Math.max(lastSent, r.start[i]! + l);
    if (r.status[i]! > 0) latency.recordValue(micros(r.end[i]! - r.start[i]!));
  }
  const lagMs = { mean: sent ? lagSum / sent : NaN, max: sent ? lagMax : NaN, percentiles: percentilesMs(lag) };
  const sentRps = sent > 1 && lastSent > firstSent ? (sent - 1) / ((lastSent - firstSent) / 1000) : 0;
  return { latency, lag, lagMs, sentRps };
}

/** The open loop's result in the load schema: the kept window's figures, with latency percentiles from the histogram. */
function openResult(
  o: OpenLoadOptions,
  out: OpenLoopOutcome,
  f: Figures,
  k: ReturnType<typeof keptOpenFigures>,
  hdr: Hdr,
  run: { rampRequests: number; startedAt: string; cpu: LoadResult['clientCpu'] },
): LoadResult {
  const { rampRequests, startedAt } = run;
  const r = out.records;
  const latencyPercentiles = percentilesMs(k.latency);
  const notSent = f.errors.inflight ?? 0;
  return {
    schema: LOAD_SCHEMA,
    engine: 'eventbench',
    transport: out.transport,
    url: o.url,
    mode: o.keepalive ? 'keepalive' : 'close',
    loop: 'open',
    concurrency: out.peakInflight,
    workers: 1,
    requestsStarted: r.length - notSent,
    ...resultFields(f),
    // Percentiles from the HDR histogram of latency from the scheduled start.
    latencyMs: { ...f.latencyMs, percentiles: latencyPercentiles },
    documentBytes: out.documentBytes,
    clientCpu: run.cpu,
    openLoop: {
      rateRps: o.rateRps,
      arrivals: o.arrivals,
      seed: o.seed,
      maxInflight: o.maxInflight,
      requestsScheduled: out.requestsScheduled,
      rampRequests,
      sentRps: k.sentRps,
      peakInflight: out.peakInflight,
      lagMs: k.lagMs,
      lagBoundMs: lagBoundMs(latencyPercentiles['99'] ?? NaN),
      latencyHistogram: hdr.encodeIntoCompressedBase64(k.latency),
    },
    verdict: openVerdict(f.requests, k.lagMs.percentiles['99'] ?? NaN, latencyPercentiles['99'] ?? NaN, notSent, o.maxInflight),
    ...(out.stoppedEarly ? { stoppedEarly: out.stoppedEarly } : {}),
    startedAt,
    environment: environment(),
  };
}
