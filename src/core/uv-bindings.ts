// The one probe of Node's internal libuv bindings, `tcp_wrap` and `stream_wrap` (what net.Socket wraps): the load
// generator's raw transport and the events-uv server use them where the runtime still offers them.

/** The two bindings, or undefined where this runtime does not offer them as Node 20 and 22 do. */
// biome-ignore lint/suspicious/noExplicitAny: internal bindings have no types; the callers use them as Node documents them in its sources
type Binding = any;

export function uvBindings(): { tcp: Binding; stream: Binding } | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Binding }).binding;
    const tcp = binding('tcp_wrap');
    const stream = binding('stream_wrap');
    if (typeof tcp?.TCP !== 'function' || !(stream?.streamBaseState instanceof Int32Array)) return undefined;
    return { tcp, stream };
  } catch {
    return undefined;
  }
}
