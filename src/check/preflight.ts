// Before `run` measures the user's own servers, each gets the short form of `check`: a server that cannot start,
// or does not serve the page, is refused with its card; other failures are said, and it is measured all the same.
import { ServerError } from '../core/errors.js';
import type { ServerModel } from '../servers/types.js';
import type { UserServerModel } from '../servers/user/index.js';
import { checkCard, cardText, type Card } from './card.js';
import { modelContext, serveForCheck, urlContext } from './target.js';

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

/** The short card of one user server: started through `serve` (and stopped), or at its URL (which must answer). */
async function shortCard(model: ServerModel, pageBytes: number, backlog: number): Promise<Card> {
  if (model.url !== undefined) {
    const context = await urlContext(model.url, `--url ${model.name}`);
    return checkCard({ server: model.name, context, form: 'short' });
  }
  const user = model as UserServerModel;
  const args = [...user.serveArgs, '--page-bytes', String(pageBytes), '--backlog', String(backlog)];
  const served = await serveForCheck(model.name, args, (user.spec.ready.timeoutS + 15) * 1000);
  return checkCard({ server: model.name, context: modelContext(model, served, { pageBytes }), form: 'short', served });
}

/** Short-checks every server in turn; throws (one line) at the first that cannot start or does not serve the page. */
export async function preflight(servers: readonly ServerModel[], o: PreflightOptions): Promise<Card[]> {
  const cards: Card[] = [];
  for (const model of servers) {
    const card = await shortCard(model, o.pageBytes, o.backlog);
    const why = refusal(card);
    o.onCard?.(card, why !== undefined);
    const source = model.url !== undefined ? `--url ${model.name}` : (model as UserServerModel).spec.source;
    const full = `eventbench check ${model.url ?? model.name}`;
    if (why) throw new ServerError(`${source}: not measured: ${why}; its card is above (\`${full}\` gives the full one)`);
    cards.push(card);
  }
  return cards;
}

export { cardText };
