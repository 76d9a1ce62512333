// Host strings and the ssh command lines built from them. A host string is checked field by field before it reaches
// ssh: `ssh://[user@]host[:port]` (an ssh URI, RFC 3986's authority) where the user is a user name, the host a host
// name, an IPv4 address or an IPv6 address in [], neither starting with "-" (ssh would read it as an option), and
// the port 1 to 65535. Every ssh command line puts `--` before the destination, so nothing after it is an option.
import { isIP } from 'node:net';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import { sshConfigFor } from './namespaces.js';

export type SshHost = { kind: 'ssh'; text: string; user?: string; host: string; port?: number };
export type HostSpec = { kind: 'local'; text: 'local' } | SshHost;

export const SSH_DEFAULTS = {
  /** A master connection outlives its last session by this long, seconds (a killed runner's lingers no longer). */
  controlPersistS: 30,
} as const;

const FORM = 'expected local or ssh://[user@]host[:port]';
const EXAMPLE = 'e.g. ssh://bench@192.168.1.20 or ssh://10.208.0.11';
/** A host name's labels (RFC 1123: letters, digits, "-", not starting with "-"), "." between them; "_" as many allow. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;
/** A user name as POSIX systems take it (letters, digits, ".", "_", "-"), not starting with "-". */
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/;
const URI = /^ssh:\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#@[\]]*)(?::([^/?#]*))?\/?$/;

/** `local` or `ssh://[user@]host[:port]`, each field checked; `field` names the flag that gave it. */
export function parseHostSpec(text: string, field = '--agents'): HostSpec {
  if (text === 'local') return { kind: 'local', text };
  const m = URI.exec(text);
  // A password (user:password@) has no place in a host string: ssh takes keys.
  if (!m || m[1]?.includes(':') || m[2] === '') throw new UsageError(field, text, FORM, EXAMPLE);
  const [, user, rawHost = '', port] = m;
  const bad = (what: string, value: string, rule: string) =>
    new UsageError(field, text, `its ${what} ${JSON.stringify(value)} ${rule}`, `${FORM}, ${EXAMPLE}`);
  if (user !== undefined && !USER_NAME.test(user)) {
    throw bad('user', user, 'is not a user name: letters, digits, ".", "_" and "-", at most 32, not starting with "-"');
  }
  const bracketed = rawHost.startsWith('[');
  const host = bracketed ? rawHost.slice(1, -1) : rawHost;
  const hostRule =
    'is not a host (RFC 3986): a name of letters, digits, "-" and "." whose labels do not start with "-", an IPv4 address, ' +
    'or an IPv6 address in []';
  if (bracketed ? isIP(host) !== 6 : !HOST_NAME.test(host)) throw bad('host', rawHost, hostRule);
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw bad('port', port, 'is not a port: the limit is 1 to 65535');
  }
  return {
    kind: 'ssh',
    text,
    host,
    ...(user !== undefined ? { user } : {}),
    ...(port !== undefined ? { port: Number(port) } : {}),
  };
}

/** A word as a POSIX shell reads it back: bare when safe, else in single quotes. */
export const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** ssh's own options for a host: batch mode, a connect timeout, one shared master connection, the namespace config. */
export function sshOptions(spec: SshHost, controlDir: string, connectTimeoutS: number): string[] {
  const config = sshConfigFor(spec.host);
  return [
    ...(config ? ['-F', config] : []),
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${connectTimeoutS}`,
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${path.join(controlDir, '%C')}`,
    '-o',
    `ControlPersist=${SSH_DEFAULTS.controlPersistS}`,
    // A path that dies silently mid-load is noticed within 15 s.
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    ...(spec.port ? ['-p', String(spec.port)] : []),
    ...(spec.user ? ['-l', spec.user] : []),
  ];
}

/** ssh's argv (after `ssh`): its options, `--`, the destination, then the remote command, if any. */
export function sshArgv(spec: SshHost, options: readonly string[], remote: readonly string[]): string[] {
  return [...options, '--', spec.host, ...remote];
}

/** The ssh command a user can try by hand to reach that host as eventbench does. */
export function sshTry(spec: SshHost): string {
  const config = sshConfigFor(spec.host);
  const options = [
    ...(config ? ['-F', config] : []),
    ...(spec.port ? ['-p', String(spec.port)] : []),
    ...(spec.user ? ['-l', spec.user] : []),
  ];
  return ['ssh', ...sshArgv(spec, options, ['true'])].map(shellQuote).join(' ');
}
