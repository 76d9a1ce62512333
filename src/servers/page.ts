// The one page every server under test serves, and every response it can send, as ready-made bytes.
// The paper served a single 305-byte page; `pageBytes` lets the same page grow (it also tried up to 100 kB).
// The native C servers build the identical bytes (src/servers/native/common.c); a conformance test checks that.

import { SETTINGS } from '../core/defaults.js';

/** The paper's page size, the default. */
export const DEFAULT_PAGE_BYTES = SETTINGS.pageBytes.value;
export const MAX_PAGE_BYTES = 16 * 1024 * 1024;

const HEAD = '<!DOCTYPE html>\n<html><head><title>Are events fast?</title></head>\n<body><p>';
const TAIL = '</p></body></html>\n';
const FILLER = 'This page is served by eventbench, after Kerneis and Chroboczek (2009). ';
export const MIN_PAGE_BYTES = HEAD.length + TAIL.length;

/** The page body of exactly `pageBytes` bytes: fixed head and tail, the filler sentence repeated and cut to fit. */
export function pageBody(pageBytes = DEFAULT_PAGE_BYTES): Buffer {
  if (!Number.isInteger(pageBytes) || pageBytes < MIN_PAGE_BYTES || pageBytes > MAX_PAGE_BYTES) {
    throw new RangeError(`pageBytes must be a whole number from ${MIN_PAGE_BYTES} to ${MAX_PAGE_BYTES}, got ${pageBytes}`);
  }
  const room = pageBytes - HEAD.length - TAIL.length;
  const filler = FILLER.repeat(Math.ceil(room / FILLER.length)).slice(0, room);
  return Buffer.from(HEAD + filler + TAIL, 'latin1');
}

/** Response status lines used by every toy server. */
export const STATUS = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
} as const;
export type Status = keyof typeof STATUS;

function head(status: Status, type: string, length: number, extra = ''): string {
  return `HTTP/1.0 ${status} ${STATUS[status]}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n${extra}Connection: close\r\n\r\n`;
}

function errorResponse(status: Exclude<Status, 200>, extra = ''): Buffer {
  const body = `${status} ${STATUS[status]}\n`;
  return Buffer.from(head(status, 'text/plain', body.length, extra) + body, 'latin1');
}

/** Every response a toy server sends, built once at start-up so the serving path only writes bytes. */
export interface Responses {
  /** `GET /`: headers and page in one buffer, so one write sends it. */
  readonly get: Buffer;
  /** `HEAD /`: the same headers, no body. */
  readonly head: Buffer;
  readonly 400: Buffer;
  readonly 404: Buffer;
  readonly 405: Buffer;
  readonly 431: Buffer;
}

export function buildResponses(pageBytes = DEFAULT_PAGE_BYTES): Responses {
  const body = pageBody(pageBytes);
  const headers = Buffer.from(head(200, 'text/html', body.length), 'latin1');
  return {
    get: Buffer.concat([headers, body]),
    head: headers,
    400: errorResponse(400),
    404: errorResponse(404),
    405: errorResponse(405, 'Allow: GET, HEAD\r\n'),
    431: errorResponse(431),
  };
}
