// `eventbench hosts up|down`: a server host and N client hosts on this one machine, for the tests and for users
// without a second machine. Each host is a network namespace with one veth link at MTU 1500 (the paper's Ethernet,
// not loopback's 65536) to a bridge, the switch, which lives in a namespace of its own; this machine (the runner)
// has one more veth link to that switch, so that it reaches every host's sshd. The addresses (10.208.0.0/24) exist
// only on those interfaces. Each host runs Debian's sshd, listening only on its own address, with a host key and a
// user key generated into a private folder (.cache/hosts of the checkout, mode 0700); the runner's ssh reaches them
// with the ssh config written there (passed with -F: the user's own ~/.ssh is never touched). --rate shapes every
// host's link with tbf, both ways. Everything is named eb-..., so `down` finds it even without the state file.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostError, MissingDependencyError, UsageError } from '../core/errors.js';
import { alive, signalProcess } from '../core/proc.js';
import { asRoot } from '../core/format.js';

export const PREFIX = 'eb-';
const SUBNET = '10.208.0';
const SWITCH = `${PREFIX}switch`;
const BRIDGE = `${PREFIX}br`;
/** The runner's end of its link to the switch, in this (the root) namespace, and its peer on the switch. */
export const RUNNER_LINK = `${PREFIX}runner`;
const RUNNER_PEER = `${PREFIX}runner-p`;
export const RUNNER_ADDRESS = `${SUBNET}.1`;
export const MTU = 1500;
export const MAX_CLIENTS = 16;
const INSTALL = `${asRoot('apt-get install openssh-server openssh-client iproute2')} (or ${asRoot('scripts/install-servers.sh')})`;
/** tbf needs a bucket of at least one timer tick's worth of bytes; 4 ms covers HZ = 250 and up. */
const TBF_BUCKET_S = 0.004;

export const STATE_DIR = fileURLToPath(new URL('../../../.cache/hosts/', import.meta.url));
const STATE_FILE = 'state.json';
export const HOSTS_SCHEMA = 'eventbench.hosts/1';

export interface NamespaceHost {
  /** "server", "client1", "client2", ... */
  name: string;
  /** Its network namespace (eb-server, eb-client1, ...). */
  namespace: string;
  address: string;
  /** How eventbench names it: ssh://ADDRESS. */
  url: string;
}

/** What `up` made, kept in STATE_DIR/state.json until `down`. */
export interface HostsState {
  schema: typeof HOSTS_SCHEMA;
  createdAt: string;
  mtu: number;
  /** Every host link shaped to this rate with tbf (tc's notation, e.g. "1gbit"); absent: unshaped. */
  rate?: string;
  /** One-way delay between two hosts, ms, with netem; absent: none. */
  delayMs?: number;
  runner: { link: string; address: string };
  hosts: NamespaceHost[];
  /** The ssh config eventbench passes with -F to reach these hosts. */
  sshConfig: string;
}

export function hostsPlan(clients: number): NamespaceHost[] {
  const names = ['server', ...Array.from({ length: clients }, (_, k) => `client${k + 1}`)];
  return names.map((name, k) => {
    const address = `${SUBNET}.${10 + k}`;
    return { name, namespace: `${PREFIX}${name}`, address, url: `ssh://${address}` };
  });
}

/** A tc rate ("100mbit", "1gbit"), checked; returns bits per second. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/i.exec(text.trim());
  const unit = { kbit: 1e3, mbit: 1e6, gbit: 1e9 }[m?.[2]?.toLowerCase() as 'kbit' | 'mbit' | 'gbit'];
  const bits = m && unit ? Number(m[1]) * unit : NaN;
  if (!(bits >= 1e3 && bits <= 100e9)) {
    throw new UsageError('--rate', text, "expected a rate from 1kbit to 100gbit in tc's units (kbit, mbit, gbit)", 'e.g. --rate 1gbit');
  }
  return bits;
}

/** Runs a command of iproute2 or OpenSSH; throws with its own message when it fails. */
function run(argv: string[], what: string): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new MissingDependencyError(argv[0]!, INSTALL);
    const said = (e.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? e.message;
    throw new HostError('hosts', `${what} failed (\`${argv.join(' ')}\`: ${said})`);
  }
}

/** The eb-... network namespaces that exist now. */
export function ourNamespaces(): string[] {
  let text = '';
  try {
    text = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(PREFIX));
}

