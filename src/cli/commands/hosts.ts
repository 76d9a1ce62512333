// `eventbench hosts up|down|status`: a server host and client hosts on this machine (network namespaces with sshd),
// for a two-host run without a second machine. The library is src/host/namespaces.ts.
import { numberArg, parseCommandArgs } from '../../core/args.js';
import { UsageError } from '../../core/errors.js';
import { hostsDown, hostsUp, MAX_CLIENTS, MTU, readState, STATE_DIR, type HostsState } from '../../host/namespaces.js';
import { EXIT, type Command } from '../command.js';
import { asRoot } from '../../core/format.js';

const help = `eventbench hosts: a server host and client hosts on this machine, as network namespaces reached over SSH.

Usage: eventbench hosts up [--clients N] [--rate R] [--delay MS]
       eventbench hosts down
       eventbench hosts status

\`up\` makes one network namespace for the server (eb-server) and N for clients (eb-client1...), each joined by a
veth link at MTU ${MTU} (the paper's Ethernet, where loopback has 65536) to a bridge, with addresses in 10.208.0.0/24
that exist only on those links; this machine gets one more link to the bridge (eb-runner, 10.208.0.1). Each
namespace runs Debian's sshd on its own address only, with a host key and a user key generated into
${STATE_DIR} (mode 0700). eventbench reaches those addresses with the ssh config written there (-F), so your
~/.ssh is never read or changed. It prints the ssh:// address of each host. Needs root, iproute2 and openssh-server.

Options:
  --clients N    client hosts, 1 to ${MAX_CLIENTS} (default 1)                                 --clients 2
  --rate R       shape every host's link, both ways, with tbf (tc's units: kbit, mbit, gbit)  --rate 1gbit
  --delay MS     one-way delay between two hosts, with netem; a kernel without sch_netem
                 (tc answers "Specified qdisc kind is unknown") refuses it                  --delay 0.1

\`down\` stops every sshd (by its pid file) and whatever runs in the namespaces, removes the namespaces, links,
bridge and the key folder; it finds everything by its eb- prefix and may be run any number of times.

Examples:
  ${asRoot('eventbench hosts up --clients 2 --rate 1gbit')}
  eventbench run --server-host ssh://10.208.0.10 --client-hosts ssh://10.208.0.11,ssh://10.208.0.12 --quick
  eventbench load --agents ssh://10.208.0.11,ssh://10.208.0.12 -c 100 -n 20000 http://10.208.0.10:PORT/
  ${asRoot('eventbench hosts down')}
`;

function printState(s: HostsState): void {
  const shaped =
    s.delayMs !== undefined
      ? `netem, ${s.delayMs} ms one way${s.rate ? ` at ${s.rate}` : ''}`
      : s.rate
        ? `tbf at ${s.rate} each way`
        : 'unshaped';
  process.stdout.write(
    `${s.hosts.length} hosts on a bridge at MTU ${s.mtu} (${shaped}); ` + `this machine is ${s.runner.address} (${s.runner.link}):\n`,
  );
  const width = Math.max(...s.hosts.map((h) => h.name.length));
  for (const h of s.hosts) process.stdout.write(`  ${h.name.padEnd(width)}  ${h.url.padEnd(20)}  namespace ${h.namespace}\n`);
  const clients = s.hosts.filter((h) => h.name !== 'server');
  const server = s.hosts.find((h) => h.name === 'server')!;
  process.stdout.write(
    [
      `eventbench reaches these addresses with ${s.sshConfig} (ssh -F; key and known_hosts beside it), and runs`,
      `this checkout's eventbench there (same filesystem). By hand: ssh -F ${s.sshConfig} ${server.address}`,
      `A server in the server host: ip netns exec ${server.namespace} eventbench serve events --host ${server.address} --port 8080`,
      `Load from the clients: eventbench load --agents ${clients.map((c) => c.url).join(',')} -c 100 -n 20000 http://${server.address}:8080/`,
      `A run with every server there: eventbench run --server-host ${server.url} [--client-hosts ${clients.map((c) => c.url).join(',')}]`,
      'Remove it all: eventbench hosts down',
      '',
    ].join('\n'),
  );
}

export const hosts: Command = {
  name: 'hosts',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('hosts', argv, {
      clients: { type: 'string' },
      rate: { type: 'string' },
      delay: { type: 'string' },
    });
    const [action, ...extra] = positionals;
    if (!action || !['up', 'down', 'status'].includes(action) || extra.length > 0) {
      throw new UsageError(
        'hosts',
        positionals.join(' ') || '(nothing)',
        'expected up, down or status',
        'e.g. `eventbench hosts up --clients 2`',
      );
    }
    if (action !== 'up') {
      for (const flag of ['clients', 'rate', 'delay'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag}`, values[flag], `belongs to \`hosts up\`, not \`hosts ${action}\``);
      }
    }
    if (action === 'status') {
      const s = readState();
      if (!s) process.stdout.write('No hosts are up (eventbench hosts up makes them).\n');
      else printState(s);
      return EXIT.ok;
    }
    if (action === 'down') {
      const said = await hostsDown();
      process.stdout.write(said.length ? said.map((l) => `${l}\n`).join('') : 'Nothing to remove: no hosts were up.\n');
      return EXIT.ok;
    }
    const state = await hostsUp({
      clients: numberArg('--clients', values.clients, 1, MAX_CLIENTS) ?? 1,
      rate: values.rate,
      delayMs: numberArg('--delay', values.delay, 0.001, 10_000, false),
    });
    if (state.already) process.stdout.write('The hosts are already up.\n');
    printState(state);
    return EXIT.ok;
  },
};
