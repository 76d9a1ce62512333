// The `events-epoll` model, answering the paper's hand-written event-driven servers (thttpd, lighttpd, Polipo) as
// native-epoll does, and in its words: native/eventloop.c and epoll.c in TypeScript, over the system calls
// themselves. One thread; one epoll set watching the non-blocking listener and every connection; the listener
// drained with accept4 at each turn and each fresh connection read at once; one read buffer for all; connections
// in a list by when they last made progress, so that epoll_wait sleeps until the oldest is due to expire. No libuv
// handle, no stream, no promise, no buffer per request (the shared request rules, request.ts, still read the request
// line as a string): accept4, epoll_ctl, read, write and close through the runtime's FFI (core/ffi.ts).
// Why: events-uv and events run on the runtime's own event loop, so next to native-epoll they cannot say how much
// of their gap is TypeScript and how much the runtime's I/O layers. This one makes native-epoll's system calls in
// native-epoll's order: what is left between the two is the language and its FFI.
// The loop blocks in epoll_wait, so it has a worker thread to itself; the main thread stays free for `serve`'s
// signals, and stops the loop by writing to an eventfd the loop watches.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import * as sys from '../core/syscalls.js';
import { openFilesLimit } from '../core/open-files.js';
import type { RunningServer, ServeOptions, ServerModel } from './types.js';
import { buildResponses, type Responses } from './page.js';
import { MAX_HEAD_BYTES, answer } from './request.js';
import { effectiveBacklog } from './listen.js';
import { EVERY_RUNTIME } from './runtime.js';

const ROLE = 'eventbench-events-epoll';
type LoopData = { role: typeof ROLE; listenFd: number; stopFd: number } & Pick<ServeOptions, 'pageBytes' | 'idleTimeoutMs'>;
const [FREE, READING, WRITING, DRAINING] = [0, 1, 2, 3];
/** Bytes one read asks for: a head up to the limit and one more, as native-epoll's HEAD_BUF_BYTES. */
const READ_BYTES = MAX_HEAD_BYTES + 1;

// The loop's state, as eventloop.c's statics; set in the worker thread only. Each connection's own is indexed by its
// descriptor (the table is sized to the open-files limit, which bounds every descriptor; untouched pages cost no
// memory). The idle list's links hold fd + 1, so that 0 is "none" and the table starts zeroed.
let d: LoopData, ffi: sys.Ffi, c: sys.Ffi['calls'], set: sys.EpollSet, buf: sys.Pinned, responses: Responses;
let addressOf: Map<Uint8Array, number>; // where each response lies in memory the FFI writes from
let [nowMs, size, oldest, newest] = [0, 0, 0, 0];
let state: Uint8Array, sent: Int32Array, prev: Int32Array, next: Int32Array, deadlineMs: Float64Array; // sent: while WRITING
const pending: (Uint8Array | undefined)[] = []; // a head that came in pieces (rare: a request usually arrives whole)
const response: (Buffer | undefined)[] = [];

/** Takes fd off the idle list, if it is on it. */
function forget(fd: number): void {
  const p = prev[fd]!;
  const n = next[fd]!;
  if (p === 0 && oldest !== fd + 1) return;
  if (p) next[p - 1] = n;
  else oldest = n;
  if (n) prev[n - 1] = p;
  else newest = p;
  prev[fd] = next[fd] = 0;
}

/** Progress: fd moves (or comes back) to the young end of the idle list. */
function touch(fd: number): void {
  forget(fd);
  deadlineMs[fd] = nowMs + d.idleTimeoutMs;
  prev[fd] = newest;
  if (newest) next[newest - 1] = fd + 1;
  else oldest = fd + 1;
  newest = fd + 1;
}

function finish(fd: number): void {
  forget(fd);
  state[fd] = FREE;
  pending[fd] = response[fd] = undefined;
  c.close(fd); // which also takes it out of the epoll set
}

const wouldBlock = (errno = ffi.errno()): boolean => errno === sys.EAGAIN || errno === sys.EINTR;

/** READING: reads until the head is complete (then WRITING: true) or the socket has nothing more (false). */
function readHead(fd: number): boolean {
  for (;;) {
    const n = c.read(fd, buf.addr, READ_BYTES);
    if (n < 0 && wouldBlock()) return false;
    if (n <= 0) {
      finish(fd); // closed or reset before a full head: nothing to answer
      return false;
    }
    touch(fd);
    const before = pending[fd];
    const head = before ? Buffer.concat([before, buf.bytes.subarray(0, n)]) : buf.bytes.subarray(0, n);
    const r = answer(head, responses);
    if (r === undefined) {
      pending[fd] = before ? head : new Uint8Array(head); // a copy: the read buffer is the next read's
      continue;
    }
    pending[fd] = undefined;
    response[fd] = r;
    sent[fd] = 0;
    state[fd] = WRITING;
    return true;
  }
}

