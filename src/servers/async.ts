// The `async` model, answering the paper's CPC row (threaded code run as events): each connection is handled by
// one straight-line `async` function (async-connection.ts), and V8 turns every `await` into a continuation,
// as CPC turned threaded C into event handlers. This file only adapts a net.Socket to the handler's blocking
// points: a read resolves with the next chunk (or null on end, reset or idle timeout), a write once flushed.
import type net from 'node:net';
import type { ServeOptions, ServerModel } from './types.js';
import { answer } from './request.js';
import { startNetServer, type ConnectionContext, type Idle } from './listen.js';
import { serveConnection, type AsyncConnection } from './async-connection.js';
import { EVERY_RUNTIME } from './runtime.js';

type Handler = (conn: AsyncConnection) => Promise<void>;

/** A socket seen through promises: chunks queue up until read, a read waits until a chunk or the end comes. */
class SocketConnection implements AsyncConnection, Idle {
  lastActiveMs: number;
  private readonly queue: Buffer[] = [];
  private ended = false;
  private waiting: ((chunk: Buffer | null) => void) | undefined = undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly context: ConnectionContext,
  ) {
    this.lastActiveMs = context.reaper.nowMs;
    context.reaper.add(this);
    socket.on('data', (chunk: Buffer) => {
      this.lastActiveMs = context.reaper.nowMs;
      if (this.waiting) this.wake(chunk);
      else this.queue.push(chunk);
    });
    socket.on('error', () => {}); // a reset ends this connection only; 'close' follows
    socket.on('close', () => {
      this.ended = true;
      context.reaper.delete(this);
      if (this.waiting) this.wake(null);
    });
  }

  private wake(chunk: Buffer | null): void {
    const resolve = this.waiting!;
    this.waiting = undefined;
    resolve(chunk);
  }

  read(): Promise<Buffer | null> {
    const chunk = this.queue.shift();
    if (chunk !== undefined) return Promise.resolve(chunk);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** close(2) at once when everything written is in the kernel, as the paper's servers did; else FIN after it. */
  close(): void {
    if (this.socket.writableLength === 0) this.socket.destroy();
    else this.socket.end();
  }

  answer(received: Buffer): Buffer | undefined {
    return answer(received, this.context.responses);
  }

  concat(first: Buffer, second: Buffer): Buffer {
    return Buffer.concat([first, second]);
  }

  /** Idle timeout: the pending read resolves with null once the socket has closed. */
  expire(): void {
    this.socket.destroy();
  }
}

/** Starts a server that runs `handler` once per connection; shared with `async-compiled`. */
export function startAsyncServer(options: ServeOptions, handler: Handler): ReturnType<ServerModel['start']> {
  return startNetServer(options, (socket, context) => {
    void handler(new SocketConnection(socket, context));
  });
}

export const asyncModel: ServerModel = {
  name: 'async',
  family: 'typescript',
  runtimes: EVERY_RUNTIME,
  paperRow: 'CPC',
  connection: 'user-thread',
  slow: false,
  summary: 'threads run as events: one straight-line async function per connection, continuations made by V8',
  async available() {
    return { ok: true };
  },
  start(options: ServeOptions) {
    return startAsyncServer(options, serveConnection);
  },
};
