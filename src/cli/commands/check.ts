// `eventbench check NAME|URL`: the conformance suite the built-in servers pass, as a report card for any server.
// One line per check as it finishes (stdout), then a summary; `--json` prints the card as JSON instead.
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { numberArg, parseCommandArgs } from '../../core/args.js';
import { MissingDependencyError, UsageError } from '../../core/errors.js';
import { findModel } from '../../servers/registry.js';
import { DEFAULT_PAGE_BYTES, MAX_PAGE_BYTES, MIN_PAGE_BYTES } from '../../servers/page.js';
import { checkCard, cardText, lineText } from '../../check/card.js';
import { CHECKS } from '../../check/checks.js';
import { CHECK_IDLE_TIMEOUT_S, DEFAULT_IDLE_BOUND_S, modelContext, serveForCheck, urlContext } from '../../check/target.js';
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
                          ${CHECKS.filter((c) => c.short).map((c) => c.id).join(', ')}
  --json                  the card as JSON on stdout (schema eventbench.check/1)
  --page-bytes N          the page the server is started with, ${MIN_PAGE_BYTES} to ${MAX_PAGE_BYTES} (default ${DEFAULT_PAGE_BYTES}), e.g. --page-bytes 100000
  --idle-bound S          a server with an idle timeout of its own (yours, a URL) must close a silent client within
                          S seconds (default ${DEFAULT_IDLE_BOUND_S}), e.g. --idle-bound 5
  --connections N         connections of the descriptor check (default 1000), e.g. --connections 200

Examples:
  eventbench check events
  eventbench check asyncio-python --servers-file examples/servers.json
  eventbench check http://127.0.0.1:8080/ --json`;

export const check: Command = {
  name: 'check',
  help: HELP,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('check', argv, {
      ...USER_SERVER_OPTIONS, short: { type: 'boolean' }, json: { type: 'boolean' }, 'page-bytes': { type: 'string' },
      'idle-bound': { type: 'string' }, connections: { type: 'string' },
    });
    const [target, ...extra] = positionals;
    if (target === undefined || extra.length > 0) throw new UsageError('NAME|URL', positionals.join(' '), 'expected one server name or URL', 'see `eventbench check --help`');
    const pageBytes = numberArg('--page-bytes', values['page-bytes'], MIN_PAGE_BYTES, MAX_PAGE_BYTES) ?? DEFAULT_PAGE_BYTES;
    const idleBoundS = numberArg('--idle-bound', values['idle-bound'], 0.5, 600, false);
    const connections = numberArg('--connections', values.connections, 1, 100_000);
    const options = { pageBytes, ...(idleBoundS !== undefined ? { idleBoundS } : {}), ...(connections !== undefined ? { connections } : {}) };
    const form = values.short ? 'short' : 'full';
    const onLine = values.json ? undefined : (l: Parameters<typeof lineText>[0]) => process.stdout.write(lineText(l) + '\n');
    let card;
    if (target.includes('://')) {
      const context = await urlContext(target, 'URL', options);
      card = await checkCard({ server: target, context, form, ...(onLine ? { onLine } : {}) });
    } else {
      const user = userServersOf(values);
      const model = user.find((m) => m.name === target) ?? findModel(target);
      if (!model) throw new UsageError('NAME', target, 'is neither a server model nor a URL', 'see `eventbench serve --list`, or name your server with --server or --servers-file');
      const a = await model.available();
      if (!a.ok) throw new MissingDependencyError(`${model.name} (${a.reason})`, a.hint);
      const args = model.family === 'user' ? [...(model.serveArgs ?? [])] : ['--idle-timeout', String(CHECK_IDLE_TIMEOUT_S)];
      const readyMs = model.family === 'user' ? (user.find((m) => m === model)!.spec.ready.timeoutS + 15) * 1000 : 60_000;
      const served = await serveForCheck(model.name, [...args, '--page-bytes', String(pageBytes)], readyMs);
      card = await checkCard({ server: model.name, context: modelContext(model, served, options), form, served, ...(onLine ? { onLine } : {}) });
    }
    process.stdout.write(values.json ? JSON.stringify(card, null, 2) + '\n' : cardText(card, false) + '\n');
    return card.ok ? EXIT.ok : EXIT.failure;
  },
};
