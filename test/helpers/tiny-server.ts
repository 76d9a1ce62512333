// Small real HTTP/1.0 servers on port 0 for the load generator's tests, each misbehaving in one chosen way.
import net from 'node:net';
import { buildResponses } from '../../src/servers/page.js';
import { answer } from '../../src/servers/request.js';

export type Behaviour =
  | { kind: 'ok'; delayMs?: number; slowFirst?: number; slowMs?: number }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'status'; status: number }
  | { kind: 'length-change'; every: number }
  | { kind: 'die-after'; requests: number };

export interface TinyServer {
  url: string;
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  close: () => Promise<void>;
}

const responses = buildResponses();
const shortPage = Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc', 'latin1');

export async function tinyServer(b: Behaviour): Promise<TinyServer> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const n = ++accepted;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const response = answer(received, responses);
      if (!response) return;
      socket.removeAllListeners('data');
      const send = (bytes: Buffer) => socket.end(bytes);
      switch (b.kind) {
        case 'ok': {
          const delay = b.slowFirst !== undefined && n <= b.slowFirst ? (b.slowMs ?? 0) : (b.delayMs ?? 0);
          if (delay > 0) setTimeout(() => send(response), delay);
          else send(response);
          break;
        }
        case 'reset':
          socket.resetAndDestroy();
          break;
        case 'stall':
          break;
        case 'status':
          send(Buffer.from(`HTTP/1.0 ${b.status} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, 'latin1'));
          break;
        case 'length-change':
          send(n % b.every === 0 ? shortPage : response);
          break;
        case 'die-after':
          send(response);
          if (n === b.requests) {
            server.close();
            for (const s of sockets) s.destroy();
          }
          break;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    connections: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        if (!server.listening) resolve();
      }),
  };
}

/** A port nothing listens on: bound, read, then released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
