// How the client opens, writes, reads and closes one TCP connection. Two implementations of one small interface:
// - "tcp_wrap": libuv TCP handles straight from Node's binding (what net.Socket wraps), one shared read buffer,
//   no stream objects, no listeners: the per-connection path costs a handle and two request wraps. This is what
//   lets a single Node thread keep up with ApacheBench (see bench/loadgen.ts).
// - "net": the public net.Socket API, for runtimes whose process.binding no longer offers tcp_wrap.
import { uvBindings } from '../core/uv-bindings.js';
import net from 'node:net';

/** What the client loop hears from a transport about one connection. `conn` is the transport's handle. */
export interface TransportSink {
  connected(conn: object): void;
  /** `n` bytes arrived at the start of `buf` (the transport's shared read buffer). */
  data(conn: object, buf: Buffer, n: number): void;
  /** The peer closed (errno 0) or the connection failed (errno < 0, a libuv error code). */
  ended(conn: object, errno: number, whileConnecting: boolean): void;
}

export interface Transport {
  readonly name: 'tcp_wrap' | 'net';
  /** Starts connecting; the sink hears `connected` or `ended(…, whileConnecting = true)`. Returns the handle. */
  connect(host: string, port: number, sink: TransportSink): object;
  /** Writes the request; returns false if the write failed at once. */
  write(conn: object, data: Buffer): boolean;
  /** Closes the connection; the sink hears nothing more from it. */
  close(conn: object): void;
}

const READ_BUFFER_BYTES = 64 * 1024;
const UV_EOF = -4095;

interface Binding {
  TCP: new (type: number) => RawHandle;
  TCPConnectWrap: new () => { oncomplete: unknown; address: string; port: number };
  constants: { SOCKET: number };
}
interface StreamBinding {
  WriteWrap: new () => { handle: unknown; oncomplete: unknown; async: boolean };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
}
interface RawHandle {
  onread: (this: RawHandle) => void;
  sink: TransportSink;
  useUserBuffer(buf: Buffer): void;
  connect(req: object, host: string, port: number): number;
  connect6(req: object, host: string, port: number): number;
  readStart(): number;
  writeBuffer(req: object, data: Buffer): number;
  close(): void;
}

function loadBinding(): { tcp: Binding; stream: StreamBinding } | undefined {
  return uvBindings();
}

function rawTransport(b: { tcp: Binding; stream: StreamBinding }): Transport {
  const { TCP, TCPConnectWrap, constants } = b.tcp;
  const { WriteWrap, streamBaseState, kReadBytesOrError } = b.stream;
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const noop = () => {};
  // The loop connects to one host over and over: remember whether it is IPv6 rather than parse it each time.
  let lastHost = '';
  let lastIsV6 = false;
  function onread(this: RawHandle) {
    const n = streamBaseState[kReadBytesOrError]!;
    if (n > 0) this.sink.data(this, buffer, n);
    else if (n < 0) this.sink.ended(this, n === UV_EOF ? 0 : n, false);
  }
  function onconnect(status: number, handle: RawHandle) {
    if (status < 0) return handle.sink.ended(handle, status, true);
    handle.readStart();
    handle.sink.connected(handle);
  }
  return {
    name: 'tcp_wrap',
    connect(host, port, sink) {
      const handle = new TCP(constants.SOCKET);
      handle.sink = sink;
      handle.onread = onread;
      handle.useUserBuffer(buffer);
      const req = new TCPConnectWrap();
      req.oncomplete = onconnect;
      req.address = host;
      req.port = port;
      if (host !== lastHost) {
        lastHost = host;
        lastIsV6 = net.isIPv6(host);
      }
      const err = lastIsV6 ? handle.connect6(req, host, port) : handle.connect(req, host, port);
      if (err < 0) queueMicrotask(() => onconnect(err, handle));
      return handle;
    },
    write(conn, data) {
      const req = new WriteWrap();
      req.handle = conn;
      req.oncomplete = noop;
      req.async = false;
      return (conn as RawHandle).writeBuffer(req, data) === 0;
    },
    close(conn) {
      // uv_close stops reading itself; onread = noop drops anything already on its way to JS.
      const handle = conn as RawHandle;
      handle.onread = noop;
      handle.close();
    },
  };
}

function netTransport(): Transport {
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const owner = new WeakMap<object, TransportSink>();
  return {
    name: 'net',
    connect(host, port, sink) {
      let connecting = true;
      const socket: net.Socket = net.connect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer,
          callback: (n: number) => {
            sink.data(socket, buffer, n);
            return true;
          },
        },
      });
      owner.set(socket, sink);
      socket.once('connect', () => {
        connecting = false;
        sink.connected(socket);
      });
      socket.once('end', () => sink.ended(socket, 0, false));
      socket.once('error', (err: NodeJS.ErrnoException) => sink.ended(socket, typeof err.errno === 'number' ? err.errno : -1, connecting));
      return socket;
    },
    write(conn, data) {
      (conn as net.Socket).write(data);
      return true;
    },
    close(conn) {
      const socket = conn as net.Socket;
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
    },
  };
}

/** The fastest transport this runtime offers, or the one asked for. */
export function transport(name?: 'tcp_wrap' | 'net'): Transport {
  if (name === 'net') return netTransport();
  const binding = loadBinding();
  if (binding) return rawTransport(binding);
  if (name === 'tcp_wrap') throw new Error('this runtime has no tcp_wrap binding');
  return netTransport();
}
