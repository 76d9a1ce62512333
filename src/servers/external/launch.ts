// Launching a production server from its Debian binary: a fresh temporary folder (site.ts) holds its configuration and
// the page (index.html, --page-bytes long); the server runs in the foreground in a process group of its own;
// start() resolves once it answers HTTP; close() stops every process of the group and removes the folder.
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { PortInUseError, ServerError } from '../../core/errors.js';
import { prepareSite, type Site } from './site.js';
import type { Availability, Conformance, ConnectionKind, RunningServer, ServeOptions, ServerModel } from '../types.js';
import { freePort, spawnServer, stopServer, urlOf, waitUntilAnswers, type SpawnedServer } from '../spawned.js';
import { installHint } from '../../core/format.js';

/** Workers, connections and descriptors each production server is configured for (the paper went to 1000 clients). */
export const CLIENTS = 1024;

export interface Launch {
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Listen backlog in force and how it was arrived at. */
  effectiveBacklog: number;
  notes: string[];
  /** Files the server writes its errors to, quoted when it fails to start. */
  errorLog?: string;
  /** Processes the server runs once fully started; start() waits for them (a pool forked after the first answer). */
  readyProcesses?: number;
}

export interface ProductionSpec {
  name: string;
  paperRow: string | null;
  connection: ConnectionKind;
  summary: string;
  /** Absolute path of the Debian binary. */
  binary: string;
  debianPackage: string;
  /** Where it departs from our rules beyond every production server's own headers and 4xx (h2o's head limit). */
  conformance?: Conformance;
  configure(site: Site): Launch;
}

const PORT_ATTEMPTS = 5;

function availability(spec: ProductionSpec): Availability {
  try {
    accessSync(spec.binary, constants.X_OK);
    return { ok: true };
  } catch {
    return { ok: false, reason: `${spec.binary} is not installed`, hint: installHint(spec.debianPackage) };
  }
}

function readLog(file: string | undefined): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-8).join('\n');
  } catch {
    return '';
  }
}

async function waitForProcesses(server: SpawnedServer, count: number, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.processes() < count) {
    if (server.hasExited()) throw new ServerError(`${what} exited while starting its workers: ${server.output().trim() || '(no output)'}`);
    if (Date.now() > deadline)
      throw new ServerError(`${what} started ${server.processes()} of its ${count} processes within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One attempt: configure, start, wait until it answers. Cleans up after itself when it fails. */
async function attempt(spec: ProductionSpec, options: ServeOptions, port: number): Promise<RunningServer> {
  const site = prepareSite(spec, options, port);
  const { dir } = site;
  let server: SpawnedServer | undefined;
  const cleanUp = async () => {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const launch = spec.configure(site);
    server = spawnServer(spec.binary, launch.args, launch.env, true);
    try {
      await waitUntilAnswers(server, options.host, port, spec.name);
    } catch (err) {
      const log = readLog(launch.errorLog);
      throw new ServerError(`${(err as Error).message}${log ? `\n${log}` : ''}`);
    }
    await waitForProcesses(server, launch.readyProcesses ?? 1, spec.name);
    let closing: Promise<void> | undefined;
    return {
      url: urlOf(options.host, port),
      effectiveBacklog: launch.effectiveBacklog,
      notes: launch.notes,
      close: () => (closing ??= cleanUp()),
    };
  } catch (err) {
    await cleanUp();
    // Taken by another process between freePort's check and the server's bind: said by the port, not the log text.
    if (await portTaken(options.host, port))
      throw new PortInUseError(
        `${spec.name}: port ${port} on ${options.host} was taken by another process before the server could bind it: ${(err as Error).message}`,
      );
    throw err;
  }
}

function portTaken(host: string, port: number): Promise<boolean> {
  return freePort(host, port).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
  );
}

export function productionModel(spec: ProductionSpec): ServerModel {
  return {
    name: spec.name,
    family: 'production',
    paperRow: spec.paperRow,
    connection: spec.connection,
    slow: false,
    summary: spec.summary,
    // A production server writes its own headers (Server, Date...) and answers malformed requests with its own 4xx.
    conformance: { ownBytes: true, any4xx: true, ...spec.conformance },
    available: async () => availability(spec),
    async start(options: ServeOptions): Promise<RunningServer> {
      const status = availability(spec);
      if (!status.ok) throw new ServerError(`${spec.name}: ${status.reason}; ${status.hint}`);
      // These servers cannot bind port 0 and say which port they got: pick a free port, and pick again if
      // another process takes it between our check and the server's bind.
      for (let tries = 1; ; tries++) {
        let port: number;
        try {
          port = await freePort(options.host, options.port);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const hint = 'choose another with --port, or 0 for any free one';
          if (code === 'EADDRINUSE')
            throw new PortInUseError(`${spec.name}: cannot use port ${options.port} on ${options.host} (already in use); ${hint}`);
          throw new ServerError(
            `${spec.name}: cannot use port ${options.port} on ${options.host} (${code ?? (err as Error).message}); ${hint}`,
          );
        }
        try {
          return await attempt(spec, options, port);
        } catch (err) {
          if (options.port !== 0 || !(err instanceof PortInUseError) || tries >= PORT_ATTEMPTS) throw err;
        }
      }
    },
  };
}
