// A real server with a known cost per connection, for the memory experiment's test: each accepted connection
// holds a buffer of BYTES (argv[2]) whose every page is written, so it is resident. Prints the line the trial
// waits for, and holds connections until the client closes them.
import net from 'node:net';

const bytes = Number(process.argv[2] ?? 65536);
const held = new Map<net.Socket, Buffer>();
const server = net.createServer((socket) => {
  held.set(socket, Buffer.allocUnsafeSlow(bytes).fill(1));
  socket.on('error', () => {});
  socket.on('close', () => held.delete(socket));
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${port}/\n`);
});
process.on('SIGTERM', () => process.exit(0));
