// What a run of the paired design says of each server (run/4: Plan.cycles). Every sweep of a server (a visit: its
// loads, ascending, seconds long) gives one slope, the paper's measure; the reference is swept between the others,
// so each visit's slope is divided by the reference's slope at that instant, read off the reference sweeps just
// before and just after it (interpolated in time on the log scale). The machine's slow drift (another tenant, the
// clock's frequency) moves both alike and cancels in that ratio, where rounds minutes apart carried it whole.
//
// A visit's slope is charged for the work its server did afterwards, between its sweeps, for the requests it had
// served: a garbage collection or a compaction it deferred, a pool's housekeeping. The engine reads every live
// server's cgroup CPU time at each sweep's start and end (visits.jsonl); the CPU a server spent in the gap after a
// visit, less what it spends idle (its rate far from any visit of its own: at least FAR_MS after the last one ended),
// is added to the visit's own CPU, and the visit's slope is scaled by (own + deferred) / own.
//
// The ratios of one server, nested as cycles within processes (its rounds), give its ratio and interval
// (src/core/nested.ts: the process variance pooled over the servers of its family).
import { fitLine } from '../core/fit.js';
import type { Interval } from '../core/intervals.js';
import { familyPools, nestedEstimate, nestedInterval, type FamilyPools, type Nested, type NestedEstimate } from '../core/nested.js';
import type { Family, Plan, Point, VisitRecord } from '../results/schema.js';
import { CAVEAT_FLAGS, flagsOf } from '../results/verdict.js';

/** Idle after this long since its last sweep, a server has finished what its requests left it to do. */
export const FAR_MS = 20_000;

/** One sweep of one server: its slope, charged and as measured, and when it ran. */
export interface VisitSlope {
  server: string;
  family: Family;
  round: number;
  /** Its server's process: its round, and the session of the run that measured it ("1.1"; a resume starts another). */
  process: string;
  cycle: number;
  visit: number;
  /** Its middle, ms on the run's clock (visits.jsonl; its points' start times where it has no record). */
  atMs: number;
  /** The slope of its trusted points (ms per client), and that slope charged for deferred work. */
  measuredSlope: number;
  slope: number;
  /** The CPU the server spent in the sweep, and after it on work deferred (s); undefined without a count. */
  cpuS?: number;
  deferredS?: number;
}

/** A server's paired figures. */
export interface PairedServer {
  server: string;
  family: Family;
  /** Its slope (ms per client, charged) with its 95% interval: the machine's drift is in it. */
  slope: Interval | null;
  /** Its slope over the reference's, paired in time, with its 95% interval; for the reference itself, 1. */
  ratio: Interval | null;
  /** The estimate behind `ratio`: processes, cycles, its variance parts. */
  estimate: NestedEstimate | null;
  /** The processes of its ratio's estimate, in the order of `estimate.perProcess` ("2.1": round 2, session 1). */
  processes: string[];
  /** Deferred CPU over the CPU of its sweeps (0.08: 8% more work than its points saw); undefined without counts. */
  deferredShare?: number;
  /** Whether an idle rate far from its sweeps could be read (else the gaps were charged whole). */
  idleKnown: boolean;
}

const trusted = (p: Point, plan: Plan): boolean =>
  p.status === 'ok' && p.result !== undefined && p.result.requests > 0 && flagsOf(p, plan).every((f) => CAVEAT_FLAGS.includes(f.kind));

/**
 * A point's mean time in the system, ms: its measured load over its throughput (Little's law), the paper's t_r = l_m·t/n.
 * Where the server serves its clients alike it is their mean latency; where it starves some (native-epoll at l = 1000
 * under its quota: Jain's index 0.3 to 0.7 in some points), the mean latency of the requests a short window kept reads
 * low (27 ms against 85 ms) while this does not, since it counts every request's time inside the window.
 */
export const meanTimeMs = (p: Point): number => {
  const r = p.result!;
  return r.throughputRps > 0 && r.measuredLoad > 0 ? (1000 * r.measuredLoad) / r.throughputRps : r.latencyMs.mean;
};

/** The slope of one visit's trusted points: the relatively weighted line (fit.ts); null under two loads or not rising. */
function visitSlope(points: readonly Point[], plan: Plan): number | null {
  const ok = points.filter((p) => trusted(p, plan)).sort((a, b) => a.load - b.load);
  if (ok.length < 2) return null;
  const fit = fitLine(
    ok.map((p) => p.load),
    ok.map(meanTimeMs),
    { relative: true },
  );
  return fit && fit.slope > 0 ? fit.slope : null;
}

