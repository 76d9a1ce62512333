// `eventbench serve MODEL`: starts one server under test and keeps it up until SIGTERM or SIGINT.
// Prints exactly one line on stdout, `listening on http://HOST:PORT/`, once it answers; notes go to stderr.
import os from 'node:os';
import { MAX_BACKLOG } from '../../core/backlog.js';
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { numberArg, parseCommandArgs } from '../../core/args.js';
import { MissingDependencyError, ServerError, UsageError } from '../../core/errors.js';
import { findModel, models, type ServeOptions, type RunningServer } from '../../servers/registry.js';
import { DEFAULT_PAGE_BYTES, MAX_PAGE_BYTES, MIN_PAGE_BYTES } from '../../servers/page.js';
import { SETTINGS, settingHelp } from '../../core/defaults.js';
import { isHere, resolveServeRuntime, serveUnder } from '../serve-under.js';
import { USER_SERVER_HELP, USER_SERVER_OPTIONS, userServersOf } from '../user-servers.js';
import type { ServerModel } from '../../servers/types.js';

/** Defaults for every flag, in one place. */
export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  backlog: SETTINGS.backlog.value,
  pageBytes: DEFAULT_PAGE_BYTES,
  idleTimeoutS: SETTINGS.idleTimeoutS.value,
} as const;

const help = `eventbench serve: start one server under test, serving the paper's page until SIGTERM or SIGINT.

Usage: eventbench serve MODEL [options]
       eventbench serve NAME --servers-file FILE [options]    your own server (or --server 'NAME=CMD')
       eventbench serve --list [--servers-file FILE]

Once it answers it prints exactly one line on stdout, \`listening on http://HOST:PORT/\`; notes go to stderr.

Options:
  --list                 every model with its family, the paper's row it answers and what it is
                           eventbench serve --list
  --host ADDR            address to bind: loopback (default ${SERVE_DEFAULTS.host}), or an address of one of
                         this host's own interfaces, for clients on another host (\`eventbench hosts\`)
                           eventbench serve events --host ::1
  --port N               port, 0 for any free one (default ${SERVE_DEFAULTS.port})
                           eventbench serve events --port 8080
${settingHelp(SETTINGS.backlog, 25)}
${settingHelp(SETTINGS.pageBytes, 25, `size of the page served, ${MIN_PAGE_BYTES} to ${MAX_PAGE_BYTES}`)}
${settingHelp(SETTINGS.idleTimeoutS, 25)}
  --workers N            processes or threads of a pool model (default: the model's own)
                           eventbench serve process-pool --workers 4
  --max-live N           cap on live threads or processes of a per-connection model (default: the model's own)
                           eventbench serve threads --max-live 2000
  --runtime R            run a TypeScript model under node, bun or deno (default node; also MODEL@bun)
                           eventbench serve events --runtime bun
${USER_SERVER_HELP}
  -h, --help             this text

Example:
  eventbench serve events --port 8080 &
  eventbench load -c 100 -n 20000 http://127.0.0.1:8080/
`;

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

/** Addresses of this host's own interfaces (in its network namespace), loopback aside. */
function ownAddresses(): string[] {
  const all = Object.values(os.networkInterfaces()).flat();
  return all.filter((i) => i && !i.internal && !i.address.startsWith('fe80:')).map((i) => i!.address);
}

/** Validates the flags into ServeOptions; every error names the flag, the value and the limit. */
export function serveOptions(values: Record<string, unknown>): ServeOptions {
  const host = (values.host as string | undefined) ?? SERVE_DEFAULTS.host;
  // Never the wildcard: a server under test answers on loopback, or on the one address another host reaches it by.
  if (!LOOPBACK.test(host) && !ownAddresses().includes(host)) {
    const own = ownAddresses();
    const list = own.length ? own.join(', ') : 'it has none';
    throw new UsageError('--host', host, `expected a loopback address (127.0.0.0/8 or ::1) or one of this host's own addresses (${list})`);
  }
  const idleTimeoutS =
    numberArg('--idle-timeout', values['idle-timeout'] as string | undefined, 0.01, 86_400, false) ?? SERVE_DEFAULTS.idleTimeoutS;
  const options: ServeOptions = {
    host,
    port: numberArg('--port', values.port as string | undefined, 0, 65_535) ?? SERVE_DEFAULTS.port,
    backlog: numberArg('--backlog', values.backlog as string | undefined, 1, MAX_BACKLOG) ?? SERVE_DEFAULTS.backlog,
    pageBytes:
      numberArg('--page-bytes', values['page-bytes'] as string | undefined, MIN_PAGE_BYTES, MAX_PAGE_BYTES) ?? SERVE_DEFAULTS.pageBytes,
    idleTimeoutMs: Math.round(idleTimeoutS * 1000),
  };
  const workers = numberArg('--workers', values.workers as string | undefined, 1, 4096);
  if (workers !== undefined) options.workers = workers;
  const maxLive = numberArg('--max-live', values['max-live'] as string | undefined, 1, 1_000_000);
  if (maxLive !== undefined) options.maxLive = maxLive;
  return options;
}

