// The conformance checks, one function each, in the order a card shows them: what a server must do to be measured
// (serve the page, answer HTTP/1.0 and 1.1, refuse bad requests with a 4xx) and to survive the abuse a closed loop
// and the open Internet bring (huge heads, silent and slow clients, resets), without leaking descriptors.
// `eventbench check` and the conformance tests run these same functions; each returns its measured reason.
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { buildResponses, DEFAULT_PAGE_BYTES, pageBody } from '../servers/page.js';
import { MAX_HEAD_BYTES } from '../servers/request.js';
import type { Conformance } from '../servers/types.js';
import { alive } from '../core/proc.js';
import { processTree } from '../core/proc.js';
import type { CheckId } from '../servers/types.js';

export type { CheckId };
import { Connection, describe, exchange, header, splitResponse, status, type Address, type Exchange } from './http.js';

export type CheckStatus = 'pass' | 'fail' | 'n/a';
export interface Outcome {
  status: CheckStatus;
  reason: string;
}

export interface CheckContext extends Address {
  /** Path of the page: "/" for a server eventbench started, the URL's own path otherwise. */
  path: string;
  /** Size of the page it was started with, bytes; undefined for a URL (its page is reported as it is). */
  pageBytes?: number;
  /** Root pid of its process tree, when eventbench started it: descriptors and liveness need it. */
  pid?: number;
  /** The idle timeout it was started with, s; undefined when the server keeps its own. */
  idleTimeoutS?: number;
  /** Where it departs from our request rules, as its model declares. */
  conformance: Conformance;
  /** Whether page.ts's exact bytes are required (a built-in toy server). */
  exactBytes: boolean;
  /**
   * Whether a head over 8 KiB must get exactly our 431 (a built-in model, unless it declares any4xx or its own head
   * limit); a user's server may have a larger limit, and then serves the page.
   */
  strictCodes: boolean;
  /** How long one client may wait for the page, ms. */
  clientTimeoutMs: number;
  /** A silent client must be closed within this, ms. */
  idleBoundMs: number;
  /** Connections the descriptor check opens (1000 on a card). */
  connections: number;
  /** Clients the concurrency check opens at once. */
  atOnce: number;
}

export interface Check {
  id: CheckId;
  title: string;
  /** Part of the short form `run` gives every user server before measuring it. */
  short: boolean;
  /** It may wait out the server's own idle clock (`idleBoundMs`) on connections of its own. */
  waitsOnIdle?: true;
  run(c: CheckContext): Promise<Outcome>;
}

const pass = (reason: string): Outcome => ({ status: 'pass', reason });
const fail = (reason: string): Outcome => ({ status: 'fail', reason });
const notApplicable = (reason: string): Outcome => ({ status: 'n/a', reason });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a bad request may take to be answered or closed: longer for a server slow to start a connection. */
const closeMs = (c: CheckContext) => Math.max(3_000, c.clientTimeoutMs);
/**
 * A complete answer left open this long ends the exchange ('open'): its bytes are what a check reads; a server that
 * never closes is named by the check of closing (http10-close), not made to time out every other.
 */
const OPEN_AFTER_MS = 1000;
/** An exchange that ends at the close, or OPEN_AFTER_MS after a complete answer, within `timeoutMs`. */
const answered = (timeoutMs: number) => ({ timeoutMs, openAfterMs: OPEN_AFTER_MS });
const get = (c: CheckContext, o: { timeoutMs?: number; openAfterMs?: number } = {}) =>
  exchange(c, `GET ${c.path} HTTP/1.0\r\n\r\n`, {
    timeoutMs: o.timeoutMs ?? c.clientTimeoutMs,
    openAfterMs: o.openAfterMs ?? OPEN_AFTER_MS,
  });
const is4xx = (code: number) => code >= 400 && code < 500;
/**
 * The status code of an answer to a bad request: after HTTP/1.x, or after any first word where the model declares
 * that its status line echoes the request's protocol (mini_httpd: "UNKNOWN 400 Bad Request").
 */
