// One closed-loop load over several agents (`eventbench load --agents`), split and merged exactly. The split: the
// load l, the request count and the trim are cut into whole shares that add up to exactly the totals, and each agent
// keeps its own share in flight. The merge: every agent's per-request records, mapped to the runner's clock with
// that agent's measured offset, become one start-ordered set, and every figure is read from that set over the span
// every agent covers: so percentiles are those of all requests together (never averaged), and l_m over that span is
// the sum of the agents' l_m over it. Pure: records in, result out.
import type { ClockOffset } from '../core/clock-offset.js';
import type { Environment } from '../core/environment.js';
import { UsageError } from '../core/errors.js';
import { verdict, withBacklog, withSteadiness } from './index.js';
import { Records, type RecordsData } from './records.js';
import { inFlight, keptFigures, keptRequests, resultFields } from './stats.js';
import { LOAD_SCHEMA, type AgentShare, type LoadResult } from './types.js';
import { shares } from './workers.js';

/** The agents' first requests may start this share of the kept window apart (clock bounds included) before a flag. */
export const START_SPREAD_SHARE = 0.05;

/** What one agent is asked to run. */
export interface Share {
  concurrency: number;
  requests?: number;
  trim: number;
}

/**
 * Cuts a load over `agents` agents: shares of l (and of -n and of --trim) that add up to exactly the totals. A load
 * smaller than the number of agents is refused: an agent with nothing in flight would measure nothing. `field` names
 * the flag that listed the agents.
 */
export function splitLoad(total: { concurrency: number; requests?: number; trim: number }, agents: number, field = '--agents'): Share[] {
  if (agents < 1) throw new UsageError(field, agents, 'expected at least one agent');
  if (total.concurrency < agents) {
    const limit = `the limit is the load (-c ${total.concurrency}): each agent keeps at least one request in flight`;
    throw new UsageError(field, `${agents} agents`, limit, 'raise -c or list fewer agents');
  }
  const c = shares(total.concurrency, agents);
  const n = total.requests === undefined ? undefined : shares(total.requests, agents);
  const trim = shares(total.trim, agents);
  return c.map((concurrency, k) => ({ concurrency, ...(n ? { requests: n[k]! } : {}), trim: trim[k]! }));
}

/** One agent's share as it came back: its own result and records (on its own clock), and how its clock relates to ours. */
export interface AgentPart {
  host: string;
  hostname: string;
  share: Share;
  /** Its own result over its share (its CPU, its verdict). */
  result: LoadResult;
  /** Its per-request records, times on its own clock. */
  records: RecordsData;
  clock: ClockOffset;
}

/** An agent's own kept window: first and last kept start, on the runner's clock (ms), and the trim it applied. */
function ownWindow(p: AgentPart): { fromMs: number; toMs: number; firstStartMs: number; trim: number; note?: string } {
  const { kept, trim } = keptRequests(p.records, p.share.trim);
  const at = (i: number | undefined) => (i === undefined ? NaN : p.records.start[i]! - p.clock.offsetMs);
  const firstStartMs = at(p.records.length ? 0 : undefined);
  return { fromMs: at(kept[0]), toMs: at(kept[kept.length - 1]), firstStartMs, trim: trim.k, note: trim.note };
}

export interface MergeOptions {
  url: string;
  /** The instant every agent was told to start, on the runner's clock (performance.now(), ms), and as wall time. */
  scheduledMs: number;
  scheduledAt: string;
  /** The runner's environment. */
  environment: Environment;
}

/** The merged result (same schema as one load's, plus `agents`) and the merged records, on the runner's clock. */
export function mergeAgentLoads(parts: AgentPart[], o: MergeOptions): { result: LoadResult; records: Records } {
  const concurrency = parts.reduce((s, p) => s + p.share.concurrency, 0);
  const slotBase = parts.map((_, k) => parts.slice(0, k).reduce((s, p) => s + p.share.concurrency, 0));
  const records = Records.merge(
    parts.map((p) => p.records),
    parts.map((p) => -p.clock.offsetMs),
    slotBase,
  );
  const windows = parts.map(ownWindow);
  const fromMs = Math.max(...windows.map((w) => w.fromMs));
  const toMs = Math.min(...windows.map((w) => w.toMs));
  const overlap = toMs > fromMs;
  const finished: number[] = [];
  const byAgent: number[][] = parts.map(() => []);
  for (let i = 0; i < records.length; i++) {
    if (Number.isNaN(records.end[i]!)) continue;
    finished.push(i);
    let k = parts.length - 1;
    while (k > 0 && records.slot[i]! < slotBase[k]!) k--;
    byAgent[k]!.push(i);
  }
  const kept = overlap ? finished.filter((i) => records.start[i]! >= fromMs && records.start[i]! <= toMs) : [];
  const trims = windows.map((w) => w.trim).join('/');
  const notes = [
    `kept: the span every agent covers, each agent having dropped its first and last ${trims} by its own start order`,
    ...windows.flatMap((w, k) => (w.note ? [`${parts[k]!.host}: ${w.note}`] : [])),
  ];
  const f = keptFigures(records, finished, kept, { k: windows.reduce((s, w) => s + w.trim, 0), note: notes.join('; ') }, concurrency);
  const agents = agentShares(parts, windows, records, byAgent, kept, overlap ? [fromMs, toMs] : undefined, o.scheduledMs);
  const spread = startSpread(agents, f.durationS * 1000);
  const sum = (g: (r: LoadResult) => number) => parts.reduce((s, p) => s + g(p.result), 0);
  const result: LoadResult = {
    schema: LOAD_SCHEMA,
    engine: 'eventbench',
    ...(parts[0]?.result.transport ? { transport: parts[0].result.transport } : {}),
    url: o.url,
    mode: parts[0]?.result.mode ?? 'close',
    concurrency,
    workers: sum((r) => r.workers),
    requestsStarted: sum((r) => r.requestsStarted),
    ...resultFields(f),
    documentBytes: parts.find((p) => p.result.documentBytes !== null)?.result.documentBytes ?? null,
    clientCpu: { userS: sum((r) => r.clientCpu.userS), systemS: sum((r) => r.clientCpu.systemS), share: sum((r) => r.clientCpu.share) },
    ...(f.steadiness ? { steadiness: f.steadiness } : {}),
    connectedLoad: f.connectedLoad,
    slowConnects: f.slowConnects,
    verdict: mergedVerdict(parts, f, concurrency, overlap, spread),
    ...(parts.find((p) => p.result.stoppedEarly) ? { stoppedEarly: parts.find((p) => p.result.stoppedEarly)!.result.stoppedEarly } : {}),
    startedAt: parts.map((p) => p.result.startedAt).sort()[0] ?? o.scheduledAt,
    environment: o.environment,
    agents: { scheduledAt: o.scheduledAt, startSpreadMs: spread.spreadMs, startSpreadLimitMs: spread.limitMs, parts: agents },
  };
  return { result, records };
}

