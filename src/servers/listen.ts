// What every TypeScript model shares around its concurrency model: binding the listening socket with an explicit
// backlog (Node's default of 511 would cap the paper's loads) and saying when the kernel's somaxconn lowers it,
// and the idle-timeout policy (a client silent for idleTimeoutMs is closed).
import net from 'node:net';
import { backlogInForce, somaxconn } from '../core/backlog.js';
import type { RunningServer, ServeOptions } from './types.js';
import { buildResponses, type Responses } from './page.js';

/** The backlog in force for a requested one, and a note when the kernel lowers it (core/backlog.ts). */
export const effectiveBacklog = backlogInForce;
export { somaxconn };

/** Listens on host:port with the backlog passed explicitly; resolves once listening, rejects on EADDRINUSE etc. */
export function listen(server: net.Server, options: Pick<ServeOptions, 'host' | 'port' | 'backlog'>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** http://HOST:PORT/ for a listening server, with IPv6 hosts bracketed. */
export function urlOf(server: net.Server): string {
  const address = server.address() as net.AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}/`;
}

/** Closes a net.Server and resolves when it has stopped listening (connections still open are the caller's). */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Anything the idle reaper can close: it records when it last heard from its client. */
export interface Idle {
  lastActiveMs: number;
  expire(): void;
}

/**
 * The idle-timeout policy as one shared timer wheel: instead of a timer per socket (arming and re-arming one per
 * read costs more than the request itself at these rates), a single interval sweeps the live connections and
 * expires those silent for idleTimeoutMs. `nowMs` is a coarse clock, advanced by the sweep, so a connection stamps
 * its activity without a system call; a stamp may be one tick old, so a connection closes after between
 * idleTimeoutMs and 1.25 x idleTimeoutMs of silence, never before.
 */
export class IdleReaper {
  nowMs = Date.now();
  private readonly live = new Set<Idle>();
  private readonly timer: NodeJS.Timeout;
  private readonly tickMs: number;

  constructor(private readonly idleTimeoutMs: number) {
    this.tickMs = Math.max(5, Math.floor(idleTimeoutMs / 8));
    this.timer = setInterval(() => this.sweep(), this.tickMs);
    this.timer.unref();
  }

  /** Watches `conn` from now on; it stamps `lastActiveMs` itself (reaper.nowMs, or Infinity to be left alone). */
  add(conn: Idle): void {
    this.live.add(conn);
  }

  delete(conn: Idle): void {
    this.live.delete(conn);
  }

  get size(): number {
    return this.live.size;
  }

  private sweep(): void {
    this.nowMs = Date.now();
    const oldest = this.nowMs - this.idleTimeoutMs - this.tickMs;
    for (const conn of this.live) {
      if (conn.lastActiveMs <= oldest) {
        this.live.delete(conn);
        conn.expire();
      }
    }
  }

  /** Expires every connection still live (on close) and stops the sweep. */
  stop(): void {
    clearInterval(this.timer);
    for (const conn of this.live) conn.expire();
    this.live.clear();
  }
}

/** What a single-process model's connection handler is given: the prebuilt responses and the idle policy. */
export interface ConnectionContext {
  responses: Responses;
  idleTimeoutMs: number;
  reaper: IdleReaper;
}

/**
 * The accept loop every single-process TypeScript model shares (the paper's "a single thread waits for incoming
 * connections"): one net.Server bound with the explicit backlog, handing each accepted socket to `handle`.
 * Closing stops accepting, expires every live connection and resolves once all are closed.
 */
export async function startNetServer(
  options: ServeOptions,
  handle: (socket: net.Socket, context: ConnectionContext) => void,
): Promise<RunningServer> {
  const reaper = new IdleReaper(options.idleTimeoutMs);
  const context: ConnectionContext = { responses: buildResponses(options.pageBytes), idleTimeoutMs: options.idleTimeoutMs, reaper };
  const server = net.createServer((socket) => handle(socket, context));
  server.on('error', () => {}); // accept errors (EMFILE...) must not kill the server; the client retries
  await listen(server, options);
  const { backlog, notes } = effectiveBacklog(options.backlog);
  let closing: Promise<void> | undefined;
  return {
    url: urlOf(server),
    effectiveBacklog: backlog,
    notes,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        reaper.stop();
      });
      return closing;
    },
  };
}
