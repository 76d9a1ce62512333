// The `events-uv` model: the `events` state machine one level down, on libuv's TCP handles. Each
// connection is a small heap-allocated state machine (READING, then CLOSED once answered), and the event loop
// calls its handlers when its socket becomes readable or the write completes. No promises, no per-connection
// closures: the handlers are shared functions that find their state on the handle, as a C server does from the fd.
//
// Why: net.Socket's stream layer (see events.ts) costs about as much CPU per connection as all of nginx does, so
// `events` measures Node's streams as much as the event model. Like thttpd on poll(), this server works one level
// down, on the libuv TCP handles that net.Socket itself wraps (Node's `tcp_wrap` and `stream_wrap` bindings):
// accept callback, read callback, one write of the prebuilt response, close(2). Those bindings are Node internals;
// available() says so when a Node version lacks them. The other TypeScript models all use net.Socket, so compare
// them with `events`; `events-uv` shows how close to nginx an event loop in Node gets without the stream layer.
import { uvBindings } from '../core/uv-bindings.js';
import { getSystemErrorName } from 'node:util';
import type { RunningServer, ServeOptions, ServerModel } from './types.js';
import { buildResponses, type Responses } from './page.js';
import { answer } from './request.js';
import { IdleReaper, effectiveBacklog, type Idle } from './listen.js';
import { UV_RUNTIMES } from './runtime.js';

/** The slice of libuv's TCP handle (tcp_wrap) this server uses. */
interface TcpHandle {
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  listen(backlog: number): number;
  getsockname(out: { address?: string; port?: number }): number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, data: Buffer): number;
  close(callback?: () => void): void;
  onconnection: ((status: number, client: TcpHandle) => void) | null;
  onread: ((this: TcpHandle, buffer: ArrayBuffer | undefined) => void) | null;
  conn?: Connection;
}
interface WriteReq {
  handle: TcpHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  SERVER: number;
  WriteWrap: new () => WriteReq;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

function bindings(): Bindings | undefined {
  const uv = uvBindings();
  if (!uv) return undefined;
  const { tcp, stream } = uv;
  return {
    TCP: tcp.TCP,
    SERVER: tcp.constants.SERVER,
    WriteWrap: stream.WriteWrap,
    state: stream.streamBaseState,
    kReadBytesOrError: stream.kReadBytesOrError,
    kArrayBufferOffset: stream.kArrayBufferOffset,
    kLastWriteWasAsync: stream.kLastWriteWasAsync,
  };
}

const READING = 0;
const CLOSED = 1;

/** What every connection shares: the bindings, the prebuilt responses, the idle reaper, the live count. */
interface Shared {
  uv: Bindings;
  responses: Responses;
  reaper: IdleReaper;
  live: number;
  onIdle?: () => void;
}

/** One connection's state: where it is, what it has read so far, and when it last heard from its client. */
class Connection implements Idle {
  state = READING;
  /** Bytes of an unfinished request head, when it came in several chunks (the common case is one chunk). */
  pending: Buffer | undefined = undefined;
  lastActiveMs: number;

  constructor(
    readonly handle: TcpHandle,
    readonly shared: Shared,
  ) {
    this.lastActiveMs = shared.reaper.nowMs;
  }

  /** The idle reaper's verdict (or the server closing): the client was silent too long. */
  expire(): void {
    close(this);
  }
}

function close(conn: Connection): void {
  if (conn.state === CLOSED) return;
  conn.state = CLOSED;
  conn.pending = undefined;
  conn.shared.reaper.delete(conn);
  conn.handle.close(() => {
    if (--conn.shared.live === 0) conn.shared.onIdle?.();
  });
}

/** Readable: add the bytes to the head; once the head is complete (or too large), write the answer and close. */
function onRead(this: TcpHandle, buffer: ArrayBuffer | undefined): void {
  const conn = this.conn!;
  const { uv } = conn.shared;
  const nread = uv.state[uv.kReadBytesOrError]!;
  if (nread < 0 || buffer === undefined) {
    close(conn); // end of stream or reset
    return;
  }
  if (conn.state !== READING || nread === 0) return;
  conn.lastActiveMs = conn.shared.reaper.nowMs;
  const chunk = Buffer.from(buffer, uv.state[uv.kArrayBufferOffset]!, nread);
  const received = conn.pending === undefined ? chunk : Buffer.concat([conn.pending, chunk]);
  const response = answer(received, conn.shared.responses);
  if (response === undefined) {
    conn.pending = Buffer.from(received); // the read buffer is reused by the next read
    return;
  }
  // One write of the prebuilt bytes, then close(2), as the paper's servers did; the write almost always completes
  // at once (the kernel's send buffer takes it), else the close waits for its completion.
  this.readStop();
  const req = new uv.WriteWrap();
  req.handle = this;
  req.oncomplete = afterWrite;
  req.async = false;
  if (this.writeBuffer(req, response) !== 0 || uv.state[uv.kLastWriteWasAsync] === 0) close(conn);
}

function afterWrite(this: WriteReq): void {
  close(this.handle.conn!);
}

async function start(options: ServeOptions): Promise<RunningServer> {
  const uv = bindings();
  if (!uv) throw new Error('this Node has no tcp_wrap binding; use the `events` model');
  const reaper = new IdleReaper(options.idleTimeoutMs);
  const shared: Shared = { uv, responses: buildResponses(options.pageBytes), reaper, live: 0 };
  const server = new uv.TCP(uv.SERVER);
  const host = options.host === 'localhost' ? '127.0.0.1' : options.host;
  const fail = (call: string, status: number) => {
    server.close();
    reaper.stop();
    const code = getSystemErrorName(status);
    throw Object.assign(new Error(`${call} ${code} ${host}:${options.port}`), { code });
  };
  let status = host.includes(':') ? server.bind6(host, options.port, 0) : server.bind(host, options.port);
  if (status !== 0) fail('bind', status);
  status = server.listen(options.backlog); // the backlog, explicitly
  if (status !== 0) fail('listen', status);

  // Accept: a new connection gets its state and starts reading; an accept error (EMFILE...) only skips it.
  server.onconnection = (acceptStatus, client) => {
    if (acceptStatus !== 0) return;
    const conn = new Connection(client, shared);
    client.conn = conn;
    client.onread = onRead;
    shared.live++;
    reaper.add(conn);
    client.readStart();
  };

  const address: { address?: string; port?: number } = {};
  server.getsockname(address);
  const { backlog, notes } = effectiveBacklog(options.backlog);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`,
    effectiveBacklog: backlog,
    notes,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          if (shared.live === 0) resolve();
          else shared.onIdle = resolve;
        });
        reaper.stop();
      });
      return closing;
    },
  };
}

export const eventsUv: ServerModel = {
  name: 'events-uv',
  family: 'typescript',
  runtimes: UV_RUNTIMES,
  paperRow: 'thttpd',
  connection: 'event',
  slow: false,
  summary: "hand-written events below Node's streams: the same state machine on libuv TCP handle callbacks",
  async available() {
    if (bindings()) return { ok: true };
    return {
      ok: false,
      reason: 'this Node lacks the internal tcp_wrap binding',
      hint: 'use `events` (the same machine on net.Socket) or Node 20/22',
    };
  },
  start,
};
