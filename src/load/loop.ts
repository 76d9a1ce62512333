// The closed loop: `concurrency` slots, each with exactly one request in flight; the moment a request ends (served
// or failed) its slot starts the next. One fresh TCP connection per request, as ApacheBench does, or reused
// HTTP/1.1 connections in keep-alive mode. Every request gets a record (records.ts); errors are counted, never thrown.
import { Records, ERROR_CODE } from './records.js';
import { transport as pickTransport, type Transport, type TransportChoice, type TransportSink } from './transport.js';
import type { Progress } from './types.js';

export interface LoopOptions {
  host: string;
  port: number;
  /** The request bytes, sent as one write. */
  request: Buffer;
  /** A HEAD request: a response ends at its blank line. */
  head: boolean;
  concurrency: number;
  requests?: number;
  durationS?: number;
  timeoutS: number;
  keepalive: boolean;
  bailout?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  transport?: TransportChoice;
}

export interface LoopOutcome {
  records: Records;
  /** Body length of the first 2xx response (ab's "Document Length"), or null if none came. */
  documentBytes: number | null;
  stoppedEarly?: 'bailout' | 'aborted' | 'server-gone' | 'record-limit';
  transport: Transport['name'];
}

const HEAD_CAP = 16 * 1024;
/**
 * A synchronous transport (epoll) is polled in slices this long, ms: between two, Node's event loop runs the loop's
 * tick (timeouts, progress) and its abort signal. One turn of Node's loop costs microseconds: 0.1% of a slice.
 */
const POLL_SLICE_MS = 5;
const { connect: E_CONNECT, reset: E_RESET, timeout: E_TIMEOUT, status: E_STATUS, length: E_LENGTH, other: E_OTHER } = ERROR_CODE;

/** One in-flight request's parse state; reused for every request the slot makes. */
export class Slot implements TransportSink {
  conn: object | null = null;
  rec = -1;
  deadlineMs = Infinity;
  bytes = 0;
  body = 0;
  /** Progress through CR LF CR LF, 0..4. */
  crlf = 0;
  headDone = false;
  status = 0;
  contentLength = -1;
  serverCloses = false;
  readonly prefix = Buffer.alloc(12);
  head: Buffer | null = null;
  headLen = 0;
  constructor(
    readonly id: number,
    readonly loop: Loop,
  ) {}
  reset(rec: number, deadlineMs: number) {
    this.rec = rec;
    this.deadlineMs = deadlineMs;
    this.bytes = this.body = this.crlf = this.status = this.headLen = 0;
    this.headDone = this.serverCloses = false;
    this.contentLength = -1;
  }
  connected(conn: object) {
    this.loop.connected(this, conn);
  }
  data(conn: object, buf: Buffer, n: number) {
    this.loop.data(this, conn, buf, n);
  }
  ended(conn: object, errno: number, whileConnecting: boolean) {
    this.loop.ended(this, conn, errno, whileConnecting);
  }
}

/** The closed loop; the open loop (open-loop.ts) extends it, replacing only when requests start. */
export class Loop {
  readonly records: Records;
  readonly transport: Transport;
  readonly slots: Slot[] = [];
  documentBytes: number | null = null;
  stoppedEarly: LoopOutcome['stoppedEarly'];
  started = 0;
  completed = 0;
  inflight = 0;
  errors = 0;
  connectErrorsInARow = 0;
  stopping = false;
  readonly t0 = performance.now();
  readonly endByMs: number;
  readonly timeoutMs: number;
  goneAfter: number;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  protected done!: () => void;

  constructor(readonly o: LoopOptions) {
    this.records = new Records(Math.min(o.requests ?? 1 << 16, 1 << 24));
    this.transport = pickTransport(o.transport);
    this.endByMs = o.durationS === undefined ? Infinity : this.t0 + o.durationS * 1000;
    this.timeoutMs = o.timeoutS * 1000;
    // A refused connect per slot in a row, and then some: the server is gone, not merely slow.
    this.goneAfter = Math.max(20, o.concurrency);
  }

