// A user's own server, as the user describes it: `--server 'NAME=COMMAND {port}'` on the command line, or an entry of
// a servers file (JSON). Everything is checked here, once, so that bad input is one line naming the file, the entry,
// the field and what to do, before anything starts.
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { CONNECTION_KINDS, type ConnectionKind } from '../types.js';
import { PAPER_ROWS } from '../paper.js';
import { splitWords } from './command.js';

/** How long a user server may take to answer HTTP when nothing says otherwise, s. */
export const DEFAULT_READY_TIMEOUT_S = 20;
/** What the user may declare of a server's concurrency model; the report shows it (unknown when left out). */

export interface UserServerSpec {
  /** Its name in runs and reports; must not be a built-in model's. */
  name: string;
  /** The program and its arguments, run without a shell; placeholders filled at start. */
  command: string[];
  /** Absolute folder it runs in: a servers file's `cwd` (relative to the file), else the file's folder (--server: the current one). */
  cwd: string;
  /** Extra environment variables (placeholders filled too). */
  env?: Record<string, string>;
  /** Ready once `path` answers HTTP (any status), within `timeoutS` seconds. */
  ready: { timeoutS: number; path: string };
  /** The paper's row it answers (src/servers/paper.ts), if the user says so. */
  paperRow?: string;
  /** One line for reports: what it is ("Python asyncio, a coroutine per connection"). */
  label?: string;
  /** Its concurrency model as declared (default unknown). */
  connection?: ConnectionKind;
  /** Whether it is slow to serve a connection (a process or thread started per connection): longer bounds in `check`. */
  slow?: boolean;
  /** Where it was defined, for messages: `--server "mine=..."` or `examples/servers.json: servers[1] ("mine")`. */
  source: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$/;
const FIELDS = ['name', 'command', 'cwd', 'env', 'ready', 'paperRow', 'label', 'connection', 'slow'] as const;

/** Checks the name: its form, and that it is no built-in model's nor another user server's. */
function checkName(field: string, name: unknown, taken: ReadonlySet<string>, builtins: readonly string[]): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    const limit = 'expected a name of letters, digits, ".", "_", ":" and "-" (at most 40, no "@" or ",")';
    throw new UsageError(field, name, limit, 'e.g. "myapp"');
  }
  if (builtins.includes(name)) {
    const limit = 'is the name of a built-in server (eventbench serve --list)';
    throw new UsageError(field, name, limit, `choose another name, e.g. "my-${name}"`);
  }
  if (taken.has(name)) throw new UsageError(field, name, 'names two user servers', 'give each its own name');
  return name;
}

/** Checks the command: words, a first word that names a program, and {port} somewhere (command or env). */
function checkCommand(field: string, command: unknown, env: Record<string, string> | undefined): string[] {
  if (!Array.isArray(command) || command.length === 0 || command.some((w) => typeof w !== 'string') || command[0] === '') {
    const example = 'e.g. ["/usr/bin/python3", "app.py", "--port", "{port}"]';
    throw new UsageError(field, command, 'expected the program and its arguments as a list of strings', example);
  }
  const words = command as string[];
  if (!words.some((w) => w.includes('{port}')) && !Object.values(env ?? {}).some((v) => v.includes('{port}'))) {
    throw new UsageError(
      field,
      words.join(' '),
      'has no {port}: the server must listen on the port eventbench gives it',
      'put {port} where the server takes its port, e.g. --port {port} (or in env, e.g. "PORT": "{port}")',
    );
  }
  return words;
}

function optionalString(field: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsageError(field, v, 'expected a non-empty string');
  return v;
}

function checkEnv(field: string, env: unknown): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string')) {
    throw new UsageError(field, env, 'expected an object of string values', 'e.g. {"PYTHONUNBUFFERED": "1"}');
  }
  return env as Record<string, string>;
}

function checkReady(field: string, ready: unknown): UserServerSpec['ready'] {
  if (ready === undefined) return { timeoutS: DEFAULT_READY_TIMEOUT_S, path: '/' };
  if (typeof ready !== 'object' || ready === null || Array.isArray(ready)) {
    throw new UsageError(field, ready, 'expected {"timeoutS": 20, "path": "/"}');
  }
  const { timeoutS = DEFAULT_READY_TIMEOUT_S, path: p = '/', ...rest } = ready as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new UsageError(`${field}.${extra}`, rest[extra], 'is not a field of ready', 'expected timeoutS and path');
  if (typeof timeoutS !== 'number' || !(timeoutS >= 0.1 && timeoutS <= 600)) {
    throw new UsageError(`${field}.timeoutS`, timeoutS, 'the limit is 0.1 to 600 seconds');
  }
  if (typeof p !== 'string' || !p.startsWith('/')) throw new UsageError(`${field}.path`, p, 'expected a path starting with "/"');
  return { timeoutS, path: p };
}

