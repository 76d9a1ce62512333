// `eventbench run --open-loop`: after the closed-loop sweep, each server is measured again by the open loop
// (`eventbench load --rate`) at rates that are FRACTIONS OF ITS OWN CLOSED-LOOP CAPACITY measured in the same run
// (its highest throughput over the sweep). Servers of very different speed then share one x axis (0.1 .. 1.2 of
// what each can do), the curve of each bends where its queue starts to build, and a rate past capacity (1.1, 1.2)
// shows what overload does to latency when the client does not politely wait. As the closed loop does, it runs in
// rounds (servers in the same seeded order per round), each server started fresh per round, warmed to steady
// state (src/sweep/session.ts), then measured at each rate in ascending order; every point is appended to open-loop.jsonl in
// the run folder as it is measured.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { findModel, models as allModels, type ServerModel } from '../servers/registry.js';
import { UsageError } from '../core/errors.js';
import type { Point, RunInfo } from '../sweep/schema.js';
import { createThrottle } from '../host/throttle.js';
import { hasTaskset } from '../host/cpus.js';
import { stopReason } from '../sweep/runner.js';
import { roundOrder } from '../sweep/plan.js';
import {
  EVENTBENCH_BIN, SESSION_WARMUP_CONCURRENCY, failedPoint, measurePoint, startSession, trialServer, warmSession,
} from '../sweep/session.js';
import type { LoadArgs, TrialOptions, TrialServer } from '../sweep/session.js';

export const OPEN_POINT_SCHEMA = 'eventbench.open-point/1';
export const OPEN_POINTS_FILE = 'open-loop.jsonl';
/** Offered rates as fractions of each server's closed-loop capacity: light load, the knee's region, and past it. */
export const DEFAULT_RATE_FRACTIONS = [0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.2];
/**
 * Seconds of an open-loop point, at least: a fresh client process starts its schedule before its own code is warm,
 * and in a 0.5 s point that shows as lag p99 of 3 to 5 ms (10% of the requests late); over 2 s, with the first tenth
 * trimmed, lag p99 is 0.3 to 0.4 ms at 500 requests/s on this VM.
 */
export const OPEN_MIN_DURATION_S = 2;

/**
 * One open-loop point, one line of open-loop.jsonl: a closed-loop Point's fields (`repeat` is the round, `stopped`
 * says which rate a stop rule ended at, `result` is an open-loop LoadResult with `openLoop`, `flags` holds
 * client-bound when the client's lag p99 passed its bound; flagged points stay out of the knee), with the offered
 * rate in place of the load.
 */
export interface OpenPoint extends Omit<Point, 'schema' | 'load'> {
  schema: typeof OPEN_POINT_SCHEMA;
  /** The offered rate as a fraction of capacityRps. */
  rateFraction: number;
  /** The server's closed-loop capacity in this run: its highest throughput over the sweep, requests/s. */
  capacityRps: number;
  /** The offered rate, requests/s (rateFraction × capacityRps, rounded). */
  rateRps: number;
}

/** Checks the --rates list: fractions of capacity. */
export function checkRateFractions(fractions: number[]): number[] {
  for (const f of fractions) if (!(f >= 0.01 && f <= 10)) throw new UsageError('--rates', f, 'expected fractions of each server\'s closed-loop capacity from 0.01 to 10', 'e.g. --rates 0.1,0.5,0.9,1.2');
  return [...new Set(fractions)].sort((a, b) => a - b);
}

/** A server's closed-loop capacity: the highest throughput of its measured points, or undefined if none. */
export function capacityOf(points: readonly Point[], server: string): number | undefined {
  const rates = points.filter((p) => p.server === server && p.status === 'ok' && p.result && p.result.throughputRps > 0).map((p) => p.result!.throughputRps);
  return rates.length ? Math.max(...rates) : undefined;
}

export interface OpenLoopSweepOptions {
  dir: string;
  info: RunInfo;
  /** The closed-loop points of this run. */
  points: readonly Point[];
  fractions: number[];
  catalog?: readonly ServerModel[];
  /** The user's own servers of the run (--server, --servers-file), found beside the catalog. */
  userModels?: readonly ServerModel[];
  trial?: Pick<TrialOptions, 'serverArgv' | 'warmupRequests' | 'readyTimeoutMs'>;
  signal?: AbortSignal;
  /** One line per finished point, and warnings. */
  onLine?: (text: string) => void;
}

/** The open-loop argv of the client for one point. */
export function openLoadArgv(rateRps: number, durationS: number, requests: number | undefined) {
  return (url: string, a: LoadArgs): string[] => {
    const argv = [process.execPath, EVENTBENCH_BIN, 'load', url, '--rate', String(rateRps), '-t', String(durationS), '--json',
      '--timeout', String(a.timeoutS), '--trim', String(Math.round((rateRps * durationS) / 10))];
    if (requests !== undefined) argv.push('-n', String(requests));
    return argv;
  };
}