  run(): Promise<void> {
    return new Promise((resolve) => {
      this.done = resolve;
      const tickMs = Math.max(10, Math.min(100, this.timeoutMs / 10));
      this.timer = setInterval(() => this.tick(), tickMs);
      this.o.signal?.addEventListener('abort', () => this.stop('aborted'), { once: true });
      if (this.o.signal?.aborted) return this.stop('aborted');
      this.startAll();
      if (this.transport.poll && !this.finished) setImmediate(this.drive);
    });
  }

  /** Polls a synchronous transport in slices, each ending early when something is due on Node's clock. */
  private readonly drive = (): void => {
    if (this.finished) return;
    const sliceEndMs = performance.now() + POLL_SLICE_MS;
    const wakeAtMs = this.wakeAtMs();
    // Exact when something is due before a slice's end rounded up to the millisecond could pass.
    this.transport.poll!(Math.min(sliceEndMs, wakeAtMs), wakeAtMs < sliceEndMs + 1);
    if (!this.finished) setImmediate(this.drive);
  };

  /** When this loop next has something to do on Node's clock (the open loop: its next request); polls end there. */
  protected wakeAtMs(): number {
    return Number.POSITIVE_INFINITY;
  }

  /** The closed loop's start: `concurrency` slots, each starting its first request at once. */
  protected startAll(): void {
    for (let i = 0; i < this.o.concurrency; i++) this.slots.push(new Slot(i, this));
    for (const slot of this.slots) this.startNext(slot);
  }

  startNext(slot: Slot): void {
    const now = performance.now();
    if (this.stopping || (this.o.requests !== undefined && this.started >= this.o.requests) || now >= this.endByMs) {
      this.release(slot);
      if (this.inflight === 0) this.finish();
      return;
    }
    const rec = this.records.open(now, slot.id);
    if (rec < 0) {
      this.stop('record-limit');
      return;
    }
    this.begin(slot, rec, now);
  }

  /** Sends request `rec` from `slot`: on its kept-alive connection, or on a new one. */
  protected begin(slot: Slot, rec: number, now: number): void {
    this.started++;
    this.inflight++;
    slot.reset(rec, now + this.timeoutMs);
    if (slot.conn) {
      this.records.connected[rec] = now;
      if (!this.transport.write(slot.conn, this.o.request)) this.fail(slot, E_OTHER);
    } else {
      slot.conn = this.transport.connect(this.o.host, this.o.port, slot);
    }
  }

  connected(slot: Slot, conn: object): void {
    if (conn !== slot.conn || slot.rec < 0) return;
    this.records.connected[slot.rec] = performance.now();
    if (!this.transport.write(conn, this.o.request)) this.fail(slot, E_OTHER);
  }

  data(slot: Slot, conn: object, buf: Buffer, n: number): void {
    const rec = slot.rec;
    if (conn !== slot.conn || rec < 0) return;
    if (slot.bytes === 0) this.records.firstByte[rec] = performance.now();
    let i = 0;
    if (!slot.headDone) {
      let crlf = slot.crlf;
      const seen = slot.bytes;
      for (; i < n; i++) {
        const c = buf[i]!;
        if (seen + i < 12) slot.prefix[seen + i] = c;
        crlf = c === 13 ? (crlf === 2 ? 3 : 1) : c === 10 ? (crlf === 1 ? 2 : crlf === 3 ? 4 : 0) : 0;
        if (crlf === 4) {
          i++;
          break;
        }
      }
      slot.crlf = crlf;
      if (this.o.keepalive) this.keepHead(slot, buf, i);
      if (slot.crlf === 4) this.headParsed(slot, slot.bytes + i);
      else if (slot.bytes + n > HEAD_CAP) {
        this.fail(slot, E_OTHER);
        return;
      }
    }
    slot.body += n - i;
    slot.bytes += n;
    if (this.o.keepalive && slot.headDone && (this.o.head || (slot.contentLength >= 0 && slot.body >= slot.contentLength))) {
      this.complete(slot);
    }
  }

  /** Keep-alive needs the header fields (Content-Length, Connection), so it keeps the head's bytes. */
  private keepHead(slot: Slot, buf: Buffer, upto: number): void {
    slot.head ??= Buffer.allocUnsafe(HEAD_CAP);
    const take = Math.min(upto, HEAD_CAP - slot.headLen);
    buf.copy(slot.head, slot.headLen, 0, take);
    slot.headLen += take;
  }