/** The process a point or a visit record belongs to: its round and its session. */
const processOf = (r: { round: number; session?: number }): string => `${r.round}.${r.session ?? 1}`;

/** A server's CPU seconds at each time it was read in one process's round, in time order. */
function timeline(records: readonly VisitRecord[], process: string, server: string): { t: number; cpu: number }[] {
  const out: { t: number; cpu: number }[] = [];
  for (const r of records) {
    if (processOf(r) !== process) continue;
    if (r.kind === 'visit') {
      if (r.cpuStartS[server] !== undefined) out.push({ t: r.startMs, cpu: r.cpuStartS[server]! });
      if (r.warmedMs !== undefined && r.cpuWarmedS?.[server] !== undefined) out.push({ t: r.warmedMs, cpu: r.cpuWarmedS[server]! });
      if (r.cpuEndS[server] !== undefined) out.push({ t: r.endMs, cpu: r.cpuEndS[server]! });
    } else if (r.cpuS[server] !== undefined) out.push({ t: r.atMs, cpu: r.cpuS[server]! });
  }
  return out.sort((a, b) => a.t - b.t);
}

/** A server's idle CPU rate in one round (CPU s per ms), from the stretches at least FAR_MS after its own sweeps. */
function idleRate(line: readonly { t: number; cpu: number }[], own: readonly { startMs: number; endMs: number }[]): number | undefined {
  let cpu = 0;
  let ms = 0;
  for (let i = 1; i < line.length; i++) {
    const [a, b] = [line[i - 1]!, line[i]!];
    const last = own.filter((v) => v.endMs <= a.t).at(-1);
    const inside = own.some((v) => v.startMs < b.t && v.endMs > a.t);
    if (!last || inside || a.t - last.endMs < FAR_MS || b.t <= a.t) continue;
    cpu += b.cpu - a.cpu;
    ms += b.t - a.t;
  }
  return ms > 0 ? Math.max(0, cpu) / ms : undefined;
}

/** The CPU of each of a server's visits in one process's round, and the deferred CPU after each, by visit number. */
function chargesOf(records: readonly VisitRecord[], process: string, server: string) {
  const own = records.filter(
    (r): r is Extract<VisitRecord, { kind: 'visit' }> => r.kind === 'visit' && processOf(r) === process && r.server === server,
  );
  own.sort((a, b) => a.startMs - b.startMs);
  const line = timeline(records, process, server);
  const idle = idleRate(line, own);
  const end = records.find((r) => r.kind === 'round-end' && processOf(r) === process);
  const charges = new Map<number, { cpuS: number; deferredS: number }>();
  own.forEach((v, i) => {
    const next = own[i + 1];
    const cpuEnd = v.cpuEndS[server];
    // A visit's points start after its warm-up: that warm-up's CPU is neither the points' cost nor deferred work.
    const cpuStart = v.cpuWarmedS?.[server] ?? v.cpuStartS[server];
    const gapEnd = next
      ? { t: next.startMs, cpu: next.cpuStartS[server] }
      : end?.kind === 'round-end'
        ? { t: end.atMs, cpu: end.cpuS[server] }
        : undefined;
    if (cpuEnd === undefined || cpuStart === undefined || gapEnd?.cpu === undefined) return;
    const gap = gapEnd.cpu - cpuEnd - (idle ?? 0) * (gapEnd.t - v.endMs);
    charges.set(v.visit, { cpuS: cpuEnd - cpuStart, deferredS: Math.max(0, gap) });
  });
  return { charges, idleKnown: idle !== undefined };
}

