// The HTML report: one self-contained page (styles and SVG figures inline, nothing fetched), readable on a laptop
// and on a phone. Pure: model and rendered figures in, a string out.
import type { ReportModel } from './model.js';
import type { Figure } from './figures/index.js';
import { claimsTable, openLoopTable, paperTable, pointsTable, rankingTable } from './tables.js';
import { escapeHtml, htmlTable, list, page } from './html-page.js';
import { environmentRows, glance, reportTitle, runLine, typescriptGap } from './text.js';
import { rankingChartHtml, CHART_STYLE } from './ranking-chart.js';
import { VERDICT_TEXT, type Verdict } from './claims.js';
import { comparisonCells, runtimeComparison } from './runtimes.js';
import { POINT_FLAGS } from '../results/verdict.js';
import { memoryMethod, memoryTableHtml } from './memory.js';
import { memoryClaim } from './memory-claim.js';

export interface RenderedFigure {
  figure: Figure;
  /** Drawn for a laptop's column (also the .svg file), and for a phone held upright. */
  svg: string;
  narrowSvg: string;
}

function figureHtml(f: RenderedFigure): string {
  // Strip the XML prolog if any: the SVG sits inline in the HTML. CSS shows one of the two drawings.
  const inline = (svg: string) => svg.replace(/^<\?xml[^>]*>\s*/, '');
  return `<figure id="${f.figure.name}" data-figure="${f.figure.name}">\n<div class="wide">${inline(f.svg)}</div>\n<div class="narrow"><h3>${escapeHtml(f.figure.title)}</h3>${inline(f.narrowSvg)}</div>\n<figcaption>${escapeHtml(f.figure.caption)}</figcaption>\n</figure>`;
}

/** What each kind of point flag seen in this run means (src/results/verdict.ts), one line each. */
function flagsExplained(model: ReportModel): string {
  const seen = new Set(model.servers.flatMap((s) => s.flags.map((f) => f.kind)));
  const lines = POINT_FLAGS.filter((f) => seen.has(f.kind)).map((f) => `${f.label} (${f.kind}): ${f.caption}.`);
  if (lines.length === 0) return '';
  return `<p>What the flags mean (a flagged point is shown, and left out of every fit):</p>${list(lines, 'flags note')}`;
}

/** The figures whose names start with a prefix, as HTML: a section places its figures by prefix. */
type Figures = (prefix: string) => string;

export function renderHtml(model: ReportModel, rendered: readonly RenderedFigure[]): string {
  const fig: Figures = (prefix) =>
    rendered
      .filter((f) => f.figure.name.startsWith(prefix))
      .map(figureHtml)
      .join('\n');
  const title = reportTitle(model);
  // The page reads top to bottom: the answer, the ranking as a chart, the paper's claims, the ranking table, the
  // figures (the paper's, then beyond it), then the record; long notes sit folded in <details>.
  const sections = [
    headHtml(model, title),
    chartHtml(model),
    claimsHtml(model),
    rankingHtml(model),
    figuresHtml(fig),
    openLoopHtml(model, fig),
    paperHtml(model, fig),
    memoryHtml(model, fig('fig-memory')),
    recordHtml(model),
  ];
  return page(title, sections.flat(), CHART_STYLE + CLAIMS_STYLE);
}

/** Title, what was run on what, whether the run is over, and the answer. */
function headHtml(model: ReportModel, title: string): string[] {
  const parts: string[] = [`<h1>${escapeHtml(title)}</h1>`, `<p class="sub">${escapeHtml(runLine(model))}</p>`];
  if (model.run.state !== 'finished')
    parts.push(`<p class="banner">${escapeHtml(`This run is ${model.run.state}: the report shows the points measured so far.`)}</p>`);
  const [first, ...rest] = model.answer;
  parts.push(
    `<div class="answer" data-answer>\n<p class="lead">${escapeHtml(first ?? '')}</p>\n<p>${escapeHtml(rest.join(' '))}</p>\n</div>`,
  );
  return parts;
}

/** The ranking as a chart, right under the answer. */
function chartHtml(model: ReportModel): string[] {
  const chart = rankingChartHtml(model);
  return chart
    ? [`<h2>The ranking: time per request against ${escapeHtml(model.ratioReference.server ?? 'the reference')}</h2>`, chart]
    : [];
}

const VERDICT_CLASS: Readonly<Record<Verdict, string>> = {
  confirmed: 'v-yes',
  refuted: 'v-no',
  'not decided': 'v-open',
  'not in this run': 'v-none',
  'not measured in this run': 'v-none',
};

