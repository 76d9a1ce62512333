// How the client opens, writes, reads and closes one TCP connection. Three implementations of one small interface:
// - "epoll" (epoll.ts): the system calls themselves through the FFI, one epoll set, no libuv handle per connection;
//   synchronous, so the loop drives it with poll() in slices.
// - "tcp_wrap": libuv TCP handles straight from Node's binding (what net.Socket wraps), one shared read buffer,
//   no stream objects, no listeners: the per-connection path costs a handle and two request wraps.
// - "net": the public net.Socket API, for runtimes whose process.binding no longer offers tcp_wrap.
// `auto` takes the first of these that runs here. bench/loadgen.ts measures each against ApacheBench.
import { uvBindings } from '../core/uv-bindings.js';
import net from 'node:net';
import { epollTransport } from './epoll.js';
import type { Transport, TransportChoice, TransportName, TransportSink } from './wire.js';

export type { Transport, TransportChoice, TransportName, TransportSink };

export const TRANSPORT_CHOICES: readonly TransportChoice[] = ['auto', 'epoll', 'tcp_wrap', 'net'];
export const AUTO_ORDER: readonly TransportName[] = ['epoll', 'tcp_wrap', 'net'];
/**
 * The transport when none is asked: `auto`, so epoll where it runs. bench/loadgen.ts on a quiet 2-core VM: epoll
 * 1.01 and 1.05 times ab's rate at -c 100 and -c 500 against native-epoll, tcp_wrap 0.93 and 0.85 (docs/load-generator.md).
 */
export const DEFAULT_TRANSPORT: TransportChoice = 'auto';

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

const MAKERS: Record<TransportName, () => Transport> = {
  epoll: epollTransport,
  tcp_wrap: () => {
    const binding = loadBinding();
    if (!binding) throw new Error("this runtime has no tcp_wrap binding (Node's internal libuv TCP handles)");
    return rawTransport(binding);
  },
  net: netTransport,
};

/** Why `name` cannot run here, or undefined when it can. */
export function transportMissing(name: TransportName): string | undefined {
  if (name === 'net') return undefined;
  if (name === 'tcp_wrap') return loadBinding() ? undefined : "this runtime has no tcp_wrap binding (Node's internal libuv TCP handles)";
  try {
    epollTransport();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The transport `auto` takes here, and why: the first of AUTO_ORDER that runs, with why each before it does not. */
export function autoTransport(): { name: TransportName; why: string } {
  const missing: string[] = [];
  for (const name of AUTO_ORDER) {
    const why = transportMissing(name);
    if (why === undefined) {
      const before = missing.length > 0 ? ` (${missing.join('; ')})` : '';
      return { name, why: `${name}: the first of ${AUTO_ORDER.join(', ')} that runs here${before}` };
    }
    missing.push(`${name}: ${why}`);
  }
  return { name: 'net', why: `net, whatever else: ${missing.join('; ')}` };
}

/** The transport asked for (throws where it cannot run), or auto's, or the default (else auto's) when none is asked. */
export function transport(choice?: TransportChoice): Transport {
  if (choice === undefined) {
    if (DEFAULT_TRANSPORT !== 'auto' && transportMissing(DEFAULT_TRANSPORT) === undefined) return MAKERS[DEFAULT_TRANSPORT]();
    return MAKERS[autoTransport().name]();
  }
  return MAKERS[choice === 'auto' ? autoTransport().name : choice]();
}
