// Raw HTTP exchanges over a real socket, for tests that check bytes, resets and timeouts.
import net from 'node:net';

export interface Exchange {
  /** Every byte the server sent until it closed. */
  bytes: Buffer;
  /** How long after the request the server closed, ms. */
  closedAfterMs: number;
}

/**
 * Connects, writes `request`, half-closes if `end` (the default), and collects everything until the server
 * closes. Fails after `timeoutMs`.
 */
export function exchange(url: string, request: string | Buffer, { end = true, timeoutMs = 5000 } = {}): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no close within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve({ bytes: Buffer.concat(chunks), closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => {
      if (end) socket.end(request);
      else socket.write(request);
    });
  });
}

/** Connects, writes `partial`, then resets the connection (RST) instead of closing it. */
export function resetAfter(url: string, partial: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.write(partial, () => {
        socket.resetAndDestroy();
        resolve();
      });
    });
    socket.on('error', reject);
  });
}

/** The status code of a raw response. */
export function statusOf(bytes: Buffer): number {
  return Number(/^HTTP\/\d\.\d (\d{3})/.exec(bytes.toString('latin1'))?.[1] ?? 0);
}

/** The body of a raw response (after the blank line). */
export function bodyOf(bytes: Buffer): Buffer {
  const end = bytes.indexOf('\r\n\r\n');
  return end < 0 ? Buffer.alloc(0) : bytes.subarray(end + 4);
}
