// What a server is to the rest of eventbench: the options it is started with, what a started one offers, and the
// model itself. The servers own these types; the runner, the schema and the CLI import them from here.
import type { RuntimeSupport } from './runtime.js';

/** Where a server comes from: written in TypeScript here, the paper's own C, a production server from Debian, or the user's own. */
export type Family = 'typescript' | 'native' | 'production' | 'user';

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
  /** Settles, with why, if the server's own process ends by itself (a user's server that crashed); unset where not watched. */
  ended?: Promise<string>;
}

/** The checks of a report card (src/check/checks.ts): what a model's conformance may declare it cannot pass. */
export type CheckId =
  | 'page'
  | 'http10-close'
  | 'keep-alive'
  | 'head'
  | 'not-found'
  | 'method'
  | 'bad-request'
  | 'big-header'
  | 'unfinished-head'
  | 'concurrent'
  | 'silent-client'
  | 'slowloris'
  | 'resets'
  | 'descriptors'
  | 'alive';

export type Availability = { ok: true } | { ok: false; reason: string; hint: string };

/**
 * How a server holds a connection it is waiting on, which is what one more idle connection costs it (the paper's
 * memory claim, src/report/memory.ts): a record in an event loop, a user-space thread or continuation its own
 * scheduler runs, a kernel thread or a process of its own, or one of a fixed pool of threads or processes.
 */
export type ConnectionKind = 'event' | 'user-thread' | 'thread' | 'process' | 'pool' | 'unknown';
/** `unknown`: a user's server that did not say (its servers file's `connection`); on neither side of the memory claim. */
export const CONNECTION_KINDS: readonly ConnectionKind[] = ['event', 'user-thread', 'thread', 'process', 'pool', 'unknown'];

/**
 * How a server departs from eventbench's own request rules (src/servers/request.ts), as measured: `eventbench
 * check` and the conformance tests allow exactly this, and no more. A model that declares nothing is held to
 * page.ts's exact bytes (a toy server) or, for a user's server, to the status codes.
 */
export interface Conformance {
  /** Its own headers: the page's status, Content-Length and body are checked, not page.ts's exact bytes. */
  ownBytes?: boolean;
  /** Malformed requests may get any 4xx of its own, not exactly 400, 405 or 431 (404 is still required). */
  any4xx?: boolean;
  /**
   * Its own head limit, not our 8 KiB (h2o: 64 KiB; webfs: 4 KiB; mini_httpd: none): a 20 KB head may get the page,
   * and an unfinished head over 8 KiB may be closed unanswered, at once or at its idle timeout.
   */
  ownHeadLimit?: boolean;
  /** Closes a silent client by a clock of its own, not at --idle-timeout: within this many seconds, and why. */
  ownIdleClose?: { withinS: number; why: string };
  /** Answers a method it does not serve with 501 Not Implemented (RFC 9110's answer), not a 4xx, and has no setting for it: why. */
  notImplemented?: string;
  /**
   * Starts its answer with the protocol the request line named ("UNKNOWN 400 Bad Request" to a line that named none),
   * not with HTTP/1.x: the status code is read after whatever word comes first. Why.
   */
  echoesProtocol?: string;
  /** Takes the end of the stream for the end of an unfinished head, and serves it (mini_httpd): why. */
  eofEndsHead?: string;
  /** Checks it cannot pass by design, each with why: shown as not applicable, with the reason. */
  limits?: Partial<Record<CheckId, string>>;
}

export interface ServerModel {
  /** Name on the command line: "events", "native-st", "nginx". */
  name: string;
  family: Family;
  /**
   * The row of the paper's Figure 2 it answers, spelled as the paper does (src/servers/paper.ts: "ST", "lighttpd",
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
  /** A user's server: one line for reports, what it is ("Python asyncio, a coroutine per connection"). */
  label?: string;
  /** Flags `eventbench serve NAME` needs to find it (a user's server: --servers-file FILE or --server SPEC). */
  serveArgs?: string[];
  /** A server eventbench does not start (`run --url`): where it answers; start() is never called. */
  url?: string;
  /** Where it departs from our request rules, measured (unset: it follows them). */
  conformance?: Conformance;
  /** Whether it can run on this host (binaries, libraries, compiler), and what installs it when not. */
  available(): Promise<Availability>;
  /** Starts it and resolves once it answers on its port. */
  start(options: ServeOptions): Promise<RunningServer>;
}
