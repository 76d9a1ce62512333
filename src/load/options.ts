// The load generator's defaults, in one place, and the one function that checks options before anything starts.
import { OPEN_FILES_FIX, connectionsAllowed, openFilesLimit } from '../core/open-files.js';
import os from 'node:os';
import { UsageError } from '../core/errors.js';
import { SETTINGS } from '../core/defaults.js';
import { MAX_RECORDS } from './records.js';
import type { Engine, LoadOptions } from './types.js';
import { TRANSPORT_CHOICES, transportMissing, type TransportChoice } from './transport.js';

export const LOAD_DEFAULTS = {
  /** Used when neither requests nor durationS is given. */
  requests: 10_000,
  timeoutS: 30,
  trim: SETTINGS.trim.value,
  keepalive: false,
  workers: 1,
  engine: 'eventbench',
  method: 'GET',
} as const;

export type LoadInput = Partial<LoadOptions> & Pick<LoadOptions, 'url' | 'concurrency'>;

export { openFilesLimit };

function whole(field: string, value: number | undefined, min: number, max: number, hint?: string): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(field, value, `expected a whole number from ${min} to ${max}`, hint);
  }
}

function positive(field: string, value: number | undefined, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || value > max)
    throw new UsageError(field, value, `expected a number above 0 and at most ${max}`);
}

/** Fills defaults and checks every field; throws UsageError naming the field, the value and the limit. */
export function resolveLoadOptions(input: LoadInput): LoadOptions {
  // The default count only when no count and no length is given: a time-bound load has no count of its own.
  const { requests: defaultRequests, ...defaults } = LOAD_DEFAULTS;
  const o = { ...defaults, ...stripUndefined(input) } as LoadOptions;
  if (o.requests === undefined && o.durationS === undefined) o.requests = defaultRequests;

  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new UsageError('url', o.url, 'expected an http:// URL such as http://127.0.0.1:8080/');
  }
  if (url.protocol !== 'http:')
    throw new UsageError('url', o.url, 'only http:// is measured (the paper measured plain HTTP)', 'use an http:// URL');

  const files = openFilesLimit();
  const maxConcurrency = Math.min(100_000, files === undefined ? 100_000 : connectionsAllowed(files));
  whole(
    'concurrency (-c)',
    o.concurrency,
    1,
    maxConcurrency,
    files !== undefined && o.concurrency > maxConcurrency
      ? `the open files limit is ${files}: raise it with \`${OPEN_FILES_FIX}\``
      : undefined,
  );
  whole('requests (-n)', o.requests, 1, MAX_RECORDS);
  if (o.requests !== undefined && o.concurrency > o.requests) {
    throw new UsageError(
      'concurrency (-c)',
      o.concurrency,
      `the limit is the number of requests (-n ${o.requests})`,
      'lower -c or raise -n',
    );
  }
  positive('duration (-t)', o.durationS, 86_400);
  positive('timeout (--timeout)', o.timeoutS, 3_600);
  whole('trim (--trim)', o.trim, 0, MAX_RECORDS);
  whole('bailout (--bailout)', o.bailout, 1, MAX_RECORDS);
  whole('workers (--workers)', o.workers, 1, Math.max(1, os.availableParallelism() * 4));
  if (o.workers > o.concurrency)
    throw new UsageError('workers (--workers)', o.workers, `the limit is the concurrency (-c ${o.concurrency})`);
  if (o.engine !== 'eventbench' && o.engine !== 'ab') throw new UsageError('engine (--engine)', o.engine, 'expected eventbench or ab');
  if (o.method !== 'GET' && o.method !== 'HEAD') throw new UsageError('method (--method)', o.method, 'expected GET or HEAD');
  checkTransport(o.transport);
  if (o.engine === 'ab') refuseForAb(o);
  return o;
}

/** What ab cannot do: more than one thread, per-request records, another transport. */
function refuseForAb(o: LoadOptions): void {
  if (o.workers > 1) throw new UsageError('workers (--workers)', o.workers, 'ab runs one thread: the limit with --engine ab is 1');
  if (o.transport !== undefined)
    throw new UsageError(
      'transport (--transport)',
      o.transport,
      "is the eventbench engine's connection layer",
      'drop --transport or --engine ab',
    );
  if (o.rawFile)
    throw new UsageError(
      'raw (--raw)',
      o.rawFile,
      'ab gives no per-request records in start order',
      'drop --raw or use --engine eventbench',
    );
}

/** A transport named must be one, and run here (`auto` always runs: it falls back to what does). */
export function checkTransport(choice: TransportChoice | undefined, field = 'transport (--transport)'): void {
  if (choice === undefined || choice === 'auto') return;
  if (!TRANSPORT_CHOICES.includes(choice)) throw new UsageError(field, choice, `expected one of ${TRANSPORT_CHOICES.join(', ')}`);
  const missing = transportMissing(choice);
  if (missing !== undefined) throw new UsageError(field, choice, `cannot run here: ${missing}`, 'use --transport auto');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The bytes of the request, as ab sends them (HTTP/1.0), or HTTP/1.1 for keep-alive. */
export function requestBytes(url: URL, method: string, keepalive: boolean, version: string): Buffer {
  const target = (url.pathname || '/') + url.search;
  const proto = keepalive ? 'HTTP/1.1' : 'HTTP/1.0';
  return Buffer.from(
    `${method} ${target} ${proto}\r\nHost: ${url.host}\r\nUser-Agent: eventbench/${version}\r\nAccept: */*\r\n\r\n`,
    'latin1',
  );
}

/** What the load client is told for one point. */
export interface LoadArgs {
  concurrency: number;
  requests?: number;
  durationS?: number;
  timeoutS: number;
  trim: number;
  engine: Engine;
  /** The eventbench engine's transport, when the plan names one. */
  transport?: TransportChoice;
}

/** `eventbench load` flags of a closed-loop point. */
export function closedLoadFlags(a: LoadArgs): string[] {
  const flags = ['-c', String(a.concurrency), '--json', '--timeout', String(a.timeoutS), '--trim', String(a.trim), '--engine', a.engine];
  if (a.requests !== undefined) flags.push('-n', String(a.requests));
  if (a.durationS !== undefined) flags.push('-t', String(a.durationS));
  if (a.transport !== undefined && a.engine === 'eventbench') flags.push('--transport', a.transport);
  return flags;
}
