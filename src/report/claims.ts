// The paper's claims, each judged by this run's own numbers: latency linear in load (§2, §4), ST as fast as the
// fastest event servers, the toy servers' order, compiler-made events no dearer than hand-written ones, the
// production servers' order (§4), the untuned backlog capping the load (§2), events using less memory (§1, §5).
// Two servers are told apart only where their ratios to the run's one reference have 95% intervals that do not
// overlap, as the ranking's tie groups are cut (ties.ts); this file computes no interval of its own. A claim is
// confirmed or refuted where the intervals decide it, "not decided" where they overlap, and says so where its
// servers or its measurement were not in the run.
import { overlaps } from '../core/intervals.js';
import { bytesText, fixed, ratioText } from '../core/format.js';
import { unthrottled, type ServerSummary } from '../analysis/summary.js';
import type { Family, HostSetup, MemoryRun, Plan } from '../results/schema.js';
import { PAPER_ROWS } from '../servers/paper.js';
import { splitRuntime } from '../servers/runtime.js';
import { memoryClaim } from './memory-claim.js';
import { kindOf } from './kinds.js';

export const VERDICTS = ['confirmed', 'refuted', 'not decided', 'not in this run', 'not measured in this run'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** How a verdict reads in a table. */
export const VERDICT_TEXT: Readonly<Record<Verdict, string>> = {
  confirmed: 'confirmed',
  refuted: 'refuted',
  'not decided': 'not decided at this precision',
  'not in this run': 'not in this run',
  'not measured in this run': 'not measured in this run',
};

export interface Claim {
  id: 'linear' | 'st-events' | 'toy-order' | 'compiled-events' | 'production-order' | 'backlog' | 'memory';
  /** The paper's claim in a line, with the section that makes it. */
  claim: string;
  /** The paper's number for it. */
  paper: string;
  /** This run's number: ratios to the run's reference with their 95% intervals, where the claim is about speed. */
  now: string;
  verdict: Verdict;
  /** Why this verdict, in a sentence. */
  why: string;
}

/** What the claims read of the report's model. */
export interface ClaimInput {
  servers: readonly ServerSummary[];
  plan: Plan;
  host: HostSetup;
  memory?: MemoryRun;
}

/** Where a straight line ends: the report's own bar (the paper saw r above 0.999 on points of many thousand requests). */
export const LINEAR_R = 0.99;

/** A relation the paper states between two servers: faster, no slower, about as fast. */
type Relation = '<' | '≲' | '≈';
/** What this run found of a against b. */
type Order = 'faster' | 'slower' | 'tied' | 'unknown';
const ORDER_SIGN: Readonly<Record<Order, string>> = { faster: '<', slower: '>', tied: '≈', unknown: '?' };
const ORDER_WORD: Readonly<Record<Order, string>> = {
  faster: 'faster than',
  slower: 'slower than',
  tied: 'tied with',
  unknown: 'has no interval to tell it from',
};
/** What the intervals did, said after an order. */
const OVERLAP: Readonly<Record<Exclude<Order, 'unknown'>, string>> = {
  faster: 'the intervals do not overlap',
  slower: 'the intervals do not overlap',
  tied: 'the intervals overlap',
};
type Judged = 'confirmed' | 'refuted' | 'not decided';

/** a against b, by their ratios to the one reference: apart only where the 95% intervals do not overlap. */
function order(a: ServerSummary, b: ServerSummary): Order {
  if (!a.ratio || !b.ratio || !Number.isFinite(a.ratio.hi) || !Number.isFinite(b.ratio.hi)) return 'unknown';
  if (overlaps(a.ratio, b.ratio)) return 'tied';
  return a.ratio.value < b.ratio.value ? 'faster' : 'slower';
}

/** Whether what was found holds the relation the paper states. */
function judge(relation: Relation, found: Order): Judged {
  if (found === 'unknown') return 'not decided';
  if (relation === '≈') return found === 'tied' ? 'confirmed' : 'refuted';
  if (found === 'slower') return 'refuted';
  return relation === '≲' || found === 'faster' ? 'confirmed' : 'not decided';
}

/** The worst of several verdicts: a refuted step refutes the claim, an undecided one leaves it undecided. */
const worst = (vs: readonly Judged[]): Judged =>
  vs.includes('refuted') ? 'refuted' : vs.includes('not decided') ? 'not decided' : 'confirmed';

/** Families in the order a paper row's answer is taken from, the paper's own kind of server first. */
const FAMILIES: readonly Family[] = ['native', 'production', 'typescript', 'user'];

/** Ours answering a paper row, among `families`: one with a ratio first, then by family, then in plan order. */
function answerOf(input: ClaimInput, row: string, families = FAMILIES): ServerSummary | undefined {
  const at = (s: ServerSummary) => (input.plan.servers.includes(s.server) ? input.plan.servers.indexOf(s.server) : Infinity);
  return input.servers
    .filter((s) => s.paperRow?.toLowerCase() === row.toLowerCase() && families.includes(s.family) && !unthrottled(s))
    .sort((a, b) => Number(!a.ratio) - Number(!b.ratio) || families.indexOf(a.family) - families.indexOf(b.family) || at(a) - at(b))[0];
}

/** "Polipo (h2o)": a row and ours answering it, the server's name said where it is not the row's. */
const named = (row: string, s: ServerSummary) => (s.server.toLowerCase() === row.toLowerCase() ? row : `${row} (${s.server})`);

/** Why pairs got their verdicts: "a slower than b; c tied with d (the intervals do not overlap; the intervals overlap)". */
function pairsWhy(pairs: readonly { a: string; b: string; found: Order }[]): string {
  const said = pairs.map((p) => `${p.a} ${ORDER_WORD[p.found]} ${p.b}`).join('; ');
  const overlap = [...new Set(pairs.map((p) => p.found))]
    .filter((f) => f !== 'unknown')
    .map((f) => OVERLAP[f as Exclude<Order, 'unknown'>]);
  return `${said}${overlap.length > 0 ? ` (${[...new Set(overlap)].join('; ')})` : ''}`;
}

/** The relation a chain states between two of its rows with others between: strict if any step between is. */
const across = (relations: readonly Relation[]): Relation => (relations.includes('<') ? '<' : relations.includes('≲') ? '≲' : '≈');

/**
 * A chain of the paper's rows (the toy servers' order, the production servers'), judged step by step between the
 * rows this run has; a row it lacks is skipped, the relation across it the strictest of the steps it spans.
 */
function chain(input: ClaimInput, steps: readonly (readonly [string, Relation?])[], families: readonly Family[], kind: string) {
  const rows = steps.map(([row, relation], i) => ({ row, relation, i, s: answerOf(input, row, families) }));
  const here = rows.filter((r) => r.s !== undefined);
  const missing = rows.filter((r) => r.s === undefined).map((r) => r.row);
  const lacking = missing.length > 0 ? `; no ${kind} server answers ${missing.join(', ')} here` : '';
  if (here.length < 2) return { now: '—', verdict: 'not in this run' as const, why: `fewer than two of its rows ran${lacking}` };
  const pairs = here.slice(1).map((b, k) => {
    const a = here[k]!;
    const relation = across(rows.slice(a.i + 1, b.i + 1).map((r) => r.relation!));
    const found = order(a.s!, b.s!);
    return { a, b, relation, found, verdict: judge(relation, found) };
  });
  const at = (r: (typeof here)[number]) => `${r.row} ${ratioText(r.s!.ratio)}`;
  const now = `${at(here[0]!)}${pairs.map((p) => ` ${ORDER_SIGN[p.found]} ${at(p.b)}`).join('')}`;
  const verdict = worst(pairs.map((p) => p.verdict));
  const telling = pairs.filter((p) => p.verdict === verdict);
  const why =
    verdict === 'confirmed'
      ? `every step holds (${here.map((r) => r.s!.server).join(', ')})`
      : pairsWhy(telling.map((p) => ({ a: named(p.a.row, p.a.s!), b: named(p.b.row, p.b.s!), found: p.found })));
  return { now, verdict, why: why + lacking };
}

const paperSlope = (row: string): number => PAPER_ROWS.find((r) => r.row === row)!.slopeMs;
const paperChain = (steps: readonly (readonly [string, Relation?])[]) =>
  `${steps.map(([row, relation]) => `${relation ? `${relation} ` : ''}${row} ${fixed(paperSlope(row), 3)}`).join(' ')} ms/client`;

const TOY_ORDER = [['ST'], ['CPC', '<'], ['Pth', '<'], ['NPTL', '≈'], ['fork', '<']] as const;
const PRODUCTION_ORDER = [['lighttpd'], ['Polipo', '≲'], ['thttpd', '<'], ['Apache', '<']] as const;

function toyOrder(input: ClaimInput): Claim {
  return {
    id: 'toy-order',
    claim: 'Toy servers: ST < CPC < Pth ≈ NPTL < fork (§4)',
    paper: paperChain(TOY_ORDER),
    ...chain(input, TOY_ORDER, ['native'], 'native'),
  };
}

function productionOrder(input: ClaimInput): Claim {
  return {
    id: 'production-order',
    claim: 'Production: lighttpd ≲ Polipo < thttpd < Apache (§4)',
    paper: paperChain(PRODUCTION_ORDER),
    ...chain(input, PRODUCTION_ORDER, ['production'], 'production'),
  };
}

/** Mean serving time on a straight line in the offered load, for every server fitted on three loads or more. */
function linear(input: ClaimInput): Claim {
  const base = { id: 'linear' as const, claim: 'Latency is linear in the load (§2, §4)', paper: 'r > 0.999 for all but Apache' };
  const fitted = input.servers.filter((s) => s.latencyFit && s.latencyFit.slope > 0 && s.latencyFit.n >= 3 && !unthrottled(s));
  if (fitted.length === 0) return { ...base, now: '—', verdict: 'not decided', why: 'no server was fitted on three loads or more' };
  const r = (s: ServerSummary) => s.latencyFit!.r ?? 0;
  const lowest = fitted.reduce((a, s) => (r(s) < r(a) ? s : a));
  const tight = fitted.filter((s) => r(s) > 0.999).length;
  const bent = fitted.filter((s) => r(s) < LINEAR_R && s.paperRow !== 'Apache');
  const now = `r > 0.999 for ${tight} of ${fitted.length}; lowest ${fixed(r(lowest), 4)} (${lowest.server})`;
  if (bent.length > 0) {
    const which = bent.map((s) => `${s.server} (r ${fixed(r(s), 3)})`).join(', ');
    return { ...base, now, verdict: 'refuted', why: `not a straight line (r < ${LINEAR_R}): ${which}` };
  }
  const apache = fitted.some((s) => r(s) < LINEAR_R) ? ', but for Apache, as in the paper' : '';
  return { ...base, now, verdict: 'confirmed', why: `every fitted line has r ≥ ${LINEAR_R}${apache}` };
}

/** An event server: one whose model holds a connection in an event loop, or that answers an event row of the paper (CPC). */
const isEvents = (input: ClaimInput, s: ServerSummary) =>
  kindOf(s.server, input.plan, s.paperStyle) === 'event' || s.paperStyle === 'events';

/** ST no slower than the fastest event server (the paper found it faster; its conclusion reads "as fast as"). */
function stEvents(input: ClaimInput): Claim {
  const eventRows = PAPER_ROWS.filter((r) => r.style === 'events').sort((a, b) => a.slopeMs - b.slopeMs);
  const base = {
    id: 'st-events' as const,
    claim: 'ST as fast as the fastest event servers (§4, §5)',
    paper: `ST ${fixed(paperSlope('ST'), 3)}, ${eventRows[0]!.row} ${fixed(eventRows[0]!.slopeMs, 3)} ms/client`,
  };
  const st = answerOf(input, 'ST', ['native']) ?? answerOf(input, 'ST');
  const events = input.servers
    .filter((s) => s.ratio && isEvents(input, s) && !unthrottled(s))
    .sort((a, b) => a.ratio!.value - b.ratio!.value);
  const fastest = events[0];
  if (!st || !fastest) {
    const why = `${st ? 'no event server' : 'no server answering ST'} has a ratio in this run`;
    return { ...base, now: '—', verdict: 'not in this run', why };
  }
  // Refuted by any event server surely faster, not only the fastest by its estimate (its interval may be the widest).
  const against = events.find((e) => order(st, e) === 'slower') ?? fastest;
  const found = order(st, against);
  const now = `${st.server} ${ratioText(st.ratio)}; ${against.server} ${ratioText(against.ratio)}`;
  const faster = events.every((e) => order(st, e) === 'faster');
  const which = against === fastest ? 'the fastest event server here' : 'an event server surely faster';
  const why = faster
    ? `${st.server} is faster than every event server here`
    : pairsWhy([{ a: st.server, b: `${against.server}, ${which}`, found }]);
  return { ...base, now, verdict: judge('≲', found), why };
}

/** The hand-written event server that compiler-made events of each family run against: the same loop, the same runtime. */
const HAND_WRITTEN: Partial<Record<Family, string>> = { native: 'native-epoll', typescript: 'events' };

/** Events a compiler made (the servers answering CPC), each against its hand-written twin: no slower. */
function compiledEvents(input: ClaimInput): Claim {
  const handWritten = PAPER_ROWS.filter((r) => r.style === 'events' && r.row !== 'CPC').sort((a, b) => a.slopeMs - b.slopeMs)[0]!;
  const base = {
    id: 'compiled-events' as const,
    claim: 'Compiler-made events no dearer than hand-written (§4)',
    paper: `CPC ${fixed(paperSlope('CPC'), 3)}, ${handWritten.row} ${fixed(handWritten.slopeMs, 3)} ms/client`,
  };
  const pairs = input.servers
    .filter((s) => s.paperRow === 'CPC' && !unthrottled(s) && HAND_WRITTEN[s.family])
    .map((compiled) => {
      const { runtime } = splitRuntime(compiled.server);
      const twin = `${HAND_WRITTEN[compiled.family]}${runtime ? `@${runtime}` : ''}`;
      return { compiled, hand: input.servers.find((s) => s.server === twin) };
    })
    .filter((p): p is { compiled: ServerSummary; hand: ServerSummary } => p.hand !== undefined)
    .map((p) => ({ ...p, found: order(p.compiled, p.hand) }));
  if (pairs.length === 0) {
    const why = 'no compiler-made event server (native-coro, async, async-compiled) ran beside its hand-written twin';
    return { ...base, now: '—', verdict: 'not in this run', why };
  }
  const hands = [...new Set(pairs.map((p) => p.hand))];
  const now = hands
    .map(
      (h) =>
        `${h.server} ${ratioText(h.ratio)}: ${pairs
          .filter((p) => p.hand === h)
          .map((p) => `${p.compiled.server} ${ratioText(p.compiled.ratio)}`)
          .join(', ')}`,
    )
    .join('; ');
  const verdict = worst(pairs.map((p) => judge('≲', p.found)));
  const why = pairsWhy(pairs.map((p) => ({ a: p.compiled.server, b: p.hand.server, found: p.found })));
  return { ...base, now, verdict, why };
}

/** The accept queue a listening socket got: the backlog asked, silently cut to somaxconn. */
const acceptQueue = (input: ClaimInput) => Math.min(input.plan.backlog, input.host.somaxconn ?? input.plan.backlog);

/** The paper's Figure 1(a): with somaxconn at 128, the load held never passed about 130 whatever was offered. */
function backlog(input: ClaimInput): Claim {
  const queue = acceptQueue(input);
  const base = {
    id: 'backlog' as const,
    claim: 'The untuned backlog (128) caps the load near 128 (§2)',
    paper: 'l_m ≤ about 130 at any load',
  };
  const above = input.plan.loads.filter((l) => l > queue);
  if (above.length === 0) {
    const why = `the accept queue held ${queue}, more than any load offered (at most ${Math.max(...input.plan.loads)}); --backlog 128 tests it`;
    return { ...base, now: `accept queue ${queue}`, verdict: 'not measured in this run', why };
  }
  const points = input.servers.flatMap((s) => s.loads.filter((lp) => lp.load > queue).map((lp) => ({ s, lp })));
  const bound = points.filter((p) => p.lp.flags.includes('backlog-bound'));
  const servers = new Set(points.map((p) => p.s.server)).size;
  const held = bound.map((p) => p.lp.connectedLoad).filter((x): x is number => x !== null);
  const now =
    `accept queue ${queue}: ${new Set(bound.map((p) => p.s.server)).size} of ${servers} servers backlog-bound above it` +
    (held.length > 0 ? `, at most ${fixed(Math.max(...held), 0)} past the handshake` : '');
  if (bound.length > 0)
    return { ...base, now, verdict: 'confirmed', why: `points above l=${queue} waited for resent SYNs (backlog-bound)` };
  const unknown = points.some((p) => p.lp.connectedLoad === null);
  if (unknown) return { ...base, now, verdict: 'not decided', why: 'these results do not record the load past the handshake' };
  return {
    ...base,
    now,
    verdict: 'refuted',
    why: `no point above l=${queue} was backlog-bound: every server accepted as fast as clients came`,
  };
}

/** Events use less memory per connection than threads (the memory phase, memory.json). */
function memory(input: ClaimInput): Claim {
  const base = {
    id: 'memory' as const,
    claim: 'Events use less memory than threads (§1, §5)',
    paper: 'no figure: "much smaller memory requirements"',
  };
  if (!input.memory) {
    const why = 'no memory.json here: a run without --no-memory measures it, as does eventbench memory --out DIR';
    return { ...base, now: '—', verdict: 'not measured in this run', why };
  }
  const c = memoryClaim(input.memory);
  const now =
    c.eventsBytes !== undefined && c.threadsBytes !== undefined
      ? `${bytesText(c.eventsBytes)} against ${bytesText(c.threadsBytes)} per connection (medians)`
      : '—';
  const why = c.text.replace(/^The paper: [^.]*\. (Confirmed here|Refuted here|Not testable here): /, '');
  return { ...base, now, verdict: c.verdict === 'not testable here' ? 'not decided' : c.verdict, why };
}

/** Every claim of the paper, in the paper's order of argument, judged by this run. */
export function paperClaims(input: ClaimInput): Claim[] {
  return [linear, stEvents, toyOrder, compiledEvents, productionOrder, backlog, memory].map((claim) => claim(input));
}
