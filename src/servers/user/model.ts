// A user's own server as a model like any other: `eventbench serve NAME` starts its command in a process group of its
// own (killed with `serve`, children included), with {port}, {host}, {backlog} and {page} filled in ({page}: a
// file holding the page, so a static server serves the paper's bytes), and it is ready once its port answers HTTP.
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServerError } from '../../core/errors.js';
import { cappedBacklog } from '../../core/backlog.js';
import { processTree } from '../../core/proc.js';
import { listeningPorts } from '../../core/sockets.js';
import { pageBody } from '../page.js';
import type { Availability, RunningServer, ServeOptions, ServerModel } from '../types.js';
import { freePort, probe, spawnServer, stopServer, urlOf, type SpawnedServer } from '../spawned.js';
import { tempPrefix } from '../external/site.js';
import { fill } from './command.js';
import type { UserServerSpec } from './spec.js';

/** A user server listening only on other ports than its own this long is taken to ignore {port}, ms. */
const WRONG_PORT_GRACE_MS = 1000;

export interface UserServerModel extends ServerModel {
  family: 'user';
  label?: string;
  spec: UserServerSpec;
  /** The flags `eventbench serve` needs to find it again (--servers-file FILE or --server SPEC). */
  serveArgs: string[];
}

/** The program of `command[0]`, resolved as the kernel would (a path from cwd, else a search of PATH), or undefined. */
function program(spec: UserServerSpec): string | undefined {
  const first = spec.command[0]!;
  const candidates = first.includes('/')
    ? [path.resolve(spec.cwd, first)]
    : (spec.env?.PATH ?? process.env.PATH ?? '')
        .split(':')
        .filter(Boolean)
        .map((d) => path.join(d, first));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function availability(spec: UserServerSpec): Availability {
  if (program(spec)) return { ok: true };
  return { ok: false, reason: `${spec.command[0]} is not an executable program here`, hint: `fix command[0] of ${spec.source}` };
}

/** Polls until the server answers HTTP on its port; fails, in one line, if it exits, listens elsewhere or never answers. */
async function waitReady(server: SpawnedServer, spec: UserServerSpec, host: string, port: number): Promise<void> {
  const started = Date.now();
  const deadline = started + spec.ready.timeoutS * 1000;
  let elsewhereSince: number | undefined;
  let last = '';
  for (;;) {
    if (server.hasExited()) {
      const { code, signal } = await server.exited;
      const said = server.stderrTail() || '(none)';
      const how = signal ?? `code ${code}`;
      throw new ServerError(
        `${spec.source}: exited (${how}) before it answered on ${host}:${port}; its last output: ${said}; ` +
          'run its command by hand to see why',
      );
    }
    try {
      await probe(host, port, 2000, spec.ready.path);
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    const ports = listeningPorts(processTree(server.pid));
    if (ports.length > 0 && !ports.includes(port)) {
      elsewhereSince ??= Date.now();
      if (Date.now() - elsewhereSince >= WRONG_PORT_GRACE_MS) {
        throw new ServerError(
          `${spec.source}: listens on port ${ports.join(', ')}, not on the port it was given (${port}); ` +
            'put {port} where its command sets its port',
        );
      }
    } else elsewhereSince = undefined;
    if (Date.now() >= deadline) {
      const where = `${host}:${port}${spec.ready.path}`;
      throw new ServerError(
        `${spec.source}: ready.timeoutS: did not answer HTTP on ${where} within ${spec.ready.timeoutS} s (${last}); ` +
          'raise ready.timeoutS if it starts slowly, or check that it serves HTTP on {port}',
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function start(spec: UserServerSpec, options: ServeOptions): Promise<RunningServer> {
  // A command cannot bind port 0 and tell us which port it got: pick a free one and give it as {port}.
  const port = await freePort(options.host, options.port);
  const dir = mkdtempSync(path.join(os.tmpdir(), tempPrefix('user')));
  const page = path.join(dir, 'page.html');
  writeFileSync(page, pageBody(options.pageBytes));
  const values = { port: String(port), host: options.host, backlog: String(options.backlog), page };
  const [cmd, ...args] = spec.command.map((w) => fill(w, values));
  const env = { ...process.env, ...Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, fill(v, values)])) };
  const server = spawnServer(program(spec) ?? cmd!, args, env, true, spec.cwd);
  const cleanUp = async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(server, spec, options.host, port);
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const notes: string[] = [];
  if (!spec.command.some((w) => w.includes('{backlog}'))) {
    notes.push(`${spec.name}: its command takes no {backlog}, so its listen backlog is its own (each point records the one in force)`);
  }
  if (options.workers !== undefined || options.maxLive !== undefined) {
    notes.push(`${spec.name}: your own server: --workers and --max-live are for the built-in models and are ignored`);
  }
  let closing: Promise<void> | undefined;
  const ended = server.exited.then(
    ({ code, signal }) => `${spec.name} exited (${signal ?? `code ${code}`}) while serving: ${server.stderrTail() || 'no output'}`,
  );
  return {
    url: urlOf(options.host, port),
    effectiveBacklog: cappedBacklog(options.backlog),
    notes,
    close: () => (closing ??= cleanUp()),
    ended,
  };
}

/** The model of one user server; `serveArgs` are the flags that let `eventbench serve NAME` find it again. */
export function userModel(spec: UserServerSpec, serveArgs: string[]): UserServerModel {
  return {
    name: spec.name,
    family: 'user',
    paperRow: spec.paperRow ?? null,
    ...(spec.label ? { label: spec.label } : {}),
    summary: spec.label ?? `your server: ${spec.command.join(' ')}`,
    connection: spec.connection ?? 'unknown',
    slow: spec.slow ?? false,
    spec,
    serveArgs,
    available: async () => availability(spec),
    start: (options) => start(spec, options),
  };
}

/** A server eventbench does not start (`run --url`): measured where it answers, never pinned, throttled or sampled. */
export function urlModel(name: string, url: string): ServerModel {
  return {
    name,
    family: 'user',
    paperRow: null,
    connection: 'unknown',
    slow: false,
    label: `running at ${url}, not started by eventbench`,
    summary: `your server at ${url} (not started by eventbench)`,
    url,
    available: async () => ({ ok: true }),
    start: () => Promise.reject(new ServerError(`${name} runs at ${url}: eventbench does not start it`)),
  };
}
