// What a server is to the rest of eventbench: the options it is started with, what a started one offers, and the
// model itself. The servers own these types; the runner, the schema and the CLI import them from here.
import type { RuntimeSupport } from './runtime.js';

/** Where a server comes from: written in TypeScript here, the paper's own C, or a production server from Debian. */
export type Family = 'typescript' | 'native' | 'production';

export interface ServeOptions {
  /** Address to bind, loopback by default. */
  host: string;
  /** Port, 0 for any free one. */
  port: number;
  /** Listen backlog passed to listen(2); the kernel caps it at somaxconn. */
  backlog: number;
  /** Size of the page, bytes (305 as in the paper). */
  pageBytes: number;
  /** A client silent this long is closed, ms. */
  idleTimeoutMs: number;
  /** Workers for pool models (threads or processes); model default when undefined. */
  workers?: number;
  /** Live thread/process cap for per-connection models; model default when undefined. */
  maxLive?: number;
}

export interface RunningServer {
  /** http://HOST:PORT/ it answers on. */
  url: string;
  /** Listen backlog in force, as far as can be known (requested value capped by somaxconn and the server's own cap). */
  effectiveBacklog: number;
  /** Notes for the user (a lowered backlog, a cap chosen from available memory...), printed on stderr by `serve`. */
  notes: string[];
  /** Stops accepting, ends every child process and thread it started, and resolves once all are gone. */
  close(): Promise<void>;
}

export type Availability = { ok: true } | { ok: false; reason: string; hint: string };

/**
 * How a server holds a connection it is waiting on, which is what one more idle connection costs it (the paper's
 * memory claim, src/report/memory.ts): a record in an event loop, a user-space thread or continuation its own
 * scheduler runs, a kernel thread or a process of its own, or one of a fixed pool of threads or processes.
 */
export type ConnectionKind = 'event' | 'user-thread' | 'thread' | 'process' | 'pool';
export const CONNECTION_KINDS: readonly ConnectionKind[] = ['event', 'user-thread', 'thread', 'process', 'pool'];

export interface ServerModel {
  /** Name on the command line: "events", "native-st", "nginx". */
  name: string;
  family: Family;
  /**
   * The row of the paper's Figure 2 it answers, spelled as the paper does (src/report/paper.ts: "ST", "lighttpd",
   * "Apache", ...), or null when it answers none.
   */
  paperRow: string | null;
  /** How it holds a connection. */
  connection: ConnectionKind;
  /**
   * Whether each connection starts a runtime of its own (a V8 isolate, a Node process): seconds per connection at
   * a quarter core, so that 200 clients at once wait minutes for it (the tests give its clients that long).
   */
  slow: boolean;
  /** One line for `serve --list`: what concurrency model it is. */
  summary: string;
  /** Where a TypeScript model runs (Node, Bun, Deno) and why not elsewhere; unset for native and production servers. */
  runtimes?: RuntimeSupport;
  /** Whether it can run on this host (binaries, libraries, compiler), and what installs it when not. */
  available(): Promise<Availability>;
  /** Starts it and resolves once it answers on its port. */
  start(options: ServeOptions): Promise<RunningServer>;
}
