// `eventbench agent`: the far end of a link from a runner (src/host/link.ts): JSON lines on stdin and stdout, the
// protocol in src/host/agent.ts. It lives as long as its link: when the ssh session drops or the runner dies, stdin
// closes (or stdout breaks: EPIPE) and it stops every load and server it started, then exits, quietly.
import { createInterface } from 'node:readline';
import { parseCommandArgs } from '../../core/args.js';
import { Agent } from '../../host/agent.js';
import { AGENT_PROTOCOL } from '../../host/protocol.js';
import { EXIT, type Command } from '../command.js';

const help = `eventbench agent: run loads and servers for a runner on another host, as JSON lines on stdin and stdout.

Usage: eventbench agent

A runner starts it over SSH (\`ssh HOST eventbench agent\`) or as a local child process (\`--agents local\`); you
do not run it by hand. Protocol ${AGENT_PROTOCOL}: one request per line, {"id": N, "cmd": ...}, one answer per line
with the same id. Commands: hello, clock, load, cancel, doctor, and server.NAME and client.NAME, the methods of the
sweep engine's host interfaces (see src/host/agent.ts). When its input closes it stops everything it started and
exits ${EXIT.ok}.

Example (by hand, to see it answer):
  echo '{"id":1,"cmd":"hello"}' | eventbench agent
`;

export const agent: Command = {
  name: 'agent',
  help,
  async run(argv) {
    parseCommandArgs('agent', argv, {});
    let broken = false;
    const a = new Agent((answer) => {
      if (!broken) process.stdout.write(JSON.stringify(answer) + '\n');
    });
    const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
    input.on('line', (line) => a.handle(line));
    // Its input closing is the end: the ssh session dropped, or the runner closed it or died. A signal is the same,
    // and so is its output breaking (EPIPE: nobody reads its answers any more), which is no error to print.
    process.stdout.removeAllListeners('error');
    await new Promise<void>((resolve) => {
      input.once('close', resolve);
      process.stdout.on('error', () => {
        broken = true;
        resolve();
      });
      for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(s, resolve);
    });
    // Its input may still be open (its output broke, or a signal came): nothing more is read.
    input.close();
    process.stdin.destroy();
    await a.shutdown();
    return EXIT.ok;
  },
};
