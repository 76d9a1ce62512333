// The `node-http` model, standing for a production event-driven server: Node's own `http` module (llhttp parser,
// its own connection handling), answering with the same status, headers and page as every other model. Its
// parser is not ours, so only the routing (route() in request.ts) and the bodies (page.ts) are shared; a
// request Node itself rejects (bad request line, head over 8 KiB) gets our 400 or 431 bytes from 'clientError'.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ServeOptions, ServerModel } from './types.js';
import { buildResponses } from './page.js';
import { MAX_HEAD_BYTES, headEnd, route } from './request.js';
import { effectiveBacklog, listen, urlOf } from './listen.js';
import { EVERY_RUNTIME } from './runtime.js';

/** A prebuilt response cut into what http.ServerResponse wants: status, headers, body. */
interface Parts {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function parts(bytes: Buffer): Parts {
  const end = headEnd(bytes);
  const lines = bytes.subarray(0, end).toString('latin1').trim().split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return { status: Number(lines[0]!.split(' ')[1]), headers, body: bytes.subarray(end) };
}

async function start(options: ServeOptions) {
  const responses = buildResponses(options.pageBytes);
  const byResponse = new Map<Buffer, Parts>(Object.values(responses).map((b: Buffer) => [b, parts(b)]));
  const server = http.createServer({ maxHeaderSize: MAX_HEAD_BYTES, noDelay: true }, (req, res) => {
    const answer = byResponse.get(route(req.method ?? '', req.url ?? '', responses))!;
    res.sendDate = false;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') socket.end(err.code === 'HPE_HEADER_OVERFLOW' ? responses[431] : responses[400]);
    else socket.destroy();
  });
  server.setTimeout(options.idleTimeoutMs); // a silent socket is destroyed, as no 'timeout' listener is set
  server.on('error', () => {}); // accept errors must not kill the server
  await listen(server, options);
  const { backlog, notes } = effectiveBacklog(options.backlog);
  return {
    url: urlOf(server),
    effectiveBacklog: backlog,
    notes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const nodeHttp: ServerModel = {
  name: 'node-http',
  family: 'typescript',
  runtimes: EVERY_RUNTIME,
  paperRow: null,
  connection: 'event',
  slow: false,
  // Node's HTTP parser writes its own headers (Date, keep-alive), and answers a bad request line itself.
  conformance: { ownBytes: true },
  summary: "a production event server: Node's own http module (llhttp parser, Node's connection handling), same answers",
  async available() {
    return { ok: true };
  },
  start,
};
