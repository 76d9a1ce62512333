import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { buildModel, readReportRun, reportText } from '../src/report/index.js';
import { markdownTable, pointRule, renderCsv, renderMarkdown, typescriptGap } from '../src/report/text.js';
import type { Plan } from '../src/results/schema.js';
import { paperTable, rankingTable } from '../src/report/tables.js';
import { exactRun } from './helpers/exact.js';
import { roundsRun, writeRun } from './helpers/results.js';

async function exactModel(t: { after(fn: () => Promise<void>): void }) {
  const { run, points } = exactRun();
  const dir = await writeRun(run, points);
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, model: buildModel(readReportRun(dir)) };
}

test('the ranking table in Markdown, exactly', async (t) => {
  const { model } = await exactModel(t);
  assert.equal(
    markdownTable(rankingTable(model)),
    [
      '| # | server | model | slope ms/client | implied req/s | ÷ lighttpd | r | fairness at l=400 | errors | flags |',
      '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      '| 1 | native-st | native · ST (user threads) | 0.200 | 5,000 | 0.80 | 1.0000 | 0.999 (l=300) | 0 | — |',
      '| 2 | lighttpd | production · lighttpd (events) | 0.250 | 4,000 | 1.00 | 1.0000 | 0.999 (l=300) | 0 | — |',
      '| 3 | threads | typescript · NPTL (kernel threads) | 0.500 | 2,000 | 2.00 | 1.0000 | 0.999 | 40 (0.05%) | client-bound |',
    ].join('\n'),
  );
});

test('today against the paper in Markdown, exactly', async (t) => {
  const { model } = await exactModel(t);
  assert.equal(
    markdownTable(paperTable(model)),
    [
      '| paper row | paper ms/client (600 MHz) | paper ÷ lighttpd | rank then | ours | ours ms/client | ours ÷ lighttpd [95%] | rank now |',
      '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
      '| ST | 0.158 | 0.65 | 1 | native-st | 0.200 | 0.80 | 1 |',
      '| CPC | 0.197 | 0.81 | 2 | — | — | — | — |',
      '| lighttpd | 0.242 | 1.00 | 3 | lighttpd | 0.250 | 1.00 | 2 |',
      '| Pth | 0.273 | 1.13 | 4 | — | — | — | — |',
      '| Polipo | 0.273 | 1.13 | 4 | — | — | — | — |',
      '| NPTL | 0.281 | 1.16 | 6 | threads | 0.500 | 2.00 | 3 |',
      '| thttpd | 0.323 | 1.33 | 7 | — | — | — | — |',
      '| Apache | 0.520 | 2.15 | 8 | — | — | — | — |',
      '| fork | 0.705 | 2.91 | 9 | — | — | — | — |',
    ].join('\n'),
  );
});

test('the CSV tables, exactly', async (t) => {
  const { model } = await exactModel(t);
  assert.equal(
    renderCsv(model, 'ranking'),
    [
      'rank,group,server,model,slope_ms_per_client,implied_rps,ratio,ratio_low,ratio_high,slope_low,slope_high,tied_with,r,jain_index,slowest_client_share,fairness_load,errors,flags',
      '1,1,native-st,native · ST (user threads),0.2,5000,0.8,0.8,0.8,0.2,0.2,,1,0.999,0.992,300,0,',
      '2,2,lighttpd,production · lighttpd (events),0.25,4000,1,1,1,0.25,0.25,,1,0.999,0.992,300,0,',
      '3,3,threads,typescript · NPTL (kernel threads),0.5,2000,2,2,2,0.5,0.5,,1,0.999,0.992,400,40,client-bound at l=400 (1 of 4 points; those left out of the fit): measured load 300.0 is below 95% of the offered 400',
      '',
    ].join('\n'),
  );
  const points = renderCsv(model, 'points').split('\n');
  assert.equal(
    points[0],
    'server,load,repeats,unflagged,measured_load,mean_latency_ms,p99_latency_ms,throughput_rps,jain_index,slowest_client_share,peak_rss_bytes,errors,listen_overflows,flags,in_fit',
  );
  assert.equal(points[1], 'native-st,100,1,1,99,21,37.8,4714,0.999,0.99,2024000,0,0,,true');
  assert.equal(points.at(-2), 'threads,400,1,0,300,150,270,2000,0.999,0.99,35720000,0,0,client-bound,false');
  assert.equal(renderCsv(model, 'paper').split('\n')[1], 'ST,0.158,0.65,1,native-st,0.2,0.8,1');
  const claims = renderCsv(model, 'claims').split('\n');
  assert.equal(claims[0], 'claim_id,claim,paper,this_run,verdict,why');
  assert.equal(
    claims[2],
    'st-events,"ST as fast as the fastest event servers (§4, §5)","ST 0.158, CPC 0.197 ms/client",native-st 0.80×; lighttpd 1.00×,confirmed,native-st is faster than every event server here',
  );
  // A field holding a comma or a quote is quoted, its quotes doubled (RFC 4180).
  model.servers[0]!.flags.push({ kind: 'failed', text: 'died, "badly"' });
  assert.equal(
    renderCsv(model, 'ranking').split('\n')[1],
    '1,1,native-st,native · ST (user threads),0.2,5000,0.8,0.8,0.8,0.2,0.2,,1,0.999,0.992,300,0,"died, ""badly"""',
  );
});

