// The answer the report opens with (src/report/answer.ts): whether events are among the fastest, the fastest of
// each concurrency model against the reference with its interval, what is not told apart, what is not ranked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerSummary } from '../src/analysis/summary.js';
import { answer, type AnswerInput } from '../src/report/answer.js';
import { runInfo } from './helpers/results.js';

/** A ranked server: its ratio to the reference as [value, lo, hi], its tie group and rank. */
function ranked(server: string, [value, lo, hi]: [number, number, number], group: number, rank: number): ServerSummary {
  return {
    server,
    family: 'native',
    loads: [],
    notMeasured: [],
    latencyFit: { slope: 0.1 * value, intercept: 1, r: 0.999, n: 5 },
    impliedRps: null,
    slopeCi: null,
    ratio: { value, lo, hi },
    components: null,
    rank,
    group,
    tiedWith: [],
    requests: 1000,
    errors: 0,
    flags: [],
  };
}

function input(servers: ServerSummary[], groups: string[][], rounds = 3): AnswerInput {
  const info = runInfo(
    servers.map((s) => s.server),
    [10, 100, 1000],
  );
  return { servers, ties: { groups, chains: [] }, plan: { ...info.plan, rounds }, ratioReference: { server: 'lighttpd' } };
}

test('events among the fastest: "yes", the tied fastest by model, each model\'s fastest against the reference with its interval', () => {
  const servers = [
    ranked('native-epoll', [0.78, 0.55, 1.11], 1, 1),
    ranked('native-st', [0.8, 0.63, 0.98], 1, 1),
    ranked('lighttpd', [1, 1, 1], 2, 3),
    ranked('native-pthreads', [1.6, 1.4, 1.8], 3, 4),
    ranked('native-fork', [9.89, 7.72, 12.68], 4, 5),
  ];
  const lines = answer(input(servers, [['native-epoll', 'native-st'], ['lighttpd'], ['native-pthreads'], ['native-fork']]));
  assert.equal(
    lines[0],
    "Yes, events are fast here: native-epoll (events) and native-st (user threads, coroutines) are tied fastest (95% intervals overlapping), at 0.78× to 0.80× lighttpd's time per request.",
  );
  assert.equal(
    lines[1],
    'The fastest of each model costs, per request against lighttpd: events 0.78× [0.55–1.11] (native-epoll, tied with lighttpd); ' +
      'user threads, coroutines 0.80× [0.63–0.98] (native-st); kernel threads 1.60× [1.40–1.80] (native-pthreads); ' +
      'processes 9.89× [7.72–12.68] (native-fork).',
  );
  assert.equal(lines[2], 'Not told apart at this precision (95% intervals overlapping): native-epoll = native-st.');
  assert.equal(lines.length, 3);
});

test('events not among the fastest: "no" where the fastest event server\'s interval is apart, "not told apart" where it overlaps', () => {
  const apart = [ranked('native-st', [0.5, 0.45, 0.55], 1, 1), ranked('lighttpd', [1, 1, 1], 2, 2)];
  assert.equal(
    answer(input(apart, [['native-st'], ['lighttpd']]))[0],
    "No, not the fastest here: native-st (user threads, coroutines) is the fastest, at 0.50× [0.45–0.55] lighttpd's time per " +
      "request; the fastest event server, lighttpd, is at 1.00×, its 95% interval apart from native-st's.",
  );
  // Cut into two groups down the table, yet the event server's interval still overlaps the fastest one's (a chain).
  const chained = [ranked('native-st', [0.9, 0.8, 1.05], 1, 1), ranked('lighttpd', [1, 1, 1], 2, 2)];
  assert.match(answer(input(chained, [['native-st'], ['lighttpd']]))[0]!, /^Not told apart from the fastest: .*overlapping native-st's\.$/);
  const none = [ranked('native-st', [0.9, 0.8, 1.05], 1, 1), ranked('native-fork', [5, 4, 6], 2, 2)];
  assert.match(answer(input(none, [['native-st'], ['native-fork']]))[0]!, /^This run ranked no event server, so it cannot say/);
});

test("many tied servers are named by their groups' ranks; unranked servers say why; one round says ties cannot be told", () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
  const servers = names.map((n, i) => ranked(n, [1 + i / 100, 0.9, 1.2], i < 5 ? 1 : 2, i < 5 ? 1 : 6));
  const stopped = { ...ranked('threads', [1, 1, 1], 1, 1), ratio: null, rank: null, group: null };
  stopped.flags = [{ kind: 'stopped', text: 'stopped after l=100' }];
  const lines = answer(input([...servers, stopped], [names.slice(0, 5), names.slice(5)], 1));
  assert.ok(
    lines.includes(
      'Not told apart at this precision (95% intervals overlapping): the servers within each of the tie groups ranked 1= and 6=.',
    ),
  );
  assert.ok(lines.includes('Not ranked: threads (stopped by the stop rules).'));
  assert.match(lines.at(-1)!, /^Each server ran in one round only/);
  assert.deepEqual(answer(input([stopped], [])), ['This run ranks no server: no slope could be fitted, so it cannot answer yet.']);
});