/** The paper's claims: a row a claim, its verdict in colour and the reason beside it; a card a claim on a phone. */
function claimsHtml(model: ReportModel): string[] {
  const t = claimsTable(model);
  const [, paper] = t.columns;
  // On a phone each cell is labelled; the table's heading says the rest.
  const now = `this run${model.ratioReference.server ? ` (÷ ${model.ratioReference.server})` : ''}`;
  const rows = model.claims.map((c) => {
    const cell = (label: string, text: string, cls: string) =>
      `<td class="${cls}" data-label="${escapeHtml(label)}">${escapeHtml(text)}</td>`;
    const verdict = `<td class="verdict"><strong class="${VERDICT_CLASS[c.verdict]}">${escapeHtml(VERDICT_TEXT[c.verdict])}</strong>: <span class="why">${escapeHtml(c.why)}</span></td>`;
    return `<tr data-claim="${c.id}" data-verdict="${c.verdict}"><th scope="row">${escapeHtml(c.claim)}</th>${cell(paper!, c.paper, 'paper')}${cell(now, c.now, 'now')}${verdict}</tr>`;
  });
  const head = t.columns.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  return [
    `<h2>${escapeHtml(t.title)}</h2>`,
    `<div class="scroll"><table class="claims" data-table="claims">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table></div>`,
  ];
}

/** The ranking table, a heavier rule between tie groups; every server's flags, what they mean, and the ranking in words, folded. */
function rankingHtml(model: ReportModel): string[] {
  const ranking = rankingTable(model);
  const groupStarts = (n: number) => n > 0 && model.servers[n]!.group !== null && model.servers[n]!.group !== model.servers[n - 1]!.group;
  const flags = model.servers.flatMap((s) => s.flags.map((f) => `${s.server}: ${f.text}`));
  const flagged = model.servers.filter((s) => s.flags.length > 0).length;
  return [
    `<h2>${escapeHtml(ranking.title)}</h2>`,
    `<p>${escapeHtml(`${model.ratioReference.why} ${RANKING_CONVENTION}`)}</p>`,
    htmlTable(ranking, { key: ['#', 'server'], wrap: ['model'], flags: 'flags', groupStarts }),
    `<details class="notes"><summary>${escapeHtml(`The ranking in words, and its flags (${flagged} of ${model.servers.length} servers flagged)`)}</summary>`,
    list(glance(model), 'glance'),
    flags.length > 0 ? list(flags, 'flags note') : '',
    flagsExplained(model),
    '</details>',
  ];
}

/** The open-loop experiment's figure and table, when the run has one. */
function openLoopHtml(model: ReportModel, fig: Figures): string[] {
  const openTable = openLoopTable(model);
  if (!openTable) return [];
  return [
    '<h2>Open loop: latency against offered rate</h2>',
    fig('fig6'),
    `<h3>${escapeHtml(openTable.title)}</h3>`,
    htmlTable(openTable, { key: ['server'], flags: 'points left out' }),
  ];
}

/** The paper's Figure 2 across the column, then the other figures two abreast on a laptop (one on a phone). */
function figuresHtml(fig: Figures): string[] {
  const grid = ['fig1', 'fig3', 'fig4', 'fig5', 'fig7', 'fig8'].map(fig).join('\n');
  const distributions = fig('fig7') + fig('fig8');
  return [
    "<h2>The paper's figures, today, and beyond them</h2>",
    fig('fig2'),
    `<div class="figs">\n${grid}\n</div>`,
    distributions
      ? ''
      : '<p class="note">These results hold no per-client counts or latency distributions (they were measured before ' +
        'eventbench.load/3, or with --engine ab): a new run shows them here.</p>',
  ];
}

/** The runtimes compared (the figure; its table folded), and the paper's table beside today's, folded. */
function paperHtml(model: ReportModel, fig: Figures): string[] {
  const paper = paperTable(model);
  const paperWhy =
    `${model.reference.why} Slopes on machines of different speed are compared through their ratio to the reference; ` +
    'ranks are by slope, 1 = fastest.';
  return [
    ...runtimesHtml(model, fig('fig-runtimes')),
    `<h2>${escapeHtml(paper.title)}</h2>`,
    `<details><summary>${escapeHtml("The paper's slope of each row beside ours answering it (the claims above read this table)")}</summary>`,
    `<p>${escapeHtml(paperWhy)}</p>`,
    htmlTable(paper, { key: ['paper row'] }),
    ...typescriptGap(model).map((l) => `<p>${escapeHtml(l)}</p>`),
    '</details>',
  ];
}