export function errorCode(conformance: Conformance, data: Buffer): number {
  const echoed = conformance.echoesProtocol ? /^[!-~]+ ([1-5]\d\d) /.exec(data.toString('latin1')) : null;
  return status(data) || Number(echoed?.[1] ?? 0);
}
/** ms as seconds, one decimal: "0.5". */
const seconds = (ms: number) => (ms / 1000).toFixed(1);
/** The first `n` bytes of an answer, quoted, for a reason. */
const quoted = (data: Buffer, n: number) => JSON.stringify(data.subarray(0, n).toString('latin1'));

/** What is wrong with an answer that should be the page (page.ts's bytes, or a 200 with the page it was given), if anything. */
export function pageProblem(c: CheckContext, r: Exchange, pageBytes = c.pageBytes): string | undefined {
  const { data } = r;
  const code = status(data);
  if (code !== 200) return `expected 200 and the page, got ${describe(r)}`;
  const { head, body } = splitResponse(data);
  const length = header(head, 'content-length');
  if (length !== undefined && Number(length) !== body.length) return `Content-Length says ${length}, the body has ${body.length} bytes`;
  if (pageBytes === undefined) return undefined;
  if (c.exactBytes) {
    const expected = buildResponses(pageBytes).get;
    return data.equals(expected) ? undefined : `expected page.ts's ${expected.length} bytes, got ${data.length}: ${quoted(data, 80)}`;
  }
  if (body.equals(pageBody(pageBytes))) return undefined;
  return `its ${body.length}-byte body is not the ${pageBytes}-byte page it was given ({page})`;
}

