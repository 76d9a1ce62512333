// What a card checks: a server started here through the real `eventbench serve NAME` (so its whole process tree is
// known, as in a run), or a URL of a server already running. Each becomes the context the checks read.
import { ServerError, UsageError } from '../core/errors.js';
import { startChild, type Child, type Exit } from '../core/child.js';
import { alive, descendants, killTree, signalProcess } from '../core/proc.js';
import { probe } from '../servers/spawned.js';
import { listenerPid } from '../core/sockets.js';
import { DEFAULT_PAGE_BYTES } from '../servers/page.js';
import type { ServerModel } from '../servers/types.js';
import { EVENTBENCH_BIN, waitListening } from '../host/local.js';
import type { CheckContext, Outcome } from './checks.js';

/** Built-in models are checked with this idle timeout (`serve --idle-timeout`), so a silent client takes a second, not ten. */
export const CHECK_IDLE_TIMEOUT_S = 0.5;
/** A server with an idle timeout of its own (a user's, a URL's) must close a silent client within this, s. */
export const DEFAULT_IDLE_BOUND_S = 15;
/** One client's wait for the page, ms, unless the model declares a longer one (or is declared slow). */
const CLIENT_TIMEOUT_MS = 5_000;
const SLOW_CLIENT_TIMEOUT_MS = 120_000;
/** How long `serve` may take after SIGTERM before the card says it did not stop. */
const STOP_WITHIN_MS = 10_000;

/** A server started for a card: the `eventbench serve` process and where it answers. */
export interface Served {
  child: Child;
  pid: number;
  url: string;
  host: string;
  port: number;
}

/** Starts `eventbench serve NAME --port 0 ...args` and waits for its listening line; on failure, nothing is left running. */
export async function serveForCheck(name: string, args: string[], readyTimeoutMs = 60_000): Promise<Served> {
  const child = startChild(process.execPath, [EVENTBENCH_BIN, 'serve', name, '--port', '0', ...args], { keepStdout: true });
  try {
    const url = await waitListening(child, readyTimeoutMs);
    const u = new URL(url);
    return { child, pid: child.pid, url, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
  } catch (err) {
    if (child.pid > 0) killTree(child.pid, 'SIGKILL', process.pid);
    await child.exited;
    const said = /eventbench serve: (.*)$/m.exec(child.output())?.[1];
    throw new ServerError(`${name} did not start: ${said ?? (err as Error).message}`);
  }
}

/** SIGTERM to `serve`: it must exit 0 within STOP_WITHIN_MS and leave no process of its tree. Kills what is left. */
export async function stopServed(served: Served): Promise<Outcome> {
  const children = descendants(served.pid).filter((p) => p !== served.pid);
  signalProcess(served.pid, 'SIGTERM', process.pid);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), STOP_WITHIN_MS);
  });
  const exit = await Promise.race([served.child.exited, late]);
  clearTimeout(timer);
  if (!exit) {
    killTree(served.pid, 'SIGKILL', process.pid);
    await served.child.exited;
    return { status: 'fail', reason: `still running ${STOP_WITHIN_MS / 1000} s after SIGTERM (killed)` };
  }
  for (let i = 0; i < 40 && children.some(alive); i++) await new Promise((r) => setTimeout(r, 25));
  const left = children.filter(alive);
  for (const p of left) signalProcess(p, 'SIGKILL');
  if (left.length > 0) return { status: 'fail', reason: `left ${left.length} process(es) behind (pids ${left.join(', ')}; killed)` };
  if (exit.code !== 0) return { status: 'fail', reason: `exited with ${exitText(exit)}: ${served.child.stderrTail() || 'no output'}` };
  const none = children.length > 0 ? `, and none of its ${children.length} child process(es) is left` : '';
  return { status: 'pass', reason: `SIGTERM stopped it with exit status 0${none}` };
}

const exitText = (e: Exit) => (e.signal ? `signal ${e.signal}` : `status ${e.code}`);

export interface ContextOptions {
  /** The page it was started with, bytes. */
  pageBytes?: number;
  /** Bound on closing a silent client for a server with its own idle timeout, s. */
  idleBoundS?: number;
  /** Connections the descriptor check opens. */
  connections?: number;
  /** Clients the concurrency check opens at once. */
  atOnce?: number;
}

/** The checks' context for a model started with `serveForCheck` (built-ins with --idle-timeout CHECK_IDLE_TIMEOUT_S). */
export function modelContext(model: ServerModel, served: Served, o: ContextOptions = {}): CheckContext {
  const conformance = model.conformance ?? {};
  const user = model.family === 'user';
  // A slow model starts a runtime per connection: 200 clients at once each wait for a new V8 isolate (threads) or a
  // whole new Node (processes, ~0.15 s of CPU each), a minute or two on a busy 2-core machine.
  const slow = model.slow;
  const idleBoundMs = conformance.ownIdleClose
    ? conformance.ownIdleClose.withinS * 1000
    : user
      ? (o.idleBoundS ?? DEFAULT_IDLE_BOUND_S) * 1000
      : CHECK_IDLE_TIMEOUT_S * 1000 + 3_000;
  return {
    host: served.host,
    port: served.port,
    path: '/',
    pid: served.pid,
    pageBytes: o.pageBytes ?? DEFAULT_PAGE_BYTES,
    ...(user ? {} : { idleTimeoutS: CHECK_IDLE_TIMEOUT_S }),
    conformance,
    exactBytes: !user && !conformance.ownBytes,
    strictCodes: !user,
    clientTimeoutMs: slow ? SLOW_CLIENT_TIMEOUT_MS : CLIENT_TIMEOUT_MS,
    idleBoundMs,
    connections: o.connections ?? 1000,
    atOnce: o.atOnce ?? 200,
  };
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/;

/** A URL of a running server: checked for form (http, loopback), then that it answers HTTP at all. */
export async function urlContext(raw: string, field: string, o: ContextOptions = {}): Promise<CheckContext> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(field, raw, 'is not a URL', 'e.g. http://127.0.0.1:8080/');
  }
  if (url.protocol !== 'http:') throw new UsageError(field, raw, 'expected an http:// URL (eventbench speaks plain HTTP/1.x)');
  if (!LOOPBACK.test(url.hostname)) {
    throw new UsageError(field, raw, 'expected a loopback address (127.0.0.0/8, ::1 or localhost)', 'benchmarks stay on this machine');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  try {
    // An answer is its status line: a server that answers and never closes gets its card, which says so.
    await probe(host, port, 3000, url.pathname + url.search);
  } catch (err) {
    const why = `does not answer HTTP (${(err as Error).message})`;
    throw new UsageError(field, raw, why, 'start the server first, or check its port and path');
  }
  // Its process, where this user may see it (loopback: it runs here): its descriptors are checked as a started one's.
  const pid = listenerPid(port);
  return {
    host,
    port,
    ...(pid !== undefined ? { pid } : {}),
    path: url.pathname + url.search,
    conformance: {},
    exactBytes: false,
    strictCodes: false,
    clientTimeoutMs: CLIENT_TIMEOUT_MS,
    idleBoundMs: (o.idleBoundS ?? DEFAULT_IDLE_BOUND_S) * 1000,
    connections: o.connections ?? 1000,
    atOnce: o.atOnce ?? 200,
  };
}
