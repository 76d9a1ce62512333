// A tiny real server for the runner's tests, speaking the `eventbench serve` contract: one first line
// `listening on http://HOST:PORT/`, the shared page, SIGTERM stops it. Flags make it misbehave on purpose:
//   --crash-after N   exit(3) when the Nth request arrives (a server that dies mid-point)
//   --stall           accept connections and never answer (every request times out)
//   --child           start a sleeping child process (a process tree to sample and to clean up)
//   --block-ms B --block-every-ms E   block the event loop for B ms every E ms (a server that stalls, for the open loop)
//   --work-ms W       spend W ms of CPU on every request before answering (a server whose service time is known)
//   --work-spread S   ... times a factor drawn once per process, uniform in 1 ± S (a fresh process's own speed)
import net from 'node:net';
import { spawn } from 'node:child_process';
import { buildResponses } from '../../src/servers/page.js';
import { answer } from '../../src/servers/request.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const crashAfter = Number(flag('--crash-after') ?? Infinity);
const stall = args.includes('--stall');
const responses = buildResponses(Number(flag('--page-bytes') ?? 305));
let served = 0;
const workMs = Number(flag('--work-ms') ?? 0) * (1 + Number(flag('--work-spread') ?? 0) * (2 * Math.random() - 1));
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const blockMs = Number(flag('--block-ms') ?? 0);
if (blockMs > 0) setInterval(() => spin(blockMs), Number(flag('--block-every-ms') ?? 1000));

// Like `eventbench serve`, nothing here outlives whoever started it, even after a SIGKILL that allows no clean-up:
// the helper and its child each watch their parent and exit once it is gone.
const ORPHAN_WATCH = 'const p = process.ppid; setInterval(() => { if (process.ppid !== p) process.exit(0); }, 200);';
const child = args.includes('--child') ? spawn(process.execPath, ['-e', ORPHAN_WATCH], { stdio: 'ignore' }) : undefined;
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 200).unref();

const server = net.createServer((socket) => {
  if (stall) {
    socket.on('error', () => {});
    return;
  }
  if (++served >= crashAfter) process.exit(3);
  let head = Buffer.alloc(0);
  socket.on('data', (d) => {
    head = Buffer.concat([head, d]);
    const reply = answer(head, responses);
    if (!reply) return;
    if (workMs > 0) spin(workMs);
    socket.end(reply);
  });
  socket.on('error', () => socket.destroy());
});
server.listen({ host: '127.0.0.1', port: Number(flag('--port') ?? 0), backlog: Number(flag('--backlog') ?? 511) }, () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${port}/\n`);
});
const stop = () => {
  child?.kill('SIGTERM');
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