async function checkPage(c: CheckContext): Promise<Outcome> {
  const r = await get(c, { openAfterMs: 1000 });
  const problem = pageProblem(c, r);
  if (problem) return fail(`GET ${c.path}: ${problem}`);
  if (c.exactBytes) {
    const index = await exchange(c, 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', answered(closeMs(c)));
    const p = pageProblem(c, index);
    if (p) return fail(`GET /index.html: ${p}`);
  }
  const bytes = splitResponse(r.data).body.length;
  const paper = `${bytes === DEFAULT_PAGE_BYTES ? '' : 'not '}the paper's ${DEFAULT_PAGE_BYTES} bytes`;
  const which = c.exactBytes ? ", page.ts's exact bytes" : c.pageBytes !== undefined ? ', the page it was given' : '';
  return pass(`200, a ${bytes}-byte body${which}: ${paper}`);
}

async function checkHttp10Close(c: CheckContext): Promise<Outcome> {
  const r = await get(c, { openAfterMs: 2000 });
  if (status(r.data) === 0) return fail(`GET ${c.path} HTTP/1.0 got ${describe(r)}`);
  if (r.end === 'open') return fail('kept the connection open 2 s after answering an HTTP/1.0 request that asked for no keep-alive');
  return pass(`answered ${status(r.data)} and closed the connection (${r.elapsedMs} ms in all)`);
}

async function checkKeepAlive(c: CheckContext): Promise<Outcome> {
  const conn = await Connection.open(c, c.clientTimeoutMs).catch((err: Error) => err);
  if (conn instanceof Error) return fail(`cannot connect: ${conn.message}`);
  try {
    const request = `GET ${c.path} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`;
    conn.write(request);
    const first = await conn.response(c.clientTimeoutMs);
    const got = (r: typeof first) => describe({ data: r.data, end: r.end ?? 'timeout', elapsedMs: c.clientTimeoutMs });
    if (!first.complete) return fail(`an HTTP/1.1 request got ${got(first)}`);
    const { head } = splitResponse(first.data);
    const connection = header(head, 'connection')?.toLowerCase() ?? '';
    const http11 = head.startsWith('HTTP/1.1');
    if (http11 ? connection.includes('close') : !connection.includes('keep-alive')) {
      const closes = await conn.closes(2000);
      const said = http11 ? '"Connection: close"' : 'HTTP/1.0 answer';
      return closes
        ? pass(`answered ${status(first.data)} and closed, as its ${said} said (no keep-alive)`)
        : fail(`said it would close (its ${said}) but kept the connection open 2 s`);
    }
    conn.write(request);
    const second = await conn.response(c.clientTimeoutMs);
    if (second.complete && status(second.data) === 200) return pass('kept alive: a second request on the same connection got 200');
    return fail(`its answer kept the connection alive, but a second request on it got ${got(second)}`);
  } finally {
    conn.destroy();
  }
}

async function checkHead(c: CheckContext): Promise<Outcome> {
  const r = await exchange(c, `HEAD ${c.path} HTTP/1.0\r\n\r\n`, {
    timeoutMs: c.clientTimeoutMs,
    openAfterMs: OPEN_AFTER_MS,
    noBody: true,
  });
  if (c.exactBytes && c.pageBytes !== undefined) {
    const expected = buildResponses(c.pageBytes).head;
    if (r.data.equals(expected)) return pass("page.ts's exact headers, no body");
    return fail(`expected page.ts's headers, got ${quoted(r.data, 120)}`);
  }
  if (status(r.data) !== 200) return fail(`expected 200, got ${describe(r)}`);
  const body = splitResponse(r.data).body.length;
  return body === 0 ? pass('200, headers only') : fail(`200, but with a ${body}-byte body (HEAD has none)`);
}

/** The answer to a malformed or unroutable request: page.ts's exact bytes, the exact code, or (declared) any 4xx. */
function expectError(c: CheckContext, r: Exchange, code: 400 | 404 | 405 | 431): Outcome {
  const got = errorCode(c.conformance, r.data);
  const any4xx = c.conformance.any4xx === true && code !== 404;
  if (code === 405 && got === 501 && c.conformance.notImplemented)
    return pass(`501, a declared departure: ${c.conformance.notImplemented}`);
  if (c.exactBytes && !any4xx) {
    if (r.data.equals(buildResponses()[code])) return pass(`${code}, page.ts's exact bytes`);
    return fail(`expected page.ts's ${code}, got ${describe(r)}`);
  }
  if (any4xx) return is4xx(got) ? pass(`${got} (any 4xx of its own is allowed)`) : fail(`expected a 4xx, got ${describe(r)}`);
  return got === code ? pass(String(code)) : fail(`expected ${code}, got ${describe(r)}`);
}

const checkNotFound = async (c: CheckContext) =>
  expectError(c, await exchange(c, 'GET /nope HTTP/1.0\r\n\r\n', { timeoutMs: c.clientTimeoutMs, openAfterMs: OPEN_AFTER_MS }), 404);
const checkMethod = async (c: CheckContext) =>
  expectError(c, await exchange(c, `DELETE ${c.path} HTTP/1.0\r\n\r\n`, { timeoutMs: c.clientTimeoutMs, openAfterMs: OPEN_AFTER_MS }), 405);
const checkBadRequest = async (c: CheckContext) => expectError(c, await exchange(c, 'GARBAGE\r\n\r\n', answered(closeMs(c))), 400);

/** A complete head with a 20 KB header: a 4xx (our 431 for a toy server), or the page from a server whose limit is larger. */
async function checkBigHeader(c: CheckContext): Promise<Outcome> {
  const r = await exchange(c, `GET ${c.path} HTTP/1.0\r\nX-Filler: ${'a'.repeat(20 * 1024)}\r\n\r\n`, answered(closeMs(c)));
  if (c.strictCodes && !c.conformance.ownHeadLimit) return expectError(c, r, 431);
  const got = errorCode(c.conformance, r.data);
  if (is4xx(got)) return pass(`${got}: its head limit is under 20 KB`);
  if (got === 200 && !pageProblem(c, r)) return pass('served the page: its head limit is above 20 KB');
  return fail(`expected a 4xx or the page, got ${describe(r)}`);
}

/** An unfinished head over 8 KiB: answered with a 4xx (431 from a toy server) or closed, within a bound. */
async function checkUnfinishedHead(c: CheckContext): Promise<Outcome> {
  const strict = c.strictCodes && !c.conformance.ownHeadLimit;
  const boundMs = strict ? closeMs(c) : Math.max(closeMs(c), c.idleBoundMs);
  const r = await exchange(c, `GET ${c.path} HTTP/1.0\r\nX-Filler: ${'a'.repeat(MAX_HEAD_BYTES + 1024)}\r\n`, answered(boundMs));
  if (r.end === 'timeout') return fail(`neither answered nor closed within ${seconds(boundMs)} s`);
  if (r.end === 'refused') return fail(describe(r));
  if (r.data.length === 0 && !strict) return pass(`closed without an answer after ${seconds(r.elapsedMs)} s`);
  if (strict) return expectError(c, r, 431);
  const got = errorCode(c.conformance, r.data);
  return is4xx(got) ? pass(`${got} after ${r.elapsedMs} ms`) : fail(`expected a 4xx or a close, got ${describe(r)}`);
}

async function checkConcurrent(c: CheckContext): Promise<Outcome> {
  const all = await Promise.all(Array.from({ length: c.atOnce }, () => get(c)));
  const bad = all.map((r) => pageProblem(c, r)).filter((p) => p !== undefined);
  const slowest = Math.max(...all.map((r) => r.elapsedMs));
  if (bad.length > 0) return fail(`${bad.length} of ${c.atOnce} did not get the page (first: ${bad[0]})`);
  return pass(`${c.atOnce} of ${c.atOnce} got the page, the slowest in ${slowest} ms`);
}

async function checkSilentClient(c: CheckContext): Promise<Outcome> {
  const floorMs = c.idleTimeoutS !== undefined ? c.idleTimeoutS * 1000 * 0.9 : 0;
  const silent = exchange(c, undefined, { timeoutMs: c.idleBoundMs + 2_000 });
  const partial = exchange(c, `GET ${c.path} HTTP/1.0\r\nHost: x\r\n`, { timeoutMs: c.idleBoundMs + 2_000 });
  for (let i = 0; i < 10; i++) {
    const problem = pageProblem(c, await get(c));
    if (problem) return fail(`while two clients were silent, client ${i} did not get the page: ${problem}`);
  }
  const ends = [await silent, await partial];
  for (const [i, r] of ends.entries()) {
    const who = i === 0 ? 'a client that sent nothing' : 'a client that sent half a head';
    if (r.end === 'refused') return fail(`${who}: ${describe(r)}`);
    if (r.end === 'timeout' || r.elapsedMs >= c.idleBoundMs) return fail(`${who} was still open after ${seconds(c.idleBoundMs)} s`);
    if (r.elapsedMs < floorMs) return fail(`${who} was closed after ${r.elapsedMs} ms, before the ${c.idleTimeoutS} s idle timeout`);
    const code = errorCode(c.conformance, r.data);
    if (r.data.length > 0 && !is4xx(code)) return fail(`${who} got ${describe(r)}, not nothing or a 4xx`);
  }
  const after = `${seconds(ends[0]!.elapsedMs)} s and ${seconds(ends[1]!.elapsedMs)} s (bound ${seconds(c.idleBoundMs)} s)`;
  return pass(`closed after ${after}; 10 others were served meanwhile`);
}

/** Slow clients this check holds open, each sending one more header line every SLOWLORIS_TICK_MS. */
export const SLOWLORIS_CLIENTS = 50;
const SLOWLORIS_TICK_MS = 250;
/** While they trickle, one ordinary client must get the page within this long (a quarter of the time 200 clients get). */
const SLOWLORIS_BOUND_MS = 3_000;

async function checkSlowloris(c: CheckContext): Promise<Outcome> {
  const sockets: net.Socket[] = [];
  let closedByServer = 0;
  const tick = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('X-Slow: 1\r\n');
  }, SLOWLORIS_TICK_MS);
  try {
    for (let i = 0; i < SLOWLORIS_CLIENTS; i++) {
      const s = net.connect({ host: c.host, port: c.port }, () => s.write(`GET ${c.path} HTTP/1.1\r\nHost: x\r\n`));
      s.on('error', () => {});
      s.on('close', () => {
        closedByServer += 1;
      });
      sockets.push(s);
    }
    await sleep(SLOWLORIS_TICK_MS);
    // A thread or process per connection starts one for each slow client first: 50 V8 isolates took 10 s here.
    const bound = Math.max(SLOWLORIS_BOUND_MS, c.clientTimeoutMs / 4);
    const r = await get(c, { timeoutMs: bound });
    const problem = pageProblem(c, r);
    const held = `${SLOWLORIS_CLIENTS} clients trickled a header line every ${SLOWLORIS_TICK_MS} ms (it closed ${closedByServer} of them)`;
    return problem
      ? fail(`an ordinary client: ${problem}, while ${held}`)
      : pass(`an ordinary client got the page in ${r.elapsedMs} ms while ${held}`);
  } finally {
    clearInterval(tick);
    for (const s of sockets) s.destroy();
  }
}