/** Runs a connection as far as it can go without blocking. */
function step(fd: number) {
  if (state[fd] === READING && !readHead(fd)) return;
  if (state[fd] === WRITING) {
    const r = response[fd]!;
    const at = addressOf.get(r)!;
    while (sent[fd]! < r.length) {
      const n = c.write(fd, at + sent[fd]!, r.length - sent[fd]!);
      if (n < 0 && wouldBlock()) return set.control(sys.EPOLL_CTL_MOD, fd, sys.EPOLLOUT);
      if (n < 0) return finish(fd);
      touch(fd);
      sent[fd] = sent[fd]! + n;
    }
    if (r !== responses[431]) return finish(fd);
    c.shutdown(fd, sys.SHUT_WR); // let the client read the answer before the close resets it
    state[fd] = DRAINING;
    set.control(sys.EPOLL_CTL_MOD, fd, sys.EPOLLIN);
  }
  // DRAINING: what a client still sends after a 431, until it closes or goes silent
  for (;;) {
    const n = c.read(fd, buf.addr, READ_BYTES);
    if (n < 0 && wouldBlock()) return;
    if (n <= 0) return finish(fd);
    touch(fd);
  }
}

/** A fresh connection is read at once: its request has usually arrived before accept returned. */
function acceptAll(): void {
  for (;;) {
    const fd = c.accept4(d.listenFd, 0, 0, sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC);
    if (fd < 0) return; // EAGAIN; out of descriptors too: the listener stays readable, retried next turn
    if (fd >= size) {
      c.close(fd); // past the 2^20 descriptors the table holds
      continue;
    }
    state[fd] = READING;
    set.control(sys.EPOLL_CTL_ADD, fd, sys.EPOLLIN);
    touch(fd);
    step(fd);
  }
}

/** The worker thread: serves the listener until the stop descriptor is written, then closes everything. */
function run(data: LoopData): void {
  [d, ffi] = [data, sys.ffi()];
  [c, set, buf] = [ffi.calls, new sys.EpollSet(ffi), ffi.pin(READ_BYTES)];
  size = Math.min(openFilesLimit() ?? 65_536, 1 << 20);
  const table = <T>(Kind: new (n: number) => T): T => new Kind(size);
  [state, sent, prev, next, deadlineMs] = [table(Uint8Array), table(Int32Array), table(Int32Array), table(Int32Array), table(Float64Array)];
  responses = buildResponses(d.pageBytes);
  addressOf = sys.pinnedCopies(ffi, Object.values(responses));
  set.control(sys.EPOLL_CTL_ADD, d.listenFd, sys.EPOLLIN);
  set.control(sys.EPOLL_CTL_ADD, d.stopFd, sys.EPOLLIN);
  for (;;) {
    const n = set.wait(oldest ? Math.max(0, Math.ceil(deadlineMs[oldest - 1]! - nowMs)) : -1);
    nowMs = performance.now();
    for (let i = 0; i < n; i++) {
      const fd = set.dataOf(i);
      if (fd === d.listenFd) acceptAll();
      else if (fd === d.stopFd) {
        while (oldest) finish(oldest - 1);
        for (const done of [d.listenFd, d.stopFd, set.fd]) c.close(done);
        return;
      } else if (state[fd] !== FREE) step(fd);
    }
    while (oldest && deadlineMs[oldest - 1]! <= nowMs) finish(oldest - 1); // idle too long
  }
}

async function start(options: ServeOptions): Promise<RunningServer> {
  const f = sys.ffi();
  const host = options.host === 'localhost' ? '127.0.0.1' : options.host;
  const { fd: listenFd, port } = sys.listenTcp(f, host, options.port, options.backlog);
  const stopFd = sys.wakeFd(f);
  const { pageBytes, idleTimeoutMs } = options;
  const thread = new Worker(new URL(import.meta.url), { workerData: { role: ROLE, listenFd, stopFd, pageBytes, idleTimeoutMs } });
  const exited = once(thread, 'exit');
  const ended = new Promise<string>((resolve) => thread.once('error', (err) => resolve(`its event loop failed: ${err.message}`)));
  await once(thread, 'online');
  const { backlog, notes } = effectiveBacklog(options.backlog);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    effectiveBacklog: backlog,
    notes,
    ended,
    close() {
      if (!closing) sys.wake(f, stopFd);
      closing ??= exited.then(() => {});
      return closing;
    },
  };
}

export const eventsEpoll: ServerModel = {
  name: 'events-epoll',
  family: 'typescript',
  runtimes: EVERY_RUNTIME,
  paperRow: 'thttpd',
  connection: 'event',
  slow: false,
  summary: "native-epoll's loop in TypeScript: epoll(7), accept4, read, write and close through the FFI, no libuv",
  async available() {
    try {
      sys.ffi();
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: String(error), hint: 'needs Linux, and koffi under Node (npm ci)' };
    }
  },
  start,
};

if (!isMainThread && (workerData as LoopData | undefined)?.role === ROLE) run(workerData as LoopData);
