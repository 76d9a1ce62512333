// The `events` model, answering the paper's hand-written event-driven servers (thttpd, lighttpd, polipo), on Node's
// public `net` API like every other TypeScript model. Each connection is a small
// heap-allocated state machine (READING, then WRITING, then CLOSED), and the event loop calls its handlers when the
// socket becomes readable or errs. No promises, no per-connection closures: the handlers are shared functions that
// find their state on the socket, as a C server finds it from the fd. It is also the handler each `process-pool`
// process runs; `events-uv` (events-uv.ts) is the same machine without net.Socket's stream layer.
import type net from 'node:net';
import type { ServeOptions, ServerModel } from './types.js';
import { answer } from './request.js';
import { startNetServer, type ConnectionContext, type Idle } from './listen.js';
import { EVERY_RUNTIME } from './runtime.js';

const READING = 0;
const WRITING = 1;
const CLOSED = 2;

/** One connection's state: where it is, what it has read so far, and when it last heard from its client. */
class Connection implements Idle {
  state = READING;
  /** Bytes of an unfinished request head, when it came in several chunks (the common case is one chunk). */
  pending: Buffer | undefined = undefined;
  lastActiveMs: number;

  constructor(
    readonly socket: net.Socket,
    readonly context: ConnectionContext,
  ) {
    this.lastActiveMs = context.reaper.nowMs;
  }

  /** The idle reaper's verdict: the client was silent too long. */
  expire(): void {
    this.state = CLOSED;
    this.socket.destroy();
  }
}

type Socket = net.Socket & { connection: Connection };

/** Accept: a new connection gets its state and its handlers (exported for `process-pool`, whose processes run it). */
export function onConnection(socket: net.Socket, context: ConnectionContext): void {
  const conn = new Connection(socket, context);
  (socket as Socket).connection = conn;
  context.reaper.add(conn);
  socket.on('data', onReadable);
  socket.on('error', onError);
}

/** Readable: add the bytes to the head; once the head is complete (or too large), write the answer and close. */
function onReadable(this: Socket, chunk: Buffer): void {
  const conn = this.connection;
  if (conn.state !== READING) return;
  conn.lastActiveMs = conn.context.reaper.nowMs;
  const received = conn.pending === undefined ? chunk : Buffer.concat([conn.pending, chunk]);
  const response = answer(received, conn.context.responses);
  if (response === undefined) {
    conn.pending = received;
    return;
  }
  conn.pending = undefined;
  conn.state = WRITING;
  // One write of the prebuilt bytes, then close, as the paper's servers did. It almost always fits the kernel's
  // send buffer at once (nothing left queued): close(2) then, with no shutdown and no wait for the client's FIN.
  this.write(response);
  if (this.writableLength === 0) finish(this);
  else this.end(() => finish(this));
}

function finish(socket: Socket): void {
  const conn = socket.connection;
  conn.state = CLOSED;
  conn.context.reaper.delete(conn);
  socket.destroy();
}

/** A reset or any socket error: this connection only is over. */
function onError(this: Socket): void {
  finish(this);
}

export const events: ServerModel = {
  name: 'events',
  family: 'typescript',
  runtimes: EVERY_RUNTIME,
  paperRow: 'thttpd',
  connection: 'event',
  slow: false,
  summary: 'hand-written events: a per-connection state machine driven by net callbacks, no promises',
  async available() {
    return { ok: true };
  },
  start(options: ServeOptions) {
    return startNetServer(options, onConnection);
  },
};
