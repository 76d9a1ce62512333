// The one small interface every transport of the load client implements (./transport.ts picks one: epoll.ts, the
// libuv TCP handles, net.Socket), and the names they go by: the loop speaks to it, each transport implements it.

export type TransportName = 'epoll' | 'tcp_wrap' | 'net';
/** What `--transport` takes: a transport, or `auto` (the first of AUTO_ORDER that runs here). */
export type TransportChoice = TransportName | 'auto';
/** What the client loop hears from a transport about one connection. `conn` is the transport's handle. */
export interface TransportSink {
  connected(conn: object): void;
  /** `n` bytes arrived at the start of `buf` (the transport's shared read buffer). */
  data(conn: object, buf: Buffer, n: number): void;
  /** The peer closed (errno 0) or the connection failed (errno < 0, a libuv error code). */
  ended(conn: object, errno: number, whileConnecting: boolean): void;
}

export interface Transport {
  readonly name: TransportName;
  /** Starts connecting; the sink hears `connected` or `ended(…, whileConnecting = true)`. Returns the handle. */
  connect(host: string, port: number, sink: TransportSink): object;
  /** Writes the request; returns false if the write failed at once. */
  write(conn: object, data: Buffer): boolean;
  /** Closes the connection; the sink hears nothing more from it. */
  close(conn: object): void;
  /**
   * A synchronous transport's only way to make progress (unset for the others, which Node's event loop drives):
   * waits for socket events and tells the sinks, until `untilMs` on performance.now() or interrupt(). An `exact`
   * end is something due then; any other (the end of a slice) may pass by less than a millisecond.
   */
  poll?(untilMs: number, exact: boolean): void;
  /** Makes the poll under way return once the events in hand are told (a loop has ended). */
  interrupt?(): void;
}
