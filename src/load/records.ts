// Per-request records, in start order, in typed arrays: 47 bytes a request (four float64 times, status, bytes,
// error kind, connection slot, body bytes), so a million requests take about 47 MB and no object is allocated per request.
import type { ErrorKind } from './types.js';

/** Bytes of memory each recorded request takes. */
export const BYTES_PER_RECORD = 4 * 8 + 2 + 4 + 1 + 4 + 4;
/** Records a time-bound run may hold before it stops with stoppedEarly = "record-limit" (about 450 MB). */
export const MAX_RECORDS = 10_000_000;

/** Error codes stored per record; 0 is success. */
export const ERROR_CODE: Record<ErrorKind, number> = { connect: 1, reset: 2, timeout: 3, status: 4, length: 5, other: 6, inflight: 7 };
export const ERROR_NAME: readonly (ErrorKind | undefined)[] = [
  undefined,
  'connect',
  'reset',
  'timeout',
  'status',
  'length',
  'other',
  'inflight',
];

/**
 * Times are milliseconds on the monotonic clock (performance.now(), microsecond resolution), absolute to
 * performance.timeOrigin of the thread that measured them; `merge` rebases worker threads' records.
 * A phase that never happened (no connect, no byte) is NaN.
 */
export class Records {
  length = 0;
  start: Float64Array;
  connected: Float64Array;
  firstByte: Float64Array;
  end: Float64Array;
  status: Uint16Array;
  bytes: Uint32Array;
  error: Uint8Array;
  slot: Uint32Array;
  /** Body bytes (response minus head), for length checks: Uint16 would be too small for big pages. */
  body: Uint32Array;

  constructor(capacity: number) {
    this.start = new Float64Array(capacity);
    this.connected = new Float64Array(capacity);
    this.firstByte = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.status = new Uint16Array(capacity);
    this.bytes = new Uint32Array(capacity);
    this.error = new Uint8Array(capacity);
    this.slot = new Uint32Array(capacity);
    this.body = new Uint32Array(capacity);
  }

  get capacity(): number {
    return this.start.length;
  }

  /** Opens the record of a new request and returns its index, or -1 at MAX_RECORDS. */
  open(startMs: number, slot: number): number {
    if (this.length === this.capacity) {
      if (this.capacity >= MAX_RECORDS) return -1;
      this.grow(Math.min(MAX_RECORDS, this.capacity * 2));
    }
    const i = this.length++;
    this.start[i] = startMs;
    this.connected[i] = NaN;
    this.firstByte[i] = NaN;
    this.end[i] = NaN;
    this.slot[i] = slot;
    return i;
  }

  private grow(capacity: number): void {
    const grow = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(capacity);
      b.set(a);
      return b;
    };
    this.start = grow(this.start);
    this.connected = grow(this.connected);
    this.firstByte = grow(this.firstByte);
    this.end = grow(this.end);
    this.status = grow(this.status);
    this.bytes = grow(this.bytes);
    this.error = grow(this.error);
    this.slot = grow(this.slot);
    this.body = grow(this.body);
  }

  /** The arrays cut to length, for sending to another thread. */
  toTransfer(): RecordsData {
    const n = this.length;
    return {
      length: n,
      start: this.start.slice(0, n),
      connected: this.connected.slice(0, n),
      firstByte: this.firstByte.slice(0, n),
      end: this.end.slice(0, n),
      status: this.status.slice(0, n),
      bytes: this.bytes.slice(0, n),
      error: this.error.slice(0, n),
      slot: this.slot.slice(0, n),
      body: this.body.slice(0, n),
    };
  }

  /**
   * Merges records from several threads into one set in start order. `offsets[k]` is added to part k's times
   * (its timeOrigin minus ours); `slotBase[k]` to its slots, so slots stay distinct across threads.
   */
  static merge(parts: RecordsData[], offsets: number[], slotBase: number[]): Records {
    const total = parts.reduce((s, p) => s + p.length, 0);
    const order: [number, number][] = [];
    parts.forEach((p, k) => {
      for (let i = 0; i < p.length; i++) order.push([k, i]);
    });
    const startOf = ([k, i]: [number, number]) => parts[k]!.start[i]! + offsets[k]!;
    order.sort((a, b) => startOf(a) - startOf(b));
    const out = new Records(Math.max(1, total));
    for (const [k, i] of order) {
      const p = parts[k]!;
      const o = offsets[k]!;
      const j = out.length++;
      out.start[j] = p.start[i]! + o;
      out.connected[j] = p.connected[i]! + o;
      out.firstByte[j] = p.firstByte[i]! + o;
      out.end[j] = p.end[i]! + o;
      out.status[j] = p.status[i]!;
      out.bytes[j] = p.bytes[i]!;
      out.error[j] = p.error[i]!;
      out.slot[j] = p.slot[i]! + slotBase[k]!;
      out.body[j] = p.body[i]!;
    }
    return out;
  }
}

/** A Records' data without its methods: what a worker thread posts back (structured clone keeps typed arrays). */
export type RecordsData = Pick<
  Records,
  'length' | 'start' | 'connected' | 'firstByte' | 'end' | 'status' | 'bytes' | 'error' | 'slot' | 'body'
>;

/** The arrays of a RecordsData, in one order, for whoever copies them all (transfer lists, the agents' wire format). */
export const RECORD_ARRAYS = ['start', 'connected', 'firstByte', 'end', 'status', 'bytes', 'error', 'slot', 'body'] as const;

/** RecordsData as JSON: each array's bytes in base64 (an agent's records cross SSH this way: src/host/agent.ts). */
export type EncodedRecords = { length: number } & Record<(typeof RECORD_ARRAYS)[number], string>;

export function encodeRecords(r: RecordsData): EncodedRecords {
  const out = { length: r.length } as EncodedRecords;
  for (const name of RECORD_ARRAYS) {
    const a = r[name].subarray(0, r.length);
    out[name] = Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  }
  return out;
}

/** The inverse of encodeRecords; throws when an array's length does not match `length`. */
export function decodeRecords(e: EncodedRecords): RecordsData {
  const empty = new Records(0);
  const out = { length: e.length } as RecordsData;
  for (const name of RECORD_ARRAYS) {
    const bytes = Buffer.from(e[name], 'base64');
    const Kind = empty[name].constructor as new (b: ArrayBuffer) => Records[typeof name];
    const a = new Kind(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    if (a.length !== e.length) throw new Error(`records: ${name} holds ${a.length} values, not ${e.length}`);
    (out as unknown as Record<string, unknown>)[name] = a;
  }
  return out;
}