  private headParsed(slot: Slot, headBytes: number): void {
    slot.headDone = true;
    const p = slot.prefix;
    // "HTTP/1.x NNN": the status is bytes 9 to 11.
    const valid = headBytes >= 12 && p[0] === 72 && p[4] === 47 && p[9]! >= 48 && p[9]! <= 57;
    slot.status = valid ? (p[9]! - 48) * 100 + (p[10]! - 48) * 10 + (p[11]! - 48) : 0;
    if (this.o.keepalive && slot.head) {
      const text = slot.head.toString('latin1', 0, slot.headLen);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      slot.contentLength = length ? Number(length[1]) : -1;
      slot.serverCloses =
        /\r\nconnection:\s*close/i.test(text) || (text.startsWith('HTTP/1.0') && !/\r\nconnection:\s*keep-alive/i.test(text));
    }
  }

  ended(slot: Slot, conn: object, errno: number, whileConnecting: boolean): void {
    if (conn !== slot.conn) return;
    if (slot.rec < 0) {
      this.release(slot); // an idle keep-alive connection closed by the server
      return;
    }
    if (errno === 0 && slot.headDone) {
      slot.serverCloses = true;
      this.complete(slot);
      return;
    }
    this.fail(slot, whileConnecting ? E_CONNECT : E_RESET);
  }

  /** A response arrived in full: classify it (ab's rules) and move on. */
  private complete(slot: Slot): void {
    let code = 0;
    if (slot.status < 200 || slot.status > 299) code = E_STATUS;
    else if (slot.contentLength >= 0 && slot.body !== slot.contentLength && !this.o.head) code = E_LENGTH;
    else if (this.documentBytes === null) this.documentBytes = slot.body;
    else if (slot.body !== this.documentBytes) code = E_LENGTH;
    this.settle(slot, code);
    if (!this.o.keepalive || slot.serverCloses) this.release(slot);
    this.afterSettle(slot);
  }

  fail(slot: Slot, code: number): void {
    this.settle(slot, code);
    this.release(slot);
    this.afterSettle(slot);
  }

  private settle(slot: Slot, code: number): void {
    const i = slot.rec;
    const r = this.records;
    r.end[i] = performance.now();
    r.status[i] = slot.status;
    r.bytes[i] = slot.bytes;
    r.body[i] = slot.body;
    r.error[i] = code;
    slot.rec = -1;
    this.inflight--;
    this.completed++;
    if (code !== 0) this.errors++;
    this.connectErrorsInARow = code === E_CONNECT ? this.connectErrorsInARow + 1 : 0;
  }

  protected afterSettle(slot: Slot): void {
    if (this.o.bailout !== undefined && this.errors >= this.o.bailout) {
      this.stop('bailout');
      return;
    }
    if (this.connectErrorsInARow >= this.goneAfter) {
      this.stop('server-gone');
      return;
    }
    this.startNext(slot);
  }

  release(slot: Slot): void {
    if (slot.conn) this.transport.close(slot.conn);
    slot.conn = null;
  }

  /** Ends the run now: in-flight requests are closed and stay unfinished in the records (end = NaN). */
  stop(reason: NonNullable<LoopOutcome['stoppedEarly']>): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stoppedEarly = reason;
    for (const slot of this.slots) {
      if (slot.rec >= 0) {
        slot.rec = -1;
        this.inflight--;
      }
      this.release(slot);
    }
    this.finish();
  }

  private tick(): void {
    const now = performance.now();
    for (const slot of this.slots) if (slot.rec >= 0 && now > slot.deadlineMs) this.fail(slot, E_TIMEOUT);
    this.o.onProgress?.({
      started: this.started,
      completed: this.completed,
      errors: this.errors,
      elapsedS: (now - this.t0) / 1000,
      total: this.o.requests,
      durationS: this.o.durationS,
    });
  }

  protected finish(): void {
    if (this.inflight > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.finished = true;
    this.transport.interrupt?.();
    this.done?.();
  }
}

/** Runs the closed loop to its end (count, time, bailout, abort or a vanished server) and returns its records. */
export async function runLoop(options: LoopOptions): Promise<LoopOutcome> {
  const loop = new Loop(options);
  await loop.run();
  return { records: loop.records, documentBytes: loop.documentBytes, stoppedEarly: loop.stoppedEarly, transport: loop.transport.name };
}
