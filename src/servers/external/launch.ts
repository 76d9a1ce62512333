// Launching a production server from its Debian binary: a fresh temporary folder holds its configuration and
// the page (index.html, --page-bytes long); the server runs in the foreground in a process group of its own;
// start() resolves once it answers HTTP; close() stops every process of the group and removes the folder.
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PortInUseError, ServerError } from '../../core/errors.js';
import { pageBody } from '../page.js';
import type { Availability, Conformance, ConnectionKind, RunningServer, ServeOptions, ServerModel } from '../types.js';
import { freePort, spawnServer, stopServer, urlOf, waitUntilAnswers, type SpawnedServer } from '../spawned.js';
import { installHint } from '../../core/format.js';

/** Workers, connections and descriptors each production server is configured for (the paper went to 1000 clients). */
export const CLIENTS = 1024;

/** The user a server started as root becomes (Debian's web-server user). */
export const SERVER_USER = 'www-data';

/** uid and gid of `name` from /etc/passwd, or undefined. */
function lookUpUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const fields = line?.split(':');
    return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first folder on the way to `dir` (from `/` down) that `user` may not enter (no x bit for it: owner's, group's
 * or others', as the kernel picks), or undefined. Supplementary groups are not looked at.
 */
function closedTo(dir: string, user: { uid: number; gid: number }): { folder: string; mode: number; uid: number } | undefined {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    const st = statSync(folder);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return { folder, mode: st.mode & 0o7777, uid: st.uid };
  }
  return undefined;
}

/** What a configuration writer is given. */
export interface Site {
  /** The temporary folder, readable by every user (the server may drop root privileges to www-data). */
  dir: string;
  /** dir/www, holding index.html. */
  docRoot: string;
  port: number;
  options: ServeOptions;
  /** dir/run: logs and pid files, writable by the user the server runs as. */
  runDir: string;
  /** Whether the server is started as root, and so must be told which user (SERVER_USER) to become. */
  asRoot: boolean;
}

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

/** A server's temporary folder is named after its model and the process that owns it: a folder whose owner is gone is a leftover (see host/leftovers.ts). */
export function tempPrefix(model: string, ownerPid = process.pid): string {
  return `eventbench-${model}-${ownerPid}-`;
}

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

/**
 * A server's fresh site: its temporary folder with the page as www/index.html and a run folder the server may write
 * (owned by SERVER_USER when started as root). The caller removes `dir`.
 */
export function prepareSite(spec: Pick<ProductionSpec, 'name'>, options: ServeOptions, port: number): Site {
  const dir = mkdtempSync(path.join(os.tmpdir(), tempPrefix(spec.name)));
  chmodSync(dir, 0o755);
  const docRoot = path.join(dir, 'www');
  mkdirSync(docRoot, { mode: 0o755 });
  writeFileSync(path.join(docRoot, 'index.html'), pageBody(options.pageBytes), { mode: 0o644 });
  const runDir = path.join(dir, 'run');
  mkdirSync(runDir, { mode: 0o755 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // Servers drop root for SERVER_USER before some of them open their logs and pid files.
    const user = lookUpUser(SERVER_USER);
    if (!user)
      throw new ServerError(
        `${spec.name}: started as root, it needs the user ${SERVER_USER} to run as; create it or run eventbench as another user`,
      );
    const closed = closedTo(docRoot, user);
    if (closed) {
      rmSync(dir, { recursive: true, force: true });
      throw new ServerError(
        `${spec.name}: its workers run as ${SERVER_USER} and cannot enter ${closed.folder} (mode ${closed.mode.toString(8).padStart(4, '0')}, ` +
          `owner uid ${closed.uid}), on the way to the page in ${dir}: it would answer 403. ` +
          `TMPDIR is ${process.env.TMPDIR ?? '(unset)'}: set it to a folder every user can enter, such as /tmp`,
      );
    }
    chownSync(runDir, user.uid, user.gid);
  }
  return { dir, docRoot, runDir, port, options, asRoot };
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