async function list(all: readonly ServerModel[]): Promise<number> {
  const rows = await Promise.all(all.map(async (m) => ({ m, availability: await m.available() })));
  const width = Math.max(...all.map((m) => m.name.length));
  const rowWidth = Math.max(...all.map((m) => (m.paperRow ?? '-').length));
  for (const { m, availability } of rows) {
    const missing = availability.ok ? '' : `  [unavailable: ${availability.reason}; ${availability.hint}]`;
    process.stdout.write(
      `${m.name.padEnd(width)}  ${m.family.padEnd(10)}  ${(m.paperRow ?? '-').padEnd(rowWidth)}  ${m.summary}${missing}\n`,
    );
  }
  return EXIT.ok;
}

/**
 * Stays up until a signal, or until whoever started us is gone (a runner killed with -9 cannot send one); then
 * closes (which ends every child). A server that ends by itself (a user's server that crashed) is a failure, with why.
 */
async function serveUntilStopped(name: string, server: RunningServer): Promise<void> {
  const parent = process.ppid;
  let orphanWatch: NodeJS.Timeout | undefined;
  let died: string | undefined;
  const signal = await new Promise<NodeJS.Signals | 'parent gone' | 'ended'>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    orphanWatch = setInterval(() => {
      if (process.ppid !== parent) resolve('parent gone');
    }, 1000);
    orphanWatch.unref();
    void server.ended?.then((why) => {
      died = why;
      resolve('ended');
    });
  });
  clearInterval(orphanWatch);
  if (died !== undefined) {
    await server.close();
    throw new ServerError(died);
  }
  const forced = setTimeout(() => {
    process.stderr.write(`eventbench serve: ${name} did not close within 10 s of ${signal}\n`);
    process.exit(EXIT.failure);
  }, 10_000);
  forced.unref();
  await server.close();
  clearTimeout(forced);
}

export const serve: Command = {
  name: 'serve',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('serve', argv, {
      list: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      backlog: { type: 'string' },
      'page-bytes': { type: 'string' },
      'idle-timeout': { type: 'string' },
      workers: { type: 'string' },
      'max-live': { type: 'string' },
      runtime: { type: 'string' },
      ...USER_SERVER_OPTIONS,
    });
    const user = userServersOf(values);
    if (values.list) return list([...models, ...user]);
    const names = [...models, ...user].map((m) => m.name).join(', ');
    // `serve --server 'mine=...'` alone serves that one server.
    const [name = user.length === 1 && values['servers-file'] === undefined ? user[0]!.name : undefined, ...extra] = positionals;
    if (name === undefined) throw new UsageError('MODEL', '', `expected one of ${names}`, 'see `eventbench serve --list`');
    if (extra.length > 0) throw new UsageError('MODEL', extra.join(' '), 'expected a single model name');
    const mine = user.find((m) => m.name === name);
    if (mine && values.runtime !== undefined) {
      throw new UsageError('--runtime', values.runtime, `is for the TypeScript models; ${name} is your own server`, 'drop --runtime');
    }
    const where = mine ? undefined : resolveServeRuntime(name, values.runtime);
    if (where && !isHere(where.runtime)) {
      serveOptions(values); // bad flags are refused here, in one line, before another runtime starts
      // Only string flags pass on (--server's list does not; it names no built-in model anyway).
      return serveUnder(where.runtime, where.model.name, values as Record<string, string | boolean | undefined>);
    }
    const model = mine ?? where?.model ?? findModel(name);
    if (!model) throw new UsageError('MODEL', name, `expected one of ${names}`, 'see `eventbench serve --list`');
    const options = serveOptions(values);
    const availability = await model.available();
    if (!availability.ok) throw new MissingDependencyError(`${model.name} (${availability.reason})`, availability.hint);

    let server: RunningServer;
    try {
      server = await model.start(options);
    } catch (err) {
      if (err instanceof ServerError || err instanceof UsageError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError('--port', options.port, 'is in use', 'pick another port or --port 0');
      if (code === 'EADDRNOTAVAIL') throw new UsageError('--host', options.host, 'is not an address of this machine');
      throw new ServerError(`${model.name} failed to start: ${(err as Error).message ?? String(err)}`);
    }
    for (const note of server.notes) process.stderr.write(`eventbench serve: note: ${note}\n`);
    process.stdout.write(`listening on ${server.url}\n`);

    await serveUntilStopped(model.name, server);
    return EXIT.ok;
  },
};
