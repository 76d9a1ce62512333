import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponses, pageBody, DEFAULT_PAGE_BYTES, MIN_PAGE_BYTES } from '../src/servers/page.js';
import { answer, headEnd, MAX_HEAD_BYTES } from '../src/servers/request.js';

const r = buildResponses();
const ask = (s: string) => answer(Buffer.from(s, 'latin1'), r);

test('the page is exactly 305 bytes by default and any size on request', () => {
  assert.equal(pageBody().length, DEFAULT_PAGE_BYTES);
  assert.equal(pageBody(MIN_PAGE_BYTES).length, MIN_PAGE_BYTES);
  assert.equal(pageBody(100_000).length, 100_000);
  assert.throws(() => pageBody(MIN_PAGE_BYTES - 1), RangeError);
  assert.match(
    r.get.toString('latin1'),
    /^HTTP\/1\.0 200 OK\r\nContent-Type: text\/html\r\nContent-Length: 305\r\nConnection: close\r\n\r\n<!DOCTYPE html>/,
  );
});

test('the head ends at the first blank line, CRLF or LF', () => {
  assert.equal(headEnd(Buffer.from('GET / HTTP/1.0\r\n\r\nxyz')), 18);
  assert.equal(headEnd(Buffer.from('GET / HTTP/1.0\n\nxyz')), 16);
  assert.equal(headEnd(Buffer.from('GET / HTTP/1.0\r\nHost: a\r\n')), -1);
});

test('each request gets its response', () => {
  const cases: [string, Buffer | undefined][] = [
    ['GET / HTTP/1.0\r\n\r\n', r.get],
    ['GET /index.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n', r.get],
    ['HEAD / HTTP/1.0\r\n\r\n', r.head],
    ['GET /nope HTTP/1.0\r\n\r\n', r[404]],
    ['POST / HTTP/1.0\r\n\r\n', r[405]],
    ['GET / HTTP/1.0 extra\r\n\r\n', r[400]],
    ['\x00\x01\x02 binary\r\n\r\n', r[400]],
    ['G(T / HTTP/1.0\r\n\r\n', r[400]],
    ['GET / HTTP/1.0\r\n', undefined],
    ['GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n', r[431]],
    ['GET / HTTP/1.0\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n\r\n', r[431]],
  ];
  for (const [request, expected] of cases) assert.equal(ask(request), expected, JSON.stringify(request.slice(0, 40)));
});

test('the page asked as every load client asks ("GET / HTTP/1.d", read as bytes) gets what the rules give, and near misses too', () => {
  const cases: [string, Buffer | undefined][] = [
    ['GET / HTTP/1.0\r\nHost: a\r\nUser-Agent: ApacheBench/2.3\r\n\r\n', r.get],
    ['GET / HTTP/1.1\n\n', r.get],
    ['GET / HTTP/1.x\r\n\r\n', r[400]],
    ['GET / HTTP/1.0\rX\r\n\r\n', r[400]],
    ['GET / HTTP/1.0 \r\n\r\n', r[400]],
    ['GET / HTTP/1.00\r\n\r\n', r[400]],
    ['GET /  HTTP/1.0\r\n\r\n', r[400]],
    ['GET / HTTP/2.0\r\n\r\n', r.get],
    ['get / HTTP/1.0\r\n\r\n', r[405]],
  ];
  for (const [request, expected] of cases) assert.equal(ask(request), expected, JSON.stringify(request));
});