/** The record: every point, the environment, what was skipped, the runner's warnings and the report's notes. */
function recordHtml(model: ReportModel): string[] {
  const points = htmlTable(pointsTable(model), { key: ['server'], flags: 'flags' });
  const parts = [
    '<h2>The record</h2>',
    '<details><summary>Every point (repeats averaged)</summary>',
    points,
    '</details>',
    '<details><summary>Environment and method: the machine, the plan, how each point was measured</summary>',
    `<dl class="env">${environmentRows(model)
      .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
      .join('')}</dl>`,
    '</details>',
  ];
  if (model.skipped.length > 0) parts.push('<h2>Skipped servers</h2>', list(model.skipped.map((s) => `${s.server}: ${s.reason}`)));
  parts.push(
    '<h2>Warnings</h2>',
    model.warnings.length > 0 ? list(model.warnings, 'warnings') : '<p class="note">The runner recorded no warning.</p>',
  );
  if (model.notes.length > 0) parts.push('<h2>Notes on this report</h2>', list(model.notes));
  return parts;
}

/** The claims table: its cells wrap at a laptop's width; on a phone each claim is a card, its cells labelled. */
const CLAIMS_STYLE = `
table.claims { font-size: 0.85rem; }
table.claims th[scope="row"] { font-weight: 600; width: 21%; background: #fff; vertical-align: top; }
table.claims td, table.claims th[scope="row"] { white-space: normal; }
table.claims td.paper { width: 18%; }
table.claims td.now { width: 28%; }
table.claims .why { color: var(--muted); }
.v-yes { color: #1d6b2f; } .v-no { color: #a4343a; } .v-open { color: #8a5a00; } .v-none { color: var(--muted); }
.answer p { margin: 0.4rem 0; } .answer p.lead { font-weight: 600; }
@media (max-width: 40rem) {
  table.claims, table.claims tbody, table.claims tr, table.claims td, table.claims th[scope="row"] { display: block; min-width: 0; }
  table.claims td.paper, table.claims td.now, table.claims td.verdict, table.claims th[scope="row"] { width: auto; }
  table.claims thead { display: none; }
  table.claims tr { border-bottom: 1px solid var(--rule); padding: 0.4rem 0; }
  table.claims td, table.claims th[scope="row"] { border: 0; padding: 0.1rem 0; }
  table.claims td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
`;

/** How the ranking's ranks and ties read (docs/report.md says the same). */
export const RANKING_CONVENTION =
  "Down the table, servers are cut into the fewest groups in which every pair's 95% intervals overlap (a " +
  'heavier rule between groups); a group shares one rank (=), one more than the servers above it (1=, 1=, 3, 4=), so ranks never ' +
  'decrease down the table.';

/** The memory experiment's section: its table, claim and figure from memory.json, or how to measure it. */
function memoryHtml(model: ReportModel, figure: string): string {
  const head = '<h2 id="memory">Memory per connection</h2>';
  const run = model.memory;
  if (!run) {
    return (
      `${head}\n<p class="note">This run folder holds no memory.json. Memory per connection comes from the idle-connection ` +
      'experiment only (a closed loop holds too few connections at once to price one): <code>eventbench run</code> measures it as a ' +
      'phase of its own unless given <code>--no-memory</code>, and <code>eventbench memory --out DIR</code> measures it into the run ' +
      'folder DIR; <code>eventbench report DIR</code> then shows it here.</p>'
    );
  }
  const table = memoryTableHtml(run);
  const claim = `<p><strong>${escapeHtml(memoryClaim(run).text)}</strong></p>`;
  const folded = `<details><summary>${escapeHtml(`Every server's cost per connection, r, kernel memory, where it stopped (${run.servers.length} servers)`)}</summary>\n<p>${escapeHtml(memoryMethod(run))}</p>\n${table}\n</details>`;
  return `${head}\n${claim}\n${figure}\n${folded}`;
}

/** The runtime × model figure and its table, folded (src/report/runtimes.ts), or nothing for a Node-only run. */
function runtimesHtml(model: ReportModel, figure: string): string[] {
  const c = runtimeComparison(model);
  if (!c) return [];
  const { columns, rows } = comparisonCells(c, model.ratioReference.server);
  const head = columns.map((h, i) => `<th class="${i ? 'num' : 'key'}" scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((x, i) => `<td class="${i ? 'num' : 'key'}">${escapeHtml(x)}</td>`).join('')}</tr>`).join('\n');
  const why = `Each TypeScript model's slope under each runtime, ms per client (smaller is faster), and its ratio to ${model.ratioReference.server ?? 'the reference'}.`;
  return [
    '<h2>Runtimes × models</h2>',
    figure,
    `<details><summary>${escapeHtml('The table: each slope and ratio with its 95% interval')}</summary>`,
    `<p>${escapeHtml(why)}</p>\n<div class="scroll"><table data-table="runtimes">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>\n${list(c.fastest)}`,
    '</details>',
  ];
}