test('Markdown opens with the answer and the claims, then holds every section; JSON is the model; a bad format is refused', async (t) => {
  const { dir } = await exactModel(t);
  const md = await reportText(dir, { format: 'md' });
  const headings = [
    '# Are events fast? 3 servers on Test, 2025-01-02',
    "## The paper's claims, checked against this run",
    '## Ranking',
    '## Today against the paper',
    '## Environment',
    '## Warnings',
  ];
  const at = headings.map((h) => md.indexOf(h));
  assert.ok(
    at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!)),
    `headings in order: ${headings.map((h, k) => `${h} at ${at[k]}`).join(', ')}`,
  );
  const answer = md.slice(md.indexOf('\n\n', md.indexOf('\n\n') + 2), at[1]);
  assert.match(answer, /^\s*No, not the fastest here: native-st \(user threads, coroutines\) is the fastest, at 0\.80× lighttpd's time/);
  assert.match(answer, /kernel threads 2\.00× \(threads\)/);
  const claims = md
    .slice(at[1], at[2])
    .split('\n')
    .filter((l) => l.startsWith('| ') && !/^\| (claim|---) /.test(l));
  assert.equal(claims.length, 7, 'a row a claim of the paper');
  assert.match(
    claims[1]!,
    /^\| ST as fast as the fastest event servers .*\| native-st 0\.80×; lighttpd 1\.00× \| confirmed: native-st is faster/,
  );
  assert.match(claims[2]!, /\| not in this run: fewer than two of its rows ran; no native server answers CPC, Pth, NPTL, fork here \|$/);
  assert.match(claims[5]!, /\| not measured in this run: the accept queue held 4096, more than any load offered \(at most 400\)/);
  assert.match(md, /- Fastest: native-st \(user threads, the paper's ST\): 0\.200 ms per client, about 5,000 requests\/s/);
  assert.match(md, /- threads: client-bound at l=400/);
  const json = JSON.parse(await reportText(dir, { format: 'json' })) as {
    schema: string;
    answer: string[];
    claims: { id: string; verdict: string }[];
    servers: { server: string }[];
  };
  assert.equal(json.schema, 'eventbench.report/1');
  assert.match(json.answer[0]!, /^No, not the fastest here/);
  assert.deepEqual(
    json.claims.map((c) => `${c.id}: ${c.verdict}`),
    [
      'linear: confirmed',
      'st-events: confirmed',
      'toy-order: not in this run',
      'compiled-events: not in this run',
      'production-order: not in this run',
      'backlog: not measured in this run',
      'memory: not measured in this run',
    ],
  );
  assert.deepEqual(
    json.servers.map((s) => s.server),
    ['native-st', 'lighttpd', 'threads'],
  );
  await assert.rejects(reportText(dir, { format: 'xml' as never }), /format: got "xml", expected one of md, json, csv/);
});

test("the environment states the point rule from the plan's own numbers", () => {
  const base = { trim: 1000, requests: 30_000 } as Plan;
  assert.equal(
    pointRule({ ...base, durationS: 0.6 }),
    "0.6 s, lengthened to hold 8 waves of l requests at the server's rate at its previous load, up to 3 s, at most 30,000 requests; min(1,000, l) requests trimmed at each end by start order",
  );
  assert.equal(
    pointRule({ ...base, durationS: 0.3, requests: 5000 }),
    '0.3 s (a --quick point, not lengthened), at most 5,000 requests, min(1,000, l) requests trimmed at each end by start order',
  );
  assert.equal(
    pointRule({ ...base, durationS: undefined, requests: 20_000 }),
    '20,000 requests, min(1,000, l) requests trimmed at each end by start order',
  );
});

test("what events-epoll shows: TypeScript's gap to native-epoll split into the language and the runtime's I/O layers", () => {
  const factors = [1, 1.03, 0.98];
  const { stored } = roundsRun([
    { server: 'native-epoll', slopeMs: 0.1, factors },
    { server: 'events-epoll', slopeMs: 0.11, factors },
    { server: 'events-uv', slopeMs: 0.132, factors },
    { server: 'events', slopeMs: 0.22, factors },
  ]);
  const lines = typescriptGap(buildModel(stored));
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[0]!, /^The language: .* its slope is 1\.1\d \[1\.\d\d–1\.\d\d\]× native-epoll's/);
  assert.match(
    lines[1]!,
    /events-uv is 1\.2\d .*× events-epoll's slope.* of its 1\.3\d× native-epoll's, 1\.1\d× is the language and 1\.2\d× the layers/,
  );
  assert.match(lines[2]!, /events is 2\.0\d .*× events-epoll's slope, what libuv and net\.Socket's streams add/);
  const markdown = renderMarkdown(buildModel(stored));
  assert.ok(markdown.includes(`- ${lines[0]}`), 'under the paper table in the Markdown report');
  const without = roundsRun([
    { server: 'events-epoll', slopeMs: 0.11, factors },
    { server: 'events', slopeMs: 0.2, factors },
  ]);
  assert.deepEqual(typescriptGap(buildModel(without.stored)), [], 'nothing to say without native-epoll');
});
