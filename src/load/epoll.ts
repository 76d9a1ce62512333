// The `epoll` transport: the client's connections on the system calls themselves, through the runtime's FFI
// (core/ffi.ts), with no libuv handle, no request wrap and no callback from C++ per connection. A non-blocking
// socket(2) and connect(2); one epoll set per thread, each socket added once, edge-triggered for both directions,
// so that no epoll_ctl follows its connect; the request written with one write(2) the moment it is connected; the
// response read into one pinned buffer until the server's FIN; close(2). What a connection costs the client is then
// what it costs ab: socket, connect, epoll_ctl, write, read, read, close, and its share of an epoll_wait.
// The connections a wake-up's events start (a closed loop's replacements) connect after every event of that wake-up
// is told: each finished request is stamped before any new connection's work, and the server sees the new
// connections arrive together. Connecting each at once instead, in the middle of the wake-up, spread the arrivals:
// a throttled nginx then woke more often for fewer connections and spent 8-12% more CPU a request than under ab
// (bench/loadgen.ts's throttled latency); together, it spends as much as under ab, or less.
// It is synchronous: nothing happens until the loop (loop.ts) calls poll(), which waits in epoll_wait and calls the
// sinks, in slices, between which Node's own event loop runs the loop's timers, its abort signal and its progress.
// Anything else on the same thread waits for the end of a slice (at most 5 ms): a server in the same process (a
// test's) answers only between slices.
import * as sys from '../core/syscalls.js';
import type { Transport, TransportSink } from './wire.js';

const READ_BUFFER_BYTES = 64 * 1024;
const MAX_EVENTS = 256;
/** Everything a connection waits for, edge-triggered: connected (OUT), response bytes or the FIN (IN, RDHUP). */
const WATCH = sys.EPOLLIN | sys.EPOLLOUT | sys.EPOLLRDHUP | sys.EPOLLET;
const READABLE = sys.EPOLLIN | sys.EPOLLRDHUP | sys.EPOLLHUP | sys.EPOLLERR;
const ECONNREFUSED = 111;

/**
 * One connection. The object of a descriptor number is reused by the next connection on that number; `tag`
 * (epoll's data beside the descriptor) changes at each close, so an event of an earlier connection is told apart.
 */
class Connection {
  tag = 0;
  open = false;
  connecting = false;
  /** Set when opened during a wake-up: where its connect(2), which waits for the end of the wake-up's events, goes. */
  to: sys.SocketAddress | null = null;
  sink: TransportSink | null = null;
  /** A connect that failed at once: its errno, reported at the next poll (never inside connect()). */
  errno = 0;
  constructor(public fd: number) {}
}

class EpollTransport implements Transport {
  readonly name = 'epoll' as const;
  private readonly ffi = sys.ffi();
  private readonly c = this.ffi.calls;
  private readonly set = new sys.EpollSet(this.ffi, MAX_EVENTS);
  private readonly read = this.ffi.pin(READ_BUFFER_BYTES);
  /** The same bytes, as the Buffer the sinks are given. */
  private readonly readBuffer = Buffer.from(this.read.bytes.buffer, this.read.bytes.byteOffset, READ_BUFFER_BYTES);
  private readonly scratch = this.ffi.pin(16);
  private readonly byFd: (Connection | undefined)[] = [];
  private failed: Connection[] = [];
  /** The request last written and where its copy lies: a loop writes the same bytes every time. */
  private request: Buffer | null = null;
  private requestCopy = this.ffi.pin(4096);
  private address: { host: string; port: number; at: sys.SocketAddress } | null = null;
  private stopPolling = false;
  /** Telling a wake-up's events: connections opened now are deferred. */
  private telling = false;
  private deferred: Connection[] = [];

  connect(host: string, port: number, sink: TransportSink): object {
    if (this.address?.host !== host || this.address.port !== port)
      this.address = { host, port, at: sys.socketAddress(this.ffi, host, port) };
    const to = this.address.at;
    const fd = this.c.socket(to.family, sys.SOCK_STREAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const lost = new Connection(-1);
      lost.sink = sink;
      return this.failLater(lost, this.ffi.errno());
    }
    this.byFd[fd] ??= new Connection(fd);
    const conn = this.byFd[fd];
    conn.open = conn.connecting = true;
    conn.sink = sink;
    if (this.telling) {
      conn.to = to;
      this.deferred.push(conn);
    } else this.start(conn, to);
    return conn;
  }

  /** connect(2) and epoll_ctl(ADD) of an opened socket; a failure is told at the next poll. */
  private start(conn: Connection, to: sys.SocketAddress): void {
    conn.to = null;
    const connected = this.c.connect(conn.fd, to.addr, to.length) === 0 || this.ffi.errno() === sys.EINPROGRESS;
    if (connected && this.set.control(sys.EPOLL_CTL_ADD, conn.fd, WATCH, conn.tag) === 0) return;
    const errno = this.ffi.errno();
    this.c.close(conn.fd);
    this.byFd[conn.fd] = undefined; // the number's next socket gets an object of its own
    conn.fd = -1;
    this.failLater(conn, errno);
  }

