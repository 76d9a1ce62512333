// Raw HTTP over a real socket, for the checks: send exact bytes, read what comes back, and tell how the
// connection ended (closed, reset, still open after a complete answer, or nothing within the time allowed).
import net from 'node:net';

export interface Address {
  host: string;
  port: number;
}

export interface Exchange {
  data: Buffer;
  /**
   * 'closed' by the server; 'reset' (ECONNRESET...); 'refused': no connection at all (nothing listens: a server that
   * died); 'open': a complete answer, then still open; 'timeout': no end in time.
   */
  end: 'closed' | 'reset' | 'refused' | 'open' | 'timeout';
  elapsedMs: number;
}

export function status(data: Buffer): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(data.toString('latin1'))?.[1] ?? 0);
}

export function splitResponse(data: Buffer): { head: string; body: Buffer } {
  const at = data.indexOf('\r\n\r\n');
  if (at < 0) return { head: data.toString('latin1'), body: Buffer.alloc(0) };
  return { head: data.subarray(0, at).toString('latin1'), body: data.subarray(at + 4) };
}

/** A header's value in a response head (case-insensitive name), or undefined. */
export function header(head: string, name: string): string | undefined {
  return new RegExp(`\\r\\n${name}:[ \\t]*([^\\r\\n]*)`, 'i').exec(head)?.[1]?.trim();
}

/** Bytes of the first complete response at the start of `data` (its head and Content-Length body), or -1. */
export function completeLength(data: Buffer, noBody = false): number {
  const at = data.indexOf('\r\n\r\n');
  if (at < 0) return -1;
  const head = data.subarray(0, at).toString('latin1');
  const length = noBody ? 0 : Number(header(head, 'content-length') ?? NaN);
  if (!Number.isFinite(length)) return -1; // no length: the answer ends when the connection does
  return data.length >= at + 4 + length ? at + 4 + length : -1;
}

/** What a connection brought back, in a few words: "404 (HTTP/1.1 404 Not Found)", "nothing (reset)". */
export function describe(r: Exchange): string {
  const first = r.data.toString('latin1').split('\r\n')[0] ?? '';
  if (r.end === 'refused') return 'no connection (refused: nothing listens on its port any more)';
  if (r.data.length === 0 && r.end === 'timeout') return `nothing within ${(r.elapsedMs / 1000).toFixed(1)} s`;
  if (r.data.length === 0) return r.end === 'reset' ? 'nothing (the connection was reset)' : 'nothing (closed)';
  const code = status(r.data);
  return code ? `${code} (${first.slice(0, 60)})` : `no HTTP answer (${JSON.stringify(first.slice(0, 40))})`;
}

export interface ExchangeOptions {
  /** Half-close after writing. */
  halfClose?: boolean;
  /** Give up after this long, ms (default 5000). */
  timeoutMs?: number;
  /** Once a complete answer arrived, wait this long for the close, then end as 'open' (default: wait for the close). */
  openAfterMs?: number;
  /** The answer to a HEAD request has no body. */
  noBody?: boolean;
}

/** Connects, writes `request` (if any), half-closes when asked, and reads until the server closes or the time is up. */
export function exchange(to: Address, request: string | Buffer | undefined, o: ExchangeOptions = {}): Promise<Exchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect({ port: to.port, host: to.host });
    const chunks: Buffer[] = [];
    let settled = false;
    let connected = false;
    let openTimer: NodeJS.Timeout | undefined;
    const done = (end: Exchange['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(openTimer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), end, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => done('timeout'), o.timeoutMs ?? 5_000);
    socket.on('connect', () => {
      connected = true;
      if (request !== undefined) socket.write(request);
      if (o.halfClose) socket.end();
    });
    socket.on('data', (d) => {
      chunks.push(d);
      if (o.openAfterMs !== undefined && !openTimer && completeLength(Buffer.concat(chunks), o.noBody) >= 0) {
        openTimer = setTimeout(() => done('open'), o.openAfterMs);
      }
    });
    socket.on('end', () => done('closed'));
    socket.on('close', () => done('closed'));
    socket.on('error', () => done(connected ? 'reset' : 'refused'));
  });
}

/** A connection kept open across several requests (keep-alive): answers are read one at a time. */
export class Connection {
  private buffer = Buffer.alloc(0);
  private ended: 'closed' | 'reset' | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake?.();
    });
    socket.on('end', () => {
      this.ended ??= 'closed';
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended ??= 'closed';
      this.wake?.();
    });
    socket.on('error', () => {
      this.ended ??= 'reset';
      this.wake?.();
    });
  }

  static open(to: Address, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: to.port, host: to.host });
      const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new Connection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** Waits until `ready()` holds, the connection ends, or `timeoutMs` passes; returns whether `ready()` held. */
  private async until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!ready() && !this.ended && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        this.wake = r;
        timer = setTimeout(r, Math.max(1, deadline - Date.now()));
      });
      clearTimeout(timer);
    }
    return ready();
  }

  /** The next complete answer (taken off the buffer), or what arrived and how the connection ended. */
  async response(timeoutMs: number): Promise<{ data: Buffer; complete: boolean; end?: 'closed' | 'reset' }> {
    const complete = await this.until(() => completeLength(this.buffer) >= 0, timeoutMs);
    const n = completeLength(this.buffer);
    const data = complete ? this.buffer.subarray(0, n) : this.buffer;
    this.buffer = complete ? this.buffer.subarray(n) : Buffer.alloc(0);
    return { data, complete, ...(this.ended ? { end: this.ended } : {}) };
  }

  /** Whether the server closes the connection within `timeoutMs`. */
  async closes(timeoutMs: number): Promise<boolean> {
    await this.until(() => this.ended !== undefined, timeoutMs);
    return this.ended !== undefined;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