/** The user's declarations: paper row, label, how it holds a connection, whether it is slow. */
function checkDeclared(field: string, e: Record<string, unknown>): Pick<UserServerSpec, 'paperRow' | 'label' | 'connection' | 'slow'> {
  const paperRow = optionalString(`${field}.paperRow`, e.paperRow);
  const row = paperRow === undefined ? undefined : PAPER_ROWS.find((r) => r.row.toLowerCase() === paperRow.toLowerCase());
  if (paperRow !== undefined && !row) {
    const rows = PAPER_ROWS.map((r) => r.row).join(', ');
    throw new UsageError(`${field}.paperRow`, paperRow, `is not a row of the paper's Figure 2; expected one of ${rows}`, 'or leave it out');
  }
  const label = optionalString(`${field}.label`, e.label);
  if (e.connection !== undefined && !CONNECTION_KINDS.includes(e.connection as ConnectionKind)) {
    throw new UsageError(`${field}.connection`, e.connection, `expected one of ${CONNECTION_KINDS.join(', ')}`);
  }
  if (e.slow !== undefined && typeof e.slow !== 'boolean') throw new UsageError(`${field}.slow`, e.slow, 'expected true or false');
  return {
    ...(row ? { paperRow: row.row } : {}),
    ...(label ? { label } : {}),
    ...(e.connection ? { connection: e.connection as ConnectionKind } : {}),
    ...(e.slow !== undefined ? { slow: e.slow as boolean } : {}),
  };
}

/** `--server 'NAME=COMMAND'`: the command split into words; it runs in the current folder. */
export function parseServerFlag(value: string, builtins: readonly string[], taken: ReadonlySet<string> = new Set()): UserServerSpec {
  const source = `--server ${JSON.stringify(value)}`;
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError('--server', value, 'expected NAME=COMMAND', "e.g. --server 'myapp=python3 app.py --port {port}'");
  const name = checkName('--server', value.slice(0, eq).trim(), taken, builtins);
  const command = checkCommand('--server', splitWords('--server', value.slice(eq + 1)), undefined);
  return { name, command, cwd: process.cwd(), ready: { timeoutS: DEFAULT_READY_TIMEOUT_S, path: '/' }, source };
}

/**
 * `--url [NAME=]URL`: a server already running, named NAME or by its host and port. Only the form is checked here;
 * whether it answers, when the run checks it (src/check/target.ts urlContext).
 */
export function parseUrlFlag(value: string, builtins: readonly string[], taken: ReadonlySet<string>): { name: string; url: string } {
  const eq = value.indexOf('=');
  const named = eq > 0 && eq < value.indexOf('://');
  const url = named ? value.slice(eq + 1) : value;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--url', value, 'is not a URL', 'e.g. --url http://127.0.0.1:8080/ or --url myapp=http://127.0.0.1:8080/');
  }
  const name = named ? value.slice(0, eq).trim() : parsed.host.replace(/[^A-Za-z0-9._:-]/g, '');
  return { name: checkName('--url', name, taken, builtins), url };
}

/** One entry of a servers file, checked field by field. */
function parseEntry(file: string, i: number, entry: unknown, taken: ReadonlySet<string>, builtins: readonly string[]): UserServerSpec {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new UsageError(`${file}: servers[${i}]`, entry, 'expected an object with name and command');
  }
  const e = entry as Record<string, unknown>;
  const at = `${file}: servers[${i}]${typeof e.name === 'string' ? ` (${JSON.stringify(e.name)})` : ''}`;
  const unknown = Object.keys(e).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    throw new UsageError(`${at}.${unknown}`, e[unknown], `is not a field of a server; expected ${FIELDS.join(', ')}`);
  }
  for (const required of ['name', 'command'] as const) {
    if (e[required] === undefined) throw new UsageError(`${at}.${required}`, undefined, 'is missing', `every server needs ${required}`);
  }
  const name = checkName(`${at}.name`, e.name, taken, builtins);
  const env = checkEnv(`${at}.env`, e.env);
  const command = checkCommand(`${at}.command`, e.command, env);
  const dir = path.dirname(path.resolve(file));
  const cwd = path.resolve(dir, optionalString(`${at}.cwd`, e.cwd) ?? '.');
  try {
    accessSync(cwd, constants.X_OK);
  } catch {
    throw new UsageError(`${at}.cwd`, e.cwd ?? '.', `is not a folder here (${cwd})`, 'fix the path; it is relative to the servers file');
  }
  return { name, command, cwd, ...(env ? { env } : {}), ready: checkReady(`${at}.ready`, e.ready), ...checkDeclared(at, e), source: at };
}

/** Reads a servers file: `{"servers": [{"name": ..., "command": [...]}, ...]}`. */
export function readServersFile(file: string, builtins: readonly string[], taken: ReadonlySet<string> = new Set()): UserServerSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError('--servers-file', file, `cannot be read (${why})`, 'check the path');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const at = Number(/position (\d+)/.exec((err as Error).message)?.[1] ?? NaN);
    const where = Number.isFinite(at) ? ` at line ${text.slice(0, at).split('\n').length}` : '';
    throw new UsageError('--servers-file', file, `is not valid JSON${where} (${(err as Error).message})`, 'fix the file');
  }
  const servers = (doc as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers) || servers.length === 0) {
    const example = 'e.g. {"servers": [{"name": "myapp", "command": ["./app", "--port", "{port}"]}]}';
    throw new UsageError(`${file}: servers`, servers, 'expected a non-empty list of servers', example);
  }
  const names = new Set(taken);
  return servers.map((entry, i) => {
    const spec = parseEntry(file, i, entry, names, builtins);
    names.add(spec.name);
    return spec;
  });
}
