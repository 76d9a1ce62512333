// The answer a reader opened the report for, in a few sentences made from the run's own ratios and intervals:
// whether events are fast here (are they among the fastest?), what the fastest of each concurrency model costs
// per request against the reference, what the run cannot tell apart, and what it could not rank. A ratio is said
// with its 95% interval, "tied" where the interval holds 1; two servers are told apart only where their intervals
// do not overlap (the ranking's tie groups, ties.ts). No interval is computed here: they are the ranking's.
import { overlaps } from '../core/intervals.js';
import { fixed, listText, ratioText } from '../core/format.js';
import { unthrottled, type ServerSummary } from '../analysis/summary.js';
import type { Plan } from '../results/schema.js';
import type { ConnectionKind } from '../servers/registry.js';
import { KIND_LABEL, kindOf } from './kinds.js';
import type { Ties } from './ranking.js';

/** What the answer reads of the report's model. */
export interface AnswerInput {
  servers: readonly ServerSummary[];
  ties: Ties;
  plan: Plan;
  ratioReference: { server: string | null };
}

const holdsOne = (s: ServerSummary) => s.ratio !== null && s.ratio.lo <= 1 && s.ratio.hi >= 1;

/** The servers of one model, fastest first, as "native-epoll, h2o and events-uv (events)". */
function byKind(servers: readonly ServerSummary[], kind: (s: ServerSummary) => ConnectionKind): string {
  const kinds = [...new Set(servers.map(kind))];
  return listText(kinds.map((k) => `${listText(servers.filter((s) => kind(s) === k).map((s) => s.server))} (${KIND_LABEL[k]})`));
}

/** The ratio of one server, or the range of a group's, to the reference. */
function costText(group: readonly ServerSummary[], reference: string): string {
  if (group.length === 1) {
    const s = group[0]!;
    return s.server === reference ? `the reference every ratio divides by` : `${ratioText(s.ratio)} ${reference}'s time per request`;
  }
  const values = group.map((s) => s.ratio!.value);
  return `${fixed(Math.min(...values), 2)}× to ${fixed(Math.max(...values), 2)}× ${reference}'s time per request`;
}

/** The first sentence: are event servers among the fastest here? */
function headline(ranked: readonly ServerSummary[], first: readonly ServerSummary[], m: AnswerInput): string {
  const kind = (s: ServerSummary) => kindOf(s.server, m.plan, s.paperStyle);
  const reference = m.ratioReference.server!;
  const lead =
    first.length > 1 ? `${byKind(first, kind)} are tied fastest (95% intervals overlapping)` : `${byKind(first, kind)} is the fastest`;
  const at = `, at ${costText(first, reference)}`;
  if (first.some((s) => kind(s) === 'event')) return `Yes, events are fast here: ${lead}${at}.`;
  const events = ranked.find((s) => kind(s) === 'event');
  if (!events) return `This run ranked no event server, so it cannot say whether events are fast: ${lead}${at}.`;
  const apart = !first.some((s) => overlaps(s.ratio!, events.ratio!));
  const eventsAt = `the fastest event server, ${events.server}, is at ${ratioText(events.ratio)}`;
  const whose = first.length > 1 ? 'theirs' : `${first[0]!.server}'s`;
  return apart
    ? `No, not the fastest here: ${lead}${at}; ${eventsAt}, its 95% interval apart from ${whose}.`
    : `Not told apart from the fastest: ${lead}${at}; ${eventsAt}, its 95% interval overlapping ${whose}.`;
}

/** The fastest server of each concurrency model, against the reference, models fastest first. */
function perModel(ranked: readonly ServerSummary[], m: AnswerInput): string {
  const reference = m.ratioReference.server!;
  const kinds = [...new Set(ranked.map((s) => kindOf(s.server, m.plan, s.paperStyle)))];
  const best = kinds.map((k) => ({ k, s: ranked.find((s) => kindOf(s.server, m.plan, s.paperStyle) === k)! }));
  const parts = best.map(({ k, s }) => {
    if (s.server === reference) return `${KIND_LABEL[k]} 1× (${s.server}, the reference)`;
    const tied = holdsOne(s) ? `, tied with ${reference}` : '';
    return `${KIND_LABEL[k]} ${ratioText(s.ratio)} (${s.server}${tied})`;
  });
  return `The fastest of each model costs, per request against ${reference}: ${parts.join('; ')}.`;
}

/** Past this many servers in tie groups, the answer names the groups by their rank, as the chart and the table show them. */
const NAMED_TIES = 8;

/** What the run cannot tell apart: its tie groups of more than one server. */
function undecided(m: AnswerInput): string | undefined {
  const tied = m.ties.groups.filter((g) => g.length > 1);
  if (tied.length === 0) return undefined;
  const chains = m.ties.chains.length > 0 ? `; ${m.ties.chains.length} pairs across groups overlap too` : '';
  const rankOf = (g: readonly string[]) => `${m.servers.find((s) => s.server === g[0])?.rank ?? '?'}=`;
  const groups =
    tied.flat().length <= NAMED_TIES
      ? tied.map((g) => g.join(' = ')).join('; ')
      : `the servers within each of the tie groups ranked ${listText(tied.map(rankOf))}`;
  return `Not told apart at this precision (95% intervals overlapping): ${groups}${chains}.`;
}

/** Why a server has no place in the ranking, in a few words. */
function unrankedWhy(s: ServerSummary): string {
  if (unthrottled(s)) return 'measured at a URL, compared with none';
  if (s.flags.some((f) => f.kind === 'stopped')) return 'stopped by the stop rules';
  return s.flags.find((f) => f.kind === 'fit')?.text ?? 'no ratio';
}

/** The answer, a sentence a line; the first answers the question. */
export function answer(m: AnswerInput): string[] {
  const ranked = m.servers.filter((s) => s.rank !== null && s.ratio !== null);
  const reference = m.ratioReference.server;
  if (ranked.length === 0 || reference === null) return ['This run ranks no server: no slope could be fitted, so it cannot answer yet.'];
  const first = ranked.filter((s) => s.group === ranked[0]!.group);
  const lines = [headline(ranked, first, m), perModel(ranked, m)];
  const open = undecided(m);
  if (open) lines.push(open);
  const unranked = m.servers.filter((s) => s.rank === null);
  if (unranked.length > 0) lines.push(`Not ranked: ${unranked.map((s) => `${s.server} (${unrankedWhy(s)})`).join(', ')}.`);
  if (m.plan.rounds < 2)
    lines.push('Each server ran in one round only: its interval covers one process, so ties cannot be told (run with --repeat 3).');
  return lines;
}
