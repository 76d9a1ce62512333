// `eventbench check NAME|URL`: the conformance suite the built-in servers pass, as a report card for any server.
// One line per check as it finishes (stdout), then a summary; `--json` prints the card as JSON instead.
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { numberArg, parseCommandArgs } from '../../core/args.js';
import { MissingDependencyError, UsageError } from '../../core/errors.js';
import { findModel } from '../../servers/registry.js';
import { DEFAULT_PAGE_BYTES, MAX_PAGE_BYTES, MIN_PAGE_BYTES } from '../../servers/page.js';
import { SETTINGS, settingHelp } from '../../core/defaults.js';
import type { UserServerModel } from '../../servers/user/index.js';
import { checkCard, cardText, lineText, type Card, type CardLine } from '../../check/card.js';
import { CHECKS } from '../../check/checks.js';
import { CHECK_IDLE_TIMEOUT_S, DEFAULT_IDLE_BOUND_S, modelContext, serveForCheck, urlContext } from '../../check/target.js';
import type { ContextOptions } from '../../check/target.js';
import { USER_SERVER_HELP, USER_SERVER_OPTIONS, userServersOf } from '../user-servers.js';

const HELP = `eventbench check: is a server fit to be measured? The checks every built-in server passes, as a report card.

Usage: eventbench check NAME [options]     a built-in model, or your own (--server, --servers-file)
       eventbench check URL [options]      a server already running, e.g. http://127.0.0.1:8080/

One line per check (pass, FAIL, or n/a with why), then a summary. Exit status 0 only when every applicable check
passes. NAME is started with \`eventbench serve\` (built-ins with --idle-timeout ${CHECK_IDLE_TIMEOUT_S}) and stopped at the
end, which is checked too. Checks: ${CHECKS.map((c) => c.id).join(', ')}.

Options:
${USER_SERVER_HELP}
  --short                 only the short form \`run\` gives your servers before measuring them:
                          ${CHECKS.filter((c) => c.short)
                            .map((c) => c.id)
                            .join(', ')}
  --json                  the card as JSON on stdout (schema eventbench.check/1)
${settingHelp(SETTINGS.pageBytes, 26, `the page the server is started with, ${MIN_PAGE_BYTES} to ${MAX_PAGE_BYTES}`)}
  --idle-bound S          a server with an idle timeout of its own (yours, a URL) must close a silent client within
                          S seconds (default ${DEFAULT_IDLE_BOUND_S}), e.g. --idle-bound 5
  --connections N         connections of the descriptor check (default 1000), e.g. --connections 200

Examples:
  eventbench check events
  eventbench check asyncio-python --servers-file examples/servers.json
  eventbench check http://127.0.0.1:8080/ --json`;

type Values = { server?: string[]; 'servers-file'?: string; 'page-bytes'?: string; 'idle-bound'?: string; connections?: string };

function contextOptions(values: Values): ContextOptions & { pageBytes: number } {
  const pageBytes = numberArg('--page-bytes', values['page-bytes'], MIN_PAGE_BYTES, MAX_PAGE_BYTES) ?? DEFAULT_PAGE_BYTES;
  const idleBoundS = numberArg('--idle-bound', values['idle-bound'], 0.5, 600, false);
  const connections = numberArg('--connections', values.connections, 1, 100_000);
  return { pageBytes, ...(idleBoundS !== undefined ? { idleBoundS } : {}), ...(connections !== undefined ? { connections } : {}) };
}

/** The card of a model (built-in or the user's), started through `eventbench serve` and stopped at the end. */
async function modelCard(name: string, values: Values, form: Card['form'], onLine?: (l: CardLine) => void): Promise<Card> {
  const options = contextOptions(values);
  const model = userServersOf(values).find((m) => m.name === name) ?? findModel(name);
  if (!model) {
    const hint = 'see `eventbench serve --list`, or name yours with --server or --servers-file';
    throw new UsageError('NAME', name, 'is neither a server model nor a URL', hint);
  }
  const a = await model.available();
  if (!a.ok) throw new MissingDependencyError(`${model.name} (${a.reason})`, a.hint);
  const user = model.family === 'user' ? (model as UserServerModel) : undefined;
  const args = user ? [...user.serveArgs] : ['--idle-timeout', String(CHECK_IDLE_TIMEOUT_S)];
  const readyMs = user ? (user.spec.ready.timeoutS + 15) * 1000 : 60_000;
  const served = await serveForCheck(model.name, [...args, '--page-bytes', String(options.pageBytes)], readyMs);
  return checkCard({ server: model.name, context: modelContext(model, served, options), form, served, ...(onLine ? { onLine } : {}) });
}

export const check: Command = {
  name: 'check',
  help: HELP,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('check', argv, {
      ...USER_SERVER_OPTIONS,
      short: { type: 'boolean' },
      json: { type: 'boolean' },
      'page-bytes': { type: 'string' },
      'idle-bound': { type: 'string' },
      connections: { type: 'string' },
    });
    const [target, ...extra] = positionals;
    if (target === undefined || extra.length > 0) {
      throw new UsageError('NAME|URL', positionals.join(' '), 'expected one server name or URL', 'see `eventbench check --help`');
    }
    const form = values.short ? 'short' : 'full';
    const onLine = values.json ? undefined : (l: CardLine) => process.stdout.write(lineText(l) + '\n');
    const lines = onLine ? { onLine } : {};
    const card = target.includes('://')
      ? await checkCard({ server: target, context: await urlContext(target, 'URL', contextOptions(values)), form, ...lines })
      : await modelCard(target, values, form, onLine);
    process.stdout.write(values.json ? JSON.stringify(card, null, 2) + '\n' : cardText(card, false) + '\n');
    return card.ok ? EXIT.ok : EXIT.failure;
  },
};
