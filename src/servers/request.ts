// Reading an HTTP request head, shared by every TypeScript toy server: feed bytes until the head is complete,
// then pick the response. Servers never parse headers beyond the request line: like the paper's, they only
// need to know where the head ends and what was asked for.
import type { Responses } from './page.js';

/** A request head larger than this gets 431 and the connection is closed. */
export const MAX_HEAD_BYTES = 8 * 1024;

const CR = 13;
const LF = 10;

/**
 * Where the head ends in `buf` (the index just past the blank line), or -1 if it has not ended yet.
 * Accepts CRLF CRLF and, leniently, LF LF. `from` lets a caller resume the scan over bytes it already saw.
 */
export function headEnd(buf: Uint8Array, from = 0): number {
  for (let i = Math.max(from, 1); i < buf.length; i++) {
    if (buf[i] !== LF) continue;
    if (buf[i - 1] === LF) return i + 1;
    if (buf[i - 1] === CR && i >= 3 && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return -1;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PAGE_PATHS = new Set(['/', '/index.html']);

/** "GET / HTTP/1.": how every load client asks for the page (ab, wrk, eventbench load). */
const PAGE_GET = Buffer.from('GET / HTTP/1.', 'latin1');

/**
 * Whether the request line is exactly "GET / HTTP/1.d", which the rules below would answer with the page. Compared
 * as bytes, in place, as native/common.c reads it: a measured request costs no string, array or regular expression.
 */
function asksForPage(head: Uint8Array): boolean {
  const n = PAGE_GET.length;
  for (let i = 0; i < n; i++) if (head[i] !== PAGE_GET[i]) return false;
  const digit = head[n]!;
  const after = head[n + 1];
  return digit >= 0x30 && digit <= 0x39 && (after === LF || (after === CR && head[n + 2] === LF));
}

/** The response to a request whose head is complete in `head` (only its request line, up to the first LF, is read). */
export function respond(head: Uint8Array, responses: Responses): Buffer {
  if (asksForPage(head)) return responses.get;
  let eol = head.indexOf(LF);
  if (eol < 0) eol = head.length;
  const line = Buffer.from(head.buffer, head.byteOffset, eol).toString('latin1').replace(/\r$/, '');
  const parts = line.split(' ');
  if (parts.length !== 3) return responses[400];
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method) || !/^HTTP\/\d\.\d$/.test(version)) return responses[400];
  return route(method, target, responses);
}

/** The response to a well-formed method and target; also used by servers whose HTTP parser is not ours (node-http). */
export function route(method: string, target: string, responses: Responses): Buffer {
  if (!target.startsWith('/')) return responses[400];
  if (method !== 'GET' && method !== 'HEAD') return responses[405];
  const q = target.indexOf('?');
  if (!PAGE_PATHS.has(q < 0 ? target : target.slice(0, q))) return responses[404];
  return method === 'HEAD' ? responses.head : responses.get;
}

/**
 * The answer to the bytes received so far: a response once the head is complete, `responses[431]` once more
 * than MAX_HEAD_BYTES arrived without a blank line, or undefined while more bytes are needed.
 */
export function answer(received: Uint8Array, responses: Responses): Buffer | undefined {
  const end = headEnd(received);
  if (end > MAX_HEAD_BYTES) return responses[431];
  if (end >= 0) return respond(received, responses);
  return received.length > MAX_HEAD_BYTES ? responses[431] : undefined;
}