/** Every visit's slope, measured and charged, in the order the visits ran. */
export function visitSlopes(
  points: readonly Point[],
  visits: readonly VisitRecord[],
  plan: Plan,
): { slopes: VisitSlope[]; idleKnown: Set<string> } {
  const byVisit = new Map<number, Point[]>();
  for (const p of points) if (p.visit !== undefined) byVisit.set(p.visit, [...(byVisit.get(p.visit) ?? []), p]);
  const recorded = new Map(visits.flatMap((v) => (v.kind === 'visit' ? [[v.visit, v] as const] : [])));
  const charges = new Map<string, ReturnType<typeof chargesOf>>();
  const idleKnown = new Set<string>();
  const slopes: VisitSlope[] = [];
  for (const [visit, ps] of [...byVisit].sort((a, b) => a[0] - b[0])) {
    const first = ps[0]!;
    const measured = visitSlope(ps, plan);
    if (measured === null || first.cycle === undefined) continue;
    const process = processOf(first);
    const key = `${process}\u0000${first.server}`;
    if (!charges.has(key)) charges.set(key, chargesOf(visits, process, first.server));
    const c = charges.get(key)!;
    if (c.idleKnown) idleKnown.add(first.server);
    const charge = c.charges.get(visit);
    const rec = recorded.get(visit);
    const atMs = rec ? ((rec.warmedMs ?? rec.startMs) + rec.endMs) / 2 : mean(ps.map((p) => Date.parse(p.startedAt)));
    const factor = charge && charge.cpuS > 0 ? 1 + charge.deferredS / charge.cpuS : 1;
    slopes.push({
      server: first.server,
      family: first.family,
      round: first.round,
      process,
      cycle: first.cycle,
      visit,
      atMs,
      measuredSlope: measured,
      slope: measured * factor,
      ...(charge ? { cpuS: charge.cpuS, deferredS: charge.deferredS } : {}),
    });
  }
  return { slopes, idleKnown };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The reference's log slope at `atMs`, from its visits of the same process's round just before and just after
 * (linear in time between them; the nearer one alone at either end); undefined when there is none.
 */
function referenceAt(refs: readonly VisitSlope[], process: string, atMs: number): number | undefined {
  const same = refs.filter((r) => r.process === process);
  const before = same.filter((r) => r.atMs <= atMs).at(-1);
  const after = same.find((r) => r.atMs > atMs);
  if (before && after) {
    const w = (atMs - before.atMs) / (after.atMs - before.atMs);
    return (1 - w) * Math.log(before.slope) + w * Math.log(after.slope);
  }
  const one = before ?? after;
  return one ? Math.log(one.slope) : undefined;
}

/** A server's values nested by process: one array per process, one value per visit, in order. */
function nest(values: readonly { process: string; value: number }[]): Nested {
  return processesOf(values).map((p) => values.filter((v) => v.process === p).map((v) => v.value));
}

/** The processes of nested values, in the order nest() gives their groups. */
const processesOf = (values: readonly { process: string }[]): string[] => [...new Set(values.map((v) => v.process))];

/** Each server's log ratios to the reference, paired in time, nested by round; and its log slopes likewise. */
function nestedByServer(slopes: readonly VisitSlope[], reference: string) {
  const refs = slopes.filter((s) => s.server === reference);
  const out = new Map<string, { family: Family; ratios: Nested; slopes: Nested; processes: string[] }>();
  for (const server of [...new Set(slopes.map((s) => s.server))]) {
    const own = slopes.filter((s) => s.server === server);
    const ratios = own.flatMap((s) => {
      const ref = referenceAt(refs, s.process, s.atMs);
      return ref === undefined ? [] : [{ process: s.process, value: Math.log(s.slope) - ref }];
    });
    const logs = own.map((s) => ({ process: s.process, value: Math.log(s.slope) }));
    const paired = server === reference ? [] : ratios;
    out.set(server, { family: own[0]!.family, ratios: nest(paired), slopes: nest(logs), processes: processesOf(paired) });
  }
  return out;
}

/** The pools of `server`'s family for `pick`'s values, from its other servers (the reference's ratios are none). */
function poolsOf(nested: ReturnType<typeof nestedByServer>, server: string, pick: 'ratios' | 'slopes'): FamilyPools {
  const family = nested.get(server)!.family;
  const others = [...nested].filter(([name, n]) => n.family === family && name !== server).map(([, n]) => n[pick]);
  return familyPools(others);
}

/** Every server's paired figures from one run's points and visits; the reference's ratio is exactly 1. */
export function pairedServers(points: readonly Point[], visits: readonly VisitRecord[], plan: Plan, reference: string): PairedServer[] {
  const { slopes, idleKnown } = visitSlopes(points, visits, plan);
  const nested = nestedByServer(slopes, reference);
  return [...nested].map(([server, n]) => {
    const own = slopes.filter((s) => s.server === server);
    const cpu = own.reduce((a, s) => a + (s.cpuS ?? 0), 0);
    const deferred = own.reduce((a, s) => a + (s.deferredS ?? 0), 0);
    const slopeEst = nestedEstimate(n.slopes, poolsOf(nested, server, 'slopes'));
    const estimate = server === reference ? null : nestedEstimate(n.ratios, poolsOf(nested, server, 'ratios'));
    const ratio = server === reference ? { value: 1, lo: 1, hi: 1 } : estimate ? nestedInterval(estimate) : null;
    return {
      server,
      family: n.family,
      slope: slopeEst ? nestedInterval(slopeEst) : null,
      ratio,
      estimate,
      processes: n.processes,
      ...(own.some((s) => s.cpuS !== undefined) && cpu > 0 ? { deferredShare: deferred / cpu } : {}),
      idleKnown: idleKnown.has(server),
    };
  });
}
