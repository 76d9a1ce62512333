// `npm run bench:request`: what the shared request rules (src/servers/request.ts) cost a TypeScript server per
// request, in this process: ab's request for the page, which the rules recognise as bytes, against the same request
// for /index.html, which they read as a string (split, two regular expressions) as they read every other request.
// Each is answered 2 million times from a view of one read buffer, as events-epoll does; median of 5 batches.
//   node dist/bench/request-rules.js [-n 2000000]
import { parseArgs } from 'node:util';
import { buildResponses } from '../src/servers/page.js';
import { answer } from '../src/servers/request.js';
import { median } from '../src/core/numbers.js';

const { values } = parseArgs({ options: { requests: { type: 'string', short: 'n' } } });
const count = Number(values.requests ?? 2_000_000);
const responses = buildResponses();
const read = Buffer.alloc(8193); // the one read buffer of events-epoll (a head up to the limit and one more)

/** ns per request to answer `request`, read into the buffer, median of 5 batches after 2 to warm up. */
function nsPerRequest(request: string, expected: Buffer): number {
  const n = read.write(`${request}\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n`, 'latin1');
  const batches: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) if (answer(read.subarray(0, n), responses) !== expected) throw new Error(`${request}: wrong answer`);
    if (b >= 2) batches.push(((performance.now() - t0) * 1e6) / count);
  }
  return median(batches);
}

const bytes = nsPerRequest('GET / HTTP/1.0', responses.get);
const rules = nsPerRequest('GET /index.html HTTP/1.0', responses.get);
process.stdout.write(
  `GET / HTTP/1.0, recognised as bytes:        ${bytes.toFixed(0)} ns a request\n` +
    `GET /index.html HTTP/1.0, read as a string: ${rules.toFixed(0)} ns a request\n` +
    `the string path costs ${(rules / bytes).toFixed(1)}× the bytes path\n`,
);