async function checkResets(c: CheckContext): Promise<Outcome> {
  await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect({ port: c.port, host: c.host }, () => {
            s.write('GET / HT');
            setTimeout(() => {
              s.resetAndDestroy();
              resolve();
            }, 5);
          });
          s.on('error', () => resolve());
        }),
    ),
  );
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
  const bound = Math.max(closeMs(c), c.exactBytes ? 0 : c.idleBoundMs);
  const [bin, blank, whole, half, empty] = await Promise.all([
    exchange(c, binary, answered(bound)),
    exchange(c, '\r\n\r\n', answered(bound)),
    exchange(c, `GET ${c.path} HTTP/1.0\r\n\r\n`, { halfClose: true, timeoutMs: c.clientTimeoutMs }),
    exchange(c, `GET ${c.path} HTTP/1.0\r\n`, { halfClose: true, timeoutMs: bound }),
    exchange(c, '', { halfClose: true, timeoutMs: bound }),
  ]);
  const wholeProblem = pageProblem(c, whole!);
  if (wholeProblem) return fail(`a GET then a half-close: ${wholeProblem}`);
  const named: [string, Exchange][] = [
    ['4 KiB of binary', bin!],
    ['a blank head', blank!],
    ['half a head, then a half-close', half!],
    ['nothing, then a half-close', empty!],
  ];
  for (const [what, r] of named) {
    if (r.end === 'timeout') return fail(`${what}: neither answered nor closed within ${seconds(bound)} s`);
    if (r.end === 'refused') return fail(`${what}: ${describe(r)}`);
    // A server of its own may take the end of the stream for the end of the head (http.server does) and serve it;
    // a built-in one only where it declares so (mini_httpd).
    if (r === half && (!c.strictCodes || c.conformance.eofEndsHead) && !pageProblem(c, r)) continue;
    if (r.data.length > 0 && !is4xx(errorCode(c.conformance, r.data)))
      return fail(`${what}: expected a 4xx or a close, got ${describe(r)}`);
  }
  const after = pageProblem(c, await get(c));
  if (after) return fail(`after 20 resets and the garbage: ${after}`);
  return pass('20 resets mid-request, binary, blank and half-closed requests: each got a 4xx or a close, and the page is still served');
}

