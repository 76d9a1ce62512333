// Before `run` measures the user's own servers, each gets the short form of `check`: a server that cannot start,
// or does not serve the page, is refused with its card; other failures are said, and it is measured all the same.
import { ServerError } from '../core/errors.js';
import type { UserServerModel } from '../servers/user/index.js';
import { checkCard, cardText, type Card } from './card.js';
import { modelContext, serveForCheck } from './target.js';

export interface PreflightOptions {
  pageBytes: number;
  backlog: number;
  /** Each card once it is complete, and whether it is refused. */
  onCard?: (card: Card, refused: boolean) => void;
}

/** Why a short card refuses its server (it does not serve the page), or undefined. */
export function refusal(card: Card): string | undefined {
  const page = card.lines.find((l) => l.id === 'page');
  return page?.status === 'fail' ? `it does not serve the page (${page.reason})` : undefined;
}

/** Short-checks every server in turn; throws (one line) at the first that cannot start or does not serve the page. */
export async function preflight(servers: readonly UserServerModel[], o: PreflightOptions): Promise<Card[]> {
  const cards: Card[] = [];
  for (const model of servers) {
    const args = [...model.serveArgs, '--page-bytes', String(o.pageBytes), '--backlog', String(o.backlog)];
    const served = await serveForCheck(model.name, args, (model.spec.ready.timeoutS + 15) * 1000);
    const card = await checkCard({ server: model.name, context: modelContext(model, served, { pageBytes: o.pageBytes }), form: 'short', served });
    const why = refusal(card);
    o.onCard?.(card, why !== undefined);
    if (why) throw new ServerError(`${model.spec.source}: not measured: ${why}; its card is above (\`eventbench check ${model.name}\` gives the full one)`);
    cards.push(card);
  }
  return cards;
}

export { cardText };
