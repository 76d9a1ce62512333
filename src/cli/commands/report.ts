// `eventbench report DIR`: re-renders a run folder (finished, interrupted or still running) from its stored files.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { parseCommandArgs } from '../../core/args.js';
import { UsageError } from '../../core/errors.js';
import {
  REPORT_FILE,
  TABLE_NAMES,
  TEXT_FORMATS,
  readReportRun,
  reportText,
  writeReport,
  type TableName,
  type TextFormat,
} from '../../report/index.js';
import { csvTable } from '../../report/text.js';

const FORMATS = ['html', ...TEXT_FORMATS] as const;

const COMPARE_FORMATS = TEXT_FORMATS;

/** `report A B ...`: the runs side by side, as text. */
async function compare(dirs: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  const format = (values.format ?? 'md') as string;
  if (!(COMPARE_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      '--format',
      format,
      `with several DIRs, expected one of ${COMPARE_FORMATS.join(', ')}`,
      'html renders one run: give one DIR',
    );
  }
  if (values.table !== undefined) throw new UsageError('--table', values.table, 'applies to one DIR', 'several DIRs give one table');
  const { compareRuns, comparisonMarkdown, comparisonTable } = await import('../../report/compare.js');
  const reference = values.reference as string | undefined;
  const c = compareRuns(dirs.map(readReportRun), reference);
  const text =
    format === 'md' ? comparisonMarkdown(c) : format === 'json' ? JSON.stringify(c, null, 2) + '\n' : csvTable(comparisonTable(c));
  return emit(text, values.out as string | undefined, values.force === true);
}

/** An --out FILE that exists is replaced only with --force: a report never overwrites a file silently. */
export function refuseExisting(field: string, file: string, force: boolean): void {
  if (force || !existsSync(file)) return;
  throw new UsageError(field, file, 'exists already, and is not replaced silently', 'choose another name, remove it first, or add --force');
}

/** The text to --out FILE (then its path on stdout), else on stdout. */
async function emit(text: string, out: string | undefined, force: boolean): Promise<number> {
  if (out) {
    refuseExisting('--out', out, force);
    await writeFile(out, text);
    process.stdout.write(`${out}\n`);
  } else {
    process.stdout.write(text);
  }
  return EXIT.ok;
}

export const report: Command = {
  name: 'report',
  help: `eventbench report DIR [--format html|md|json|csv] [--table claims|ranking|paper|points] [--reference SERVER] [--out FILE]
       eventbench report DIR DIR... [--format md|json|csv] [--reference SERVER] [--out FILE]

Renders the results that \`eventbench run\` stored in DIR (run.json and points.jsonl), and only those: any old
run can be re-rendered, and a run still going renders what it has measured so far.

  DIR               the run folder
                      eventbench report results/2025-01-02T03-04-05
  --format FORMAT   html (default): writes DIR/${REPORT_FILE} (self-contained: opens from disk, no network) and
                    each figure as DIR/fig*.svg, then prints the path of ${REPORT_FILE}.
                    md: the answer, the paper's claims with verdicts, then every table as Markdown.
                    json: the whole report model (answer, claims, fits, flags, every point, environment).
                    csv: one table (see --table), with units in the column names.
                      eventbench report results/run1 --format md > results.md
  --table NAME      with --format csv: ranking (default; slope, implied req/s, ratio, tie group, r, fairness,
                    errors, flags), claims (the paper's claims: its number, this run's, the verdict and why),
                    paper (today against the paper's slopes) or points (every load, repeats averaged)
                      eventbench report results/run1 --format csv --table points > points.csv
  --reference NAME  the server every ratio and tie divides by (default: the run's own --reference, else lighttpd,
                    else native-epoll, else events)
                      eventbench report results/run1 --reference nginx
  --out FILE        write the text there instead of stdout (md, json, csv); with html, write ${REPORT_FILE}
                    as FILE and the SVG files beside it
                      eventbench report results/run1 --format json --out run1.json
                      eventbench report results/run1 --out /tmp/run1/index.html
  --force           replace an --out FILE that exists (without it, an existing file is refused)
                      eventbench report results/run1 --format md --out results.md --force

Several DIRs: the runs side by side (e.g. the same servers over loopback, then with \`run --server-host\`):
each server's slope ratio to the reference with its 95% interval in every run, whether the intervals overlap,
and each run's hosts, path and wall time. Markdown by default; json (the comparison) or csv (the table).
                      eventbench report results/loopback results/two-hosts --reference nginx

Figures: measured against offered load (with y = x), mean serving time against load with each server's
least-squares line (slope ms per client, intercept, r, implied req/s = 1000/slope by Little's law), throughput,
99th percentile, peak memory under load, a latency CDF and Jain's fairness index; and, when DIR holds the memory
experiment's memory.json, bytes per connection (memory.md and memory.html are re-rendered too).
`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('report', argv, {
      format: { type: 'string', short: 'f' },
      table: { type: 'string' },
      out: { type: 'string', short: 'o' },
      reference: { type: 'string' },
      force: { type: 'boolean' },
    });
    const [dir, ...extra] = positionals;
    if (dir === undefined) throw new UsageError('DIR', '', 'a run folder is required', 'e.g. `eventbench report results/RUN`');
    if (extra.length > 0) return compare(positionals, values);
    const format = (values.format ?? 'html') as string;
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError('--format', format, `expected one of ${FORMATS.join(', ')}`);
    const table = values.table as string | undefined;
    if (table !== undefined && !(TABLE_NAMES as readonly string[]).includes(table))
      throw new UsageError('--table', table, `expected one of ${TABLE_NAMES.join(', ')}`);
    if (table !== undefined && format !== 'csv')
      throw new UsageError('--table', table, 'applies to --format csv only', 'md and json hold every table');
    const out = values.out as string | undefined;
    const reference = values.reference as string | undefined;
    const ref = reference !== undefined ? { reference } : {};

    // A folder of `eventbench memory` (memory.json, no run.json) renders its own page.
    if (existsSync(path.join(dir, 'memory.json')) && !existsSync(path.join(dir, 'run.json'))) {
      const { memoryMarkdown, readMemoryRun, writeMemoryReport } = await import('../../report/memory.js');
      process.stdout.write(format === 'html' ? `${await writeMemoryReport(dir)}\n` : memoryMarkdown(readMemoryRun(dir)));
      return EXIT.ok;
    }
    if (format === 'html') {
      if (out) refuseExisting('--out', out, values.force === true);
      const written = await writeReport(dir, { ...(out ? { outDir: path.dirname(out), htmlName: path.basename(out) } : {}), ...ref });
      process.stdout.write(`${written.htmlPath}\n`);
      return EXIT.ok;
    }
    const text = await reportText(dir, { format: format as TextFormat, ...(table ? { table: table as TableName } : {}), ...ref });
    return emit(text, out, values.force === true);
  },
};