  /** The connections opened while a wake-up's events were told, connected together (a closed loop's replacements). */
  private startDeferred(): void {
    const list = this.deferred;
    this.deferred = [];
    for (const conn of list) if (conn.to) this.start(conn, conn.to);
  }

  /** A connection that could not start, told to its sink at the next poll, as an asynchronous failure would be. */
  private failLater(conn: Connection, errno: number): Connection {
    conn.open = conn.connecting = true;
    conn.errno = errno;
    this.failed.push(conn);
    return conn;
  }

  /** One write of the request (a request fits a fresh socket's send buffer at once; a part written is a failure). */
  write(conn: object, data: Buffer): boolean {
    const { fd } = conn as Connection;
    if (data !== this.request) {
      if (data.length > this.requestCopy.bytes.length) this.requestCopy = this.ffi.pin(data.length);
      this.requestCopy.bytes.set(data);
      this.request = data;
    }
    return fd >= 0 && this.c.write(fd, this.requestCopy.addr, data.length) === data.length;
  }

  close(conn: object): void {
    const c = conn as Connection;
    if (!c.open) return;
    c.open = false;
    c.sink = null;
    c.to = null;
    if (c.fd < 0) return;
    c.tag = (c.tag + 1) >>> 0;
    this.c.close(c.fd); // which also takes it out of the epoll set
  }

  /**
   * Handles socket events until `untilMs` (performance.now()), or until a loop ends (interrupt()). epoll_wait counts
   * whole milliseconds: an `exact` end (a request due then) is met by waiting the last fraction with a timeout of 0;
   * any other may pass by less than a millisecond, so that an idle client sleeps instead of spinning.
   */
  poll(untilMs: number, exact: boolean): void {
    this.stopPolling = false;
    do {
      if (this.failed.length > 0) this.reportFailures();
      const leftMs = untilMs - performance.now();
      const n = this.set.wait(this.failed.length > 0 ? 0 : Math.max(0, exact ? Math.floor(leftMs) : Math.ceil(leftMs)));
      this.telling = true;
      try {
        for (let i = 0; i < n; i++) {
          const conn = this.byFd[this.set.dataOf(i)];
          if (conn?.open && conn.tag === this.set.tagOf(i)) this.ready(conn, this.set.flags(i));
        }
      } finally {
        this.telling = false;
        if (this.deferred.length > 0) this.startDeferred();
      }
    } while (!this.stopPolling && performance.now() < untilMs);
  }

  /** A loop has ended: the poll under way returns after the events in hand. */
  interrupt(): void {
    this.stopPolling = true;
  }

  private reportFailures(): void {
    const failed = this.failed;
    this.failed = [];
    for (const conn of failed) if (conn.open) conn.sink!.ended(conn, -conn.errno, true);
  }

  private ready(conn: Connection, flags: number): void {
    if (conn.connecting) {
      if (flags & (sys.EPOLLERR | sys.EPOLLHUP)) {
        const errno = sys.socketError(this.ffi, conn.fd, this.scratch) || ECONNREFUSED;
        conn.sink!.ended(conn, -errno, true);
        return;
      }
      if (!(flags & sys.EPOLLOUT)) return;
      conn.connecting = false;
      conn.sink!.connected(conn); // which writes the request
      return;
    }
    if (flags & READABLE) this.readAll(conn, (flags & sys.EPOLLRDHUP) !== 0);
  }

  /**
   * Edge-triggered: reads until the socket has nothing more (EAGAIN), the server's FIN, or an error. When epoll
   * already saw the FIN (`finSeen`), everything before it is queued: a read that leaves the buffer room took it all,
   * and the read that would return 0 is spared.
   */
  private readAll(conn: Connection, finSeen: boolean): void {
    const { fd, tag } = conn;
    const sink = conn.sink!;
    for (;;) {
      const n = this.c.read(fd, this.read.addr, READ_BUFFER_BYTES);
      if (n > 0) {
        sink.data(conn, this.readBuffer, n);
        if (!conn.open || conn.tag !== tag) return; // the loop closed it (and may have opened another on this fd)
        if (!finSeen || n === READ_BUFFER_BYTES) continue;
        sink.ended(conn, 0, false);
        return;
      }
      const errno = n === 0 ? 0 : this.ffi.errno();
      if (errno === sys.EINTR) continue;
      if (errno !== sys.EAGAIN) sink.ended(conn, -errno, false); // 0: the server's FIN
      return;
    }
  }
}

let shared: EpollTransport | undefined;

/** This thread's epoll transport (one epoll set serves every loop of the thread); throws where it cannot run. */
export function epollTransport(): Transport {
  shared ??= new EpollTransport();
  return shared;
}
