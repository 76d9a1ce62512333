// A report card: every check (or the short form) on one server, a line each with its measured reason, then a
// summary; and, for a server started here, whether SIGTERM stops it cleanly. Pure rendering is cardText().
import { CHECKS, runCheck, type Check, type CheckContext, type CheckId, type CheckStatus } from './checks.js';
import { stopServed, type Served } from './target.js';

export const CHECK_SCHEMA = 'eventbench.check/1';

export interface CardLine {
  /** A check of checks.ts, or `stops`: SIGTERM ends the server and all its processes. */
  id: CheckId | 'stops';
  title: string;
  status: CheckStatus;
  /** What was measured, in one sentence. */
  reason: string;
  /** How long the check took, ms. */
  elapsedMs: number;
}

export interface Card {
  schema: typeof CHECK_SCHEMA;
  /** The model's name, or the URL checked. */
  server: string;
  url: string;
  /** `short`: the checks `run` gives every user server before measuring it. */
  form: 'full' | 'short';
  lines: CardLine[];
  summary: { pass: number; fail: number; notApplicable: number };
  /** Whether every applicable check passed. */
  ok: boolean;
}

export interface CardOptions {
  server: string;
  context: CheckContext;
  form: 'full' | 'short';
  /** The server started for this card: stopped at the end, which is checked too. */
  served?: Served;
  /** Each line as soon as it is known (the CLI prints it). */
  onLine?: (line: CardLine) => void;
}

/**
 * A server's own idle clock this long or longer (mini_httpd's read timeout is compiled in at 60 s) has the checks that
 * wait it out start together, each on connections of its own: the card waits once, not three times.
 */
export const LONG_IDLE_BOUND_MS = 10_000;

/**
 * Runs the checks, their lines in order (the checks that wait on a long idle clock side by side, from the first of
 * them on), then stops a served server; resolves with the card.
 */
export async function checkCard(o: CardOptions): Promise<Card> {
  const lines: CardLine[] = [];
  const add = (line: CardLine) => {
    lines.push(line);
    o.onLine?.(line);
  };
  const lineOf = async (check: Check): Promise<CardLine> => {
    const t0 = Date.now();
    const outcome = await runCheck(check, o.context);
    return { id: check.id, title: check.title, ...outcome, elapsedMs: Date.now() - t0 };
  };
  const checks = CHECKS.filter((c) => o.form === 'full' || c.short);
  const sideBySide = o.context.idleBoundMs >= LONG_IDLE_BOUND_MS;
  const waiting = new Map<Check, Promise<CardLine>>();
  try {
    for (const check of checks) {
      if (sideBySide && check.waitsOnIdle && waiting.size === 0)
        for (const w of checks.filter((c) => c.waitsOnIdle)) waiting.set(w, lineOf(w));
      add(await (waiting.get(check) ?? lineOf(check)));
    }
  } finally {
    await Promise.allSettled(waiting.values());
    if (o.served) {
      const t0 = Date.now();
      add({ id: 'stops', title: 'stops on SIGTERM', ...(await stopServed(o.served)), elapsedMs: Date.now() - t0 });
    }
  }
  const count = (s: CheckStatus) => lines.filter((l) => l.status === s).length;
  const summary = { pass: count('pass'), fail: count('fail'), notApplicable: count('n/a') };
  const url = `http://${o.context.host.includes(':') ? `[${o.context.host}]` : o.context.host}:${o.context.port}${o.context.path}`;
  return { schema: CHECK_SCHEMA, server: o.server, url, form: o.form, lines, summary, ok: summary.fail === 0 };
}

const MARK: Record<CheckStatus, string> = { pass: 'pass', fail: 'FAIL', 'n/a': 'n/a ' };

/** One card line as text: "pass  the page: 200, a 305-byte body...". */
export function lineText(l: CardLine): string {
  return `${MARK[l.status]}  ${l.title}: ${l.reason}`;
}

/** The whole card as text, ending with its summary. */
export function cardText(card: Card, withLines = true): string {
  const { pass, fail, notApplicable } = card.summary;
  const total = pass + fail;
  const failed = card.lines.filter((l) => l.status === 'fail').map((l) => l.id);
  const verdict = card.ok ? `all ${total} applicable checks pass` : `${fail} of ${total} applicable checks fail: ${failed.join(', ')}`;
  const title = `${card.server} (${card.url}), ${card.form === 'short' ? 'short form' : 'full card'}:`;
  return [
    ...(withLines ? [title, ...card.lines.map(lineText)] : []),
    `${card.server}: ${verdict}${notApplicable > 0 ? `; ${notApplicable} not applicable` : ''}`,
  ].join('\n');
}