/** Open descriptors of `pid` and all its descendants. */
export function descriptorCount(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += readdirSync(`/proc/${p}/fd`).length;
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

/** The descriptor count once it stops moving (two looks 200 ms apart agree), within `withinMs`. */
async function settledDescriptors(pid: number, withinMs: number): Promise<number> {
  let last = descriptorCount(pid);
  for (const deadline = Date.now() + withinMs; Date.now() < deadline; ) {
    await sleep(200);
    const now = descriptorCount(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

async function checkDescriptors(c: CheckContext): Promise<Outcome> {
  if (c.pid === undefined) return notApplicable("needs the server's process: a URL gives none");
  if (!alive(c.pid)) return fail('its process is gone: it exited while it was checked');
  const baseline = await settledDescriptors(c.pid, Math.max(2_000, c.idleBoundMs));
  let failed = 0;
  for (let done = 0; done < c.connections; done += 50) {
    const wave = await Promise.all(Array.from({ length: Math.min(50, c.connections - done) }, () => get(c)));
    failed += wave.filter((r) => status(r.data) !== 200).length;
  }
  let now = descriptorCount(c.pid);
  for (let waited = 0; now > baseline && waited < 3_000; waited += 100) {
    await sleep(100);
    now = descriptorCount(c.pid);
  }
  if (!alive(c.pid)) return fail(`its process exited during the ${c.connections} connections`);
  const served = failed > 0 ? ` (${failed} of them got no page)` : '';
  return now <= baseline
    ? pass(`${now} open descriptors after ${c.connections} connections${served}, ${baseline} before`)
    : fail(`${now} open descriptors after ${c.connections} connections${served}, ${baseline} before: ${now - baseline} more, 3 s later`);
}

async function checkAlive(c: CheckContext): Promise<Outcome> {
  if (c.pid !== undefined && !alive(c.pid)) return fail('its process is gone: it exited while it was checked');
  const problem = pageProblem(c, await get(c));
  return problem ? fail(`at the end: ${problem}`) : pass(`still serves the page${c.pid !== undefined ? ', its process still runs' : ''}`);
}

export const CHECKS: readonly Check[] = [
  { id: 'page', title: 'the page', short: true, run: checkPage },
  { id: 'http10-close', title: 'HTTP/1.0, then close', short: true, run: checkHttp10Close },
  { id: 'keep-alive', title: 'HTTP/1.1 keep-alive', short: true, run: checkKeepAlive },
  { id: 'head', title: 'HEAD', short: false, run: checkHead },
  { id: 'not-found', title: '404 for another path', short: true, run: checkNotFound },
  { id: 'method', title: '405 for another method', short: true, run: checkMethod },
  { id: 'bad-request', title: '400 for a bad request line', short: true, run: checkBadRequest },
  { id: 'big-header', title: 'a 20 KB header', short: false, run: checkBigHeader },
  { id: 'unfinished-head', title: 'an unfinished head over 8 KiB', short: false, waitsOnIdle: true, run: checkUnfinishedHead },
  { id: 'concurrent', title: 'clients at once', short: false, run: checkConcurrent },
  { id: 'silent-client', title: 'silent clients closed', short: false, waitsOnIdle: true, run: checkSilentClient },
  { id: 'slowloris', title: `${SLOWLORIS_CLIENTS} slowloris clients`, short: false, run: checkSlowloris },
  { id: 'resets', title: 'resets and garbage mid-request', short: false, waitsOnIdle: true, run: checkResets },
  { id: 'descriptors', title: 'no descriptor growth', short: false, run: checkDescriptors },
  { id: 'alive', title: 'still alive at the end', short: true, run: checkAlive },
];

/** One check's outcome, or not applicable when the model declares it a limit of its own; a thrown error is a failure. */
export async function runCheck(check: Check, c: CheckContext): Promise<Outcome> {
  const limit = c.conformance.limits?.[check.id];
  if (limit) return notApplicable(`a known limit: ${limit}`);
  try {
    return await check.run(c);
  } catch (err) {
    return fail(`the check itself failed: ${(err as Error).message}`);
  }
}