/** Each agent's share, clock and own figures, for the result's `agents`; `span` is the span every agent covers, if any. */
function agentShares(
  parts: AgentPart[],
  windows: ReturnType<typeof ownWindow>[],
  records: Records,
  byAgent: number[][],
  kept: number[],
  span: [number, number] | undefined,
  scheduledMs: number,
): AgentShare[] {
  return parts.map((p, k) => {
    const w = windows[k]!;
    const mine = new Set(byAgent[k]);
    return {
      host: p.host,
      hostname: p.hostname,
      concurrency: p.share.concurrency,
      ...(p.share.requests !== undefined ? { requests: p.share.requests } : {}),
      workers: p.result.workers,
      trim: w.trim,
      clockOffsetMs: p.clock.offsetMs,
      clockBoundMs: p.clock.boundMs,
      startLagMs: w.firstStartMs - scheduledMs,
      keptFromMs: w.fromMs - scheduledMs,
      keptToMs: w.toMs - scheduledMs,
      measuredLoad: span ? inFlight(records, byAgent[k]!, span[0], span[1]).inFlightMs / (span[1] - span[0]) : 0,
      requestsKept: kept.filter((i) => mine.has(i) && records.status[i]! > 0).length,
      clientCpuShare: p.result.clientCpu.share,
      verdict: p.result.verdict,
      environment: p.result.environment,
    };
  });
}

/**
 * How far apart the agents' first requests may have started (each start widened by its clock bound), against 5% of
 * the kept window; when over, the reason names the agent furthest from the scheduled instant, bound included.
 */
export function startSpread(
  agents: Pick<AgentShare, 'host' | 'startLagMs' | 'clockBoundMs'>[],
  keptWindowMs: number,
): { spreadMs: number; limitMs: number; reason?: string } {
  const known = agents.filter((a) => Number.isFinite(a.startLagMs));
  const latest = Math.max(...known.map((a) => a.startLagMs + a.clockBoundMs));
  const spreadMs = known.length ? latest - Math.min(...known.map((a) => a.startLagMs - a.clockBoundMs)) : 0;
  const limitMs = START_SPREAD_SHARE * keptWindowMs;
  if (spreadMs <= limitMs) return { spreadMs, limitMs };
  const worst = known.reduce((a, b) => (Math.abs(b.startLagMs) + b.clockBoundMs > Math.abs(a.startLagMs) + a.clockBoundMs ? b : a));
  const when = `${Math.abs(worst.startLagMs).toFixed(1)} ms ${worst.startLagMs < 0 ? 'before' : 'after'} the scheduled instant`;
  return {
    spreadMs,
    limitMs,
    reason:
      `start spread: the agents' first requests may have started ${spreadMs.toFixed(1)} ms apart, ` +
      `over ${START_SPREAD_SHARE * 100}% of the kept window (${limitMs.toFixed(1)} ms); ${worst.host} started ${when} ` +
      `(clock bound ±${worst.clockBoundMs.toFixed(2)} ms): check that host's load and its link, or run a longer point`,
  };
}

/** Any client-bound agent makes the merged load client-bound (its reasons kept, named by host); then the merged set's own checks. */
function mergedVerdict(
  parts: AgentPart[],
  f: ReturnType<typeof keptFigures>,
  concurrency: number,
  overlap: boolean,
  spread: ReturnType<typeof startSpread>,
): LoadResult['verdict'] {
  const v = verdict(concurrency, f.requests, f.measuredLoad, 0, 1);
  for (const p of parts) {
    if (!p.result.verdict.clientBound) continue;
    const own = verdict(p.result.concurrency, p.result.requests, p.result.measuredLoad, p.result.clientCpu.share, p.result.workers);
    v.clientBound = true;
    v.reasons.push(`${p.host}: ${(own.reasons.length ? own.reasons : p.result.verdict.reasons).join('; ')}`);
  }
  if (!overlap) {
    v.clientBound = true;
    v.reasons.push(
      "the agents' kept windows do not overlap: no span every agent covers (each kept window is in agents.parts); " +
        'run longer points or check the start lags',
    );
  }
  const checked = withBacklog(withSteadiness(v, f.steadiness), f.slowConnects ?? 0, f.connectedLoad ?? 0, concurrency);
  return spread.reason ? { ...checked, startSpread: true, reasons: [...checked.reasons, spread.reason] } : checked;
}