/** Measures every round × server × fraction; returns the points (also appended to open-loop.jsonl), and whether interrupted. */
export async function runOpenLoopSweep(o: OpenLoopSweepOptions): Promise<{ points: OpenPoint[]; interrupted: boolean }> {
  const { plan } = o.info;
  const catalog = [...(o.catalog ?? allModels), ...(o.userModels ?? [])];
  const line = o.onLine ?? (() => {});
  const throttle = createThrottle(plan.serverCpuShare);
  const pin = hasTaskset();
  const out: OpenPoint[] = [];
  const file = path.join(o.dir, OPEN_POINTS_FILE);
  const durationS = Math.max(plan.durationS ?? 0, OPEN_MIN_DURATION_S);
  let interrupted = false;
  // The highest fraction a server may still be measured at: where a stop rule retired it (later rounds repeat the
  // rates up to it, as the closed loop's rounds repeat its loads), or 0 after failures.
  const stopAt = new Map<string, number>();
  const failures = new Map<string, number>();
  const skipped = new Set<string>();
  const record = (point: OpenPoint) => {
    appendFileSync(file, JSON.stringify(point) + '\n');
    out.push(point);
  };
  try {
    rounds: for (let round = 1; round <= plan.repeat; round++) {
      for (const name of roundOrder(plan, round)) {
        const model = catalog.find((m) => m.name === name) ?? (o.catalog ? undefined : findModel(name));
        const capacityRps = capacityOf(o.points, name);
        if (!model || capacityRps === undefined) {
          if (o.points.some((p) => p.server === name) && !skipped.has(name)) line(`open loop: ${name} skipped: no closed-loop point measured its capacity`);
          skipped.add(name);
          continue;
        }
        const fractions = o.fractions.filter((f) => f <= (stopAt.get(name) ?? Infinity));
        if (fractions.length === 0) continue;
        if (o.signal?.aborted) { interrupted = true; break rounds; }
        const server: TrialServer = trialServer(model);
        const base = { ...o.trial, server, load: 1, repeat: round, plan, throttle, pin, durationS, onWarning: (t: string) => line(`warning: ${t}`), ...(o.signal ? { signal: o.signal } : {}) };
        const started = await startSession(base);
        if (started === 'aborted') { interrupted = true; break rounds; }
        const rateOf = (f: number) => Math.max(1, Math.round(f * capacityRps));
        if ('failed' in started) {
          const p = failedPoint(server, 1, round, started.failed);
          const fails = (failures.get(name) ?? 0) + 1;
          failures.set(name, fails);
          const point = toOpenPoint(p, fractions[0]!, capacityRps, rateOf(fractions[0]!));
          const why = stopReason({ ...p, load: point.rateRps }, plan, fails);
          if (why) { point.stopped = why; stopAt.set(name, 0); }
          record(point);
          line(`open loop: ${name} (round ${round}) FAILED to start: ${started.failed}`);
          continue;
        }
        try {
          const warm = o.trial?.warmupRequests === undefined ? await warmSession(started, plan, SESSION_WARMUP_CONCURRENCY, o.signal) : undefined;
          for (const rateFraction of fractions) {
            if (o.signal?.aborted) { interrupted = true; break rounds; }
            const rateRps = rateOf(rateFraction);
            const p = await measurePoint(started, { ...base, loadArgv: openLoadArgv(rateRps, durationS, plan.requests) });
            if (p === 'aborted') { interrupted = true; break rounds; }
            if (warm && rateFraction === fractions[0] && p.status === 'ok') p.warmup = { session: warm, ...p.warmup };
            const point = toOpenPoint(p, rateFraction, capacityRps, rateRps);
            const fails = p.status === 'failed' ? (failures.get(name) ?? 0) + 1 : 0;
            failures.set(name, fails);
            const why = stopReason({ ...p, load: rateRps }, plan, fails);
            if (why) {
              point.stopped = why.replace(/at load (\d+)/, 'at $1 requests/s');
              stopAt.set(name, p.status === 'failed' ? 0 : rateFraction);
            }
            record(point);
            const r = point.result;
            line(`open loop: ${name} @ ${rateRps} req/s (${rateFraction} × ${Math.round(capacityRps)}, round ${round}): ${r
              ? `p50 ${r.latencyMs.median.toFixed(2)} ms, p99 ${r.latencyMs.percentiles['99']?.toFixed(2)} ms, lag p99 ${r.openLoop?.lagMs.percentiles['99']?.toFixed(3)} ms, errors ${r.errors.total}`
              : `FAILED: ${point.reason}`}${point.stopped ? `; stopped: ${point.stopped}` : ''}`);
            // Retired, or the server is not running: the next round starts it afresh.
            if (why || p.status === 'failed') break;
          }
        } finally {
          await started.close();
        }
      }
    }
  } finally {
    throttle.remove();
  }
  return { points: out, interrupted };
}

/** A point of the trial code as a line of open-loop.jsonl; its flags are the open loop's own verdict. */
function toOpenPoint(p: Point, rateFraction: number, capacityRps: number, rateRps: number): OpenPoint {
  const { schema: _schema, load: _load, flags: _flags, ...rest } = p;
  const flags = p.result ? { flags: p.result.verdict.clientBound ? [{ kind: 'client-bound' as const, why: p.result.verdict.reasons.join('; ') }] : [] } : {};
  return { ...rest, schema: OPEN_POINT_SCHEMA, rateFraction, capacityRps, rateRps, ...flags };
}