/** Processes running in a network namespace, by pid (`ip netns pids`). */
export function namespacePids(namespace: string): number[] {
  try {
    const text = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function readState(dir = STATE_DIR): HostsState | undefined {
  try {
    const s = JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8')) as HostsState;
    return s.schema === HOSTS_SCHEMA ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Why this host cannot make namespaces, or undefined when it can (root, ip, sshd, ssh-keygen, ssh). */
export function namespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root: run it as root (sudo)';
  const tools = [
    ['ip', ['-V']],
    ['nsenter', ['-V']],
    ['ssh', ['-V']],
    ['ssh-keygen', ['-?']],
    ['/usr/sbin/sshd', ['-?']],
  ] as const;
  for (const [bin, args] of tools) {
    try {
      execFileSync(bin, args, { stdio: 'ignore' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${bin} is missing: ${INSTALL}`;
    }
  }
  return undefined;
}

export interface UpOptions {
  clients: number;
  rate?: string;
  delayMs?: number;
  dir?: string;
}

/** Brings the hosts up; if they are already up as asked, returns them with `already` set. Undoes everything on failure. */
export async function hostsUp(o: UpOptions): Promise<HostsState & { already?: true }> {
  if (!Number.isInteger(o.clients) || o.clients < 1 || o.clients > MAX_CLIENTS) {
    throw new UsageError('--clients', o.clients, `the limit is 1 to ${MAX_CLIENTS}`);
  }
  if (o.rate !== undefined) parseRate(o.rate);
  const dir = o.dir ?? STATE_DIR;
  const existing = ourNamespaces();
  const state = readState(dir);
  if (state && existing.length > 0) {
    if (state.hosts.length - 1 !== o.clients || state.rate !== o.rate || state.delayMs !== o.delayMs) {
      const now = describe({ clients: state.hosts.length - 1, rate: state.rate, delayMs: state.delayMs });
      throw new UsageError(
        'hosts up',
        describe(o),
        `the hosts are already up with ${now}`,
        'run `eventbench hosts down` first to change them',
      );
    }
    return { ...state, already: true };
  }
  if (existing.length > 0) {
    const one = existing.length === 1;
    throw new HostError(
      'hosts',
      `${existing.join(', ')} exist${one ? 's' : ''} but this checkout has no record of ${one ? 'it' : 'them'}` +
        ' (made by another checkout, or a `hosts up` that crashed): `eventbench hosts down` removes them',
    );
  }
  const why = namespacesUnavailable();
  if (why) throw new HostError('hosts', why);
  try {
    return await build(o, dir);
  } catch (err) {
    await hostsDown(dir);
    throw err;
  }
}

function describe(o: { clients: number; rate?: string; delayMs?: number }): string {
  const clients = `${o.clients} client${o.clients === 1 ? '' : 's'}`;
  return `${clients}${o.rate ? `, --rate ${o.rate}` : ''}${o.delayMs ? `, --delay ${o.delayMs}ms` : ''}`;
}

async function build(o: UpOptions, dir: string): Promise<HostsState> {
  const hosts = hostsPlan(o.clients);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  run(['ip', 'netns', 'add', SWITCH], 'creating the switch namespace');
  if (o.delayMs !== undefined) checkNetem(o.delayMs);
  run(['ip', '-n', SWITCH, 'link', 'add', BRIDGE, 'mtu', String(MTU), 'type', 'bridge'], 'creating the bridge');
  run(['ip', '-n', SWITCH, 'link', 'set', BRIDGE, 'up'], 'bringing the bridge up');
  run(
    ['ip', 'link', 'add', RUNNER_LINK, 'mtu', String(MTU), 'type', 'veth', 'peer', 'name', RUNNER_PEER, 'netns', SWITCH],
    "creating the runner's link",
  );
  run(['ip', '-n', SWITCH, 'link', 'set', RUNNER_PEER, 'master', BRIDGE, 'up'], "joining the runner's link to the bridge");
  run(['ip', 'addr', 'add', `${RUNNER_ADDRESS}/24`, 'dev', RUNNER_LINK], "addressing the runner's link");
  run(['ip', 'link', 'set', RUNNER_LINK, 'up'], "bringing the runner's link up");
  for (const h of hosts) addHost(h, o);
  const keys = makeKeys(dir, hosts);
  for (const h of hosts) await startSshd(h, dir, keys);
  const state: HostsState = {
    schema: HOSTS_SCHEMA,
    createdAt: new Date().toISOString(),
    mtu: MTU,
    ...(o.rate ? { rate: o.rate } : {}),
    ...(o.delayMs !== undefined ? { delayMs: o.delayMs } : {}),
    runner: { link: RUNNER_LINK, address: RUNNER_ADDRESS },
    hosts,
    sshConfig: path.join(dir, 'ssh_config'),
  };
  writeFileSync(path.join(dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  return state;
}

/** netem is the only qdisc that delays; a kernel without sch_netem answers "Specified qdisc kind is unknown". */
function checkNetem(delayMs: number): void {
  try {
    run(['tc', '-n', SWITCH, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], 'trying netem');
    run(['tc', '-n', SWITCH, 'qdisc', 'del', 'dev', 'lo', 'root'], 'removing the netem trial');
  } catch (err) {
    if (!/qdisc kind is unknown/i.test((err as Error).message)) throw err;
    throw new UsageError(
      '--delay',
      delayMs,
      'needs the netem qdisc, and this kernel has none (`tc qdisc ... netem` answers "Specified qdisc kind is unknown")',
      'drop --delay (--rate shapes links with tbf, which this kernel has), or use a kernel with sch_netem (modprobe sch_netem)',
    );
  }
}

/** One host: its namespace, its link to the switch at MTU 1500, its address, and its shaping. */
function addHost(h: NamespaceHost, o: UpOptions): void {
  const peer = h.namespace; // the switch's end is named after the host: eb-server, eb-client1...
  run(['ip', 'netns', 'add', h.namespace], `creating ${h.namespace}`);
  run(
    ['ip', '-n', SWITCH, 'link', 'add', peer, 'mtu', String(MTU), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.namespace],
    `linking ${h.namespace}`,
  );
  run(['ip', '-n', SWITCH, 'link', 'set', peer, 'master', BRIDGE, 'up'], `joining ${h.namespace} to the bridge`);
  run(['ip', '-n', h.namespace, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0'], `addressing ${h.namespace}`);
  run(['ip', '-n', h.namespace, 'link', 'set', 'eth0', 'up'], `bringing ${h.namespace} up`);
  run(['ip', '-n', h.namespace, 'link', 'set', 'lo', 'up'], `bringing ${h.namespace}'s loopback up`);
  const qdisc = shaping(o);
  if (!qdisc) return;
  run(['tc', '-n', h.namespace, 'qdisc', 'replace', 'dev', 'eth0', 'root', ...qdisc], `shaping ${h.namespace}'s link`);
  run(['tc', '-n', SWITCH, 'qdisc', 'replace', 'dev', peer, 'root', ...qdisc], `shaping the switch's link to ${h.namespace}`);
}

/**
 * The qdisc of each direction of a host's link: tbf at the rate; or netem with half the one-way delay (a packet
 * between two hosts leaves through two links: its sender's, then the switch's to its receiver).
 */
export function shaping(o: Pick<UpOptions, 'rate' | 'delayMs'>): string[] | undefined {
  if (o.delayMs !== undefined) return ['netem', 'delay', `${o.delayMs / 2}ms`, ...(o.rate ? ['rate', o.rate] : [])];
  if (!o.rate) return undefined;
  const bucketBytes = Math.max(32 * 1024, Math.ceil((parseRate(o.rate) / 8) * TBF_BUCKET_S));
  return ['tbf', 'rate', o.rate, 'burst', String(bucketBytes), 'latency', '50ms'];
}

/** A host key every host's sshd presents, a user key the runner logs in with, and the ssh config that ties them. */
function makeKeys(dir: string, hosts: NamespaceHost[]): { hostKey: string; authorizedKeys: string } {
  const hostKey = path.join(dir, 'host_key');
  const userKey = path.join(dir, 'id_ed25519');
  for (const key of [hostKey, userKey]) {
    rmSync(key, { force: true });
    rmSync(`${key}.pub`, { force: true });
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `eventbench-hosts-${path.basename(key)}`, '-f', key], 'generating a key');
  }
  const authorizedKeys = path.join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${userKey}.pub`), { mode: 0o600 });
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  writeFileSync(path.join(dir, 'known_hosts'), `${hosts.map((h) => h.address).join(',')} ${hostPub}\n`, { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'ssh_config'),
    [
      '# Written by `eventbench hosts up`; eventbench passes it with -F when it reaches these hosts. By hand:',
      `#   ssh -F ${path.join(dir, 'ssh_config')} ${hosts[0]!.address}`,
      `Host ${hosts.map((h) => h.address).join(' ')}`,
      `  IdentityFile ${userKey}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { hostKey, authorizedKeys };
}

/** sshd in the host's namespace, on its address only, with our keys; resolves once its pid file says it runs. */
async function startSshd(h: NamespaceHost, dir: string, keys: { hostKey: string; authorizedKeys: string }): Promise<void> {
  const file = (ext: string) => path.join(dir, `sshd-${h.name}.${ext}`);
  writeFileSync(
    file('conf'),
    [
      `ListenAddress ${h.address}`,
      `HostKey ${keys.hostKey}`,
      `AuthorizedKeysFile ${keys.authorizedKeys}`,
      `PidFile ${file('pid')}`,
      `AllowUsers ${os.userInfo().username}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      // The keys live in our own 0700 folder; the modes check would refuse a checkout under a world-writable /tmp.
      'StrictModes no',
      'UseDNS no',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'PrintMotd no',
      // One connection per host, several agents multiplexed over it (ControlMaster): allow more than 10 sessions.
      'MaxSessions 64',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  // Debian's sshd wants its privilege separation folder, which its own service makes at boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  run(['/usr/sbin/sshd', '-t', '-f', file('conf')], `checking ${h.namespace}'s sshd configuration`);
  // nsenter enters the network namespace only: `ip netns exec` would also remount /sys for it, and the cgroup
  // file systems mounted under /sys/fs/cgroup would vanish for the sshd and everything it starts (servers unthrottled).
  run(
    ['nsenter', `--net=/run/netns/${h.namespace}`, '/usr/sbin/sshd', '-f', file('conf'), '-E', file('log')],
    `starting sshd in ${h.namespace}`,
  );
  for (let i = 0; i < 100; i++) {
    if (sshdPid(file('pid')) !== undefined) return;
    await sleep(50);
  }
  throw new HostError(h.url, `sshd in ${h.namespace} wrote no pid file within 5 s: see ${file('log')}`);
}

function sshdPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Ends processes by pid: SIGTERM, then SIGKILL for any still there after a second; resolves when all are gone. */
async function endAll(pids: number[]): Promise<void> {
  for (const p of pids) signalProcess(p, 'SIGTERM');
  for (let i = 0; i < 20 && pids.some(alive); i++) await sleep(50);
  for (const p of pids.filter(alive)) signalProcess(p, 'SIGKILL');
  for (let i = 0; i < 40 && pids.some(alive); i++) await sleep(50);
}

/**
 * Removes everything `up` made: each sshd by its pid file, then whatever still runs in an eb- namespace (its
 * sessions and agents), the namespaces (which takes their links and the bridge with them), the runner's link, the
 * state folder. Idempotent; returns one line per thing removed.
 */
export async function hostsDown(dir = STATE_DIR): Promise<string[]> {
  const said: string[] = [];
  const state = readState(dir);
  const sshds = (state?.hosts ?? []).map((h) => sshdPid(path.join(dir, `sshd-${h.name}.pid`))).filter((p): p is number => p !== undefined);
  await endAll(sshds);
  if (sshds.length) said.push(`stopped sshd (pid ${sshds.join(', ')})`);
  const namespaces = ourNamespaces();
  const inside = namespaces.flatMap(namespacePids).filter((p) => p !== process.pid);
  await endAll(inside);
  if (inside.length) said.push(`stopped ${inside.length} process(es) left in the namespaces (pid ${inside.join(', ')})`);
  for (const ns of namespaces) {
    run(['ip', 'netns', 'delete', ns], `removing ${ns}`);
    said.push(`removed the network namespace ${ns}`);
  }
  // Its peer went with the switch's namespace, and the kernel removes it too, a moment later.
  for (let i = 0; i < 40 && existsSync(`/sys/class/net/${RUNNER_LINK}`); i++) await sleep(25);
  if (existsSync(`/sys/class/net/${RUNNER_LINK}`)) {
    run(['ip', 'link', 'delete', RUNNER_LINK], `removing ${RUNNER_LINK}`);
    said.push(`removed the link ${RUNNER_LINK}`);
  }
  if (existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    said.push(`removed ${dir}`);
  }
  return said;
}

/** The ssh config to pass with -F for `host` (an address), when it is one of the hosts `up` made. */
export function sshConfigFor(host: string, dir = STATE_DIR): string | undefined {
  const state = readState(dir);
  return state?.hosts.some((h) => h.address === host) && existsSync(state.sshConfig) ? state.sshConfig : undefined;
}
