// A results folder is data, never code. `run --resume DIR` starts the built-in servers by name, and a user's server
// only as the user gives it now (--server, --servers-file: its command, folder and environment compared with what
// DIR/run.json recorded; a difference is refused with a line showing both) or confirms on a terminal; `--url`
// servers likewise. A folder someone else edited to run another command runs nothing it names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import type { ServerModel } from '../types.js';
import { tempPrefix } from '../external/site.js';
import { urlModel, userModel, type UserServerModel } from './model.js';
import type { RecordedUserServer, RecordedUserServers } from './record.js';
import type { UserServerSpec } from './spec.js';

/** A word as a shell would take it back. */
const word = (s: string) => (/^[\w@%+=:,./{}-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** A server's command as the user reads it: the words, the folder, the names of its environment variables. */
function shownCommand(command: readonly string[], cwd: string, envNames: readonly string[]): string {
  const env = envNames.length > 0 ? ` with ${[...envNames].sort().join(', ')} set` : '';
  return `\`${command.map(word).join(' ')}\` in ${cwd}${env}`;
}

const storedNames = (s: RecordedUserServer) => [...Object.keys(s.env ?? {}), ...(s.envNotRecorded ?? [])];
const shownStored = (s: RecordedUserServer) => shownCommand(s.command, s.cwd, storedNames(s));
const shownGiven = (g: UserServerSpec) => shownCommand(g.command, g.cwd, Object.keys(g.env ?? {}));

/** Whether the user gives the command the run recorded: the same words, folder, variables and recorded values. */
function sameCommand(s: RecordedUserServer, g: UserServerSpec): boolean {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const env = g.env ?? {};
  const recorded = Object.entries(s.env ?? {}).every(([k, v]) => env[k] === v);
  return same(s.command, g.command) && s.cwd === g.cwd && same(storedNames(s).sort(), Object.keys(env).sort()) && recorded;
}

/** What the user gave with --server, --servers-file and --url beside --resume. */
export interface GivenServers {
  user: readonly UserServerModel[];
  urls: readonly ServerModel[];
}

/** The servers to resume with, and what to remove once the run ends (the file of servers confirmed from the folder). */
export interface ResumedServers {
  models: ServerModel[];
  cleanUp: () => void;
}

/**
 * The user's servers of the run in `dir` that may start again: those given now, checked against the record; those
 * not given, if `confirm` says yes to the command the folder names (only when the folder recorded all of it: a
 * variable whose value was not recorded must be given again); any other is refused, naming the flag that gives it.
 */
export async function resumedUserServers(
  dir: string,
  plan: RecordedUserServers,
  given: GivenServers,
  confirm?: (question: string) => Promise<boolean>,
): Promise<ResumedServers> {
  refuseStrangers(dir, plan, given);
  const models: ServerModel[] = [];
  const confirmed: RecordedUserServer[] = [];
  for (const s of plan.userServers ?? []) {
    const g = given.user.find((m) => m.name === s.name);
    if (g && sameCommand(s, g.spec)) models.push(g);
    else if (g) {
      const why = `its run.json runs ${s.name} as ${shownStored(s)}, and you give ${shownGiven(g.spec)}: a results folder never chooses what runs`;
      throw new UsageError('--resume', dir, why, `give the command the run used, or start a new run for ${shownGiven(g.spec)}`);
    } else if (
      (s.envNotRecorded ?? []).length === 0 &&
      (await confirm?.(`${dir}: run.json runs your server ${s.name} as ${shownStored(s)}. Run that? [y/N] `))
    ) {
      confirmed.push(s);
    } else {
      const why = `its run.json names your server ${s.name}, run as ${shownStored(s)}, and a results folder never runs a command by itself`;
      throw new UsageError('--resume', dir, why, 'if it is yours, give it again with --server or --servers-file, as you started the run');
    }
  }
  for (const u of plan.urls ?? []) models.push(await resumedUrl(dir, u, given, confirm));
  const file = confirmed.length > 0 ? serversFile(confirmed) : undefined;
  for (const s of confirmed) models.push(userModel(specOf(s), ['--servers-file', file!.path]));
  return { models, cleanUp: () => file?.remove() };
}

/** A server given beside --resume must be one of the run's. */
function refuseStrangers(dir: string, plan: RecordedUserServers, given: GivenServers): void {
  const names = [...(plan.userServers ?? []).map((s) => s.name), ...(plan.urls ?? []).map((u) => u.name)];
  for (const m of [...given.user, ...given.urls]) {
    if (names.includes(m.name)) continue;
    const has = names.length > 0 ? `its servers of yours are ${names.join(', ')}` : 'it has no server of yours';
    throw new UsageError(
      m.url ? '--url' : '--server',
      m.name,
      `is not a server of the run in ${dir} (${has})`,
      'drop it, or start a new run',
    );
  }
}

/** A --url server of the run: given again with the same URL, or confirmed. */
async function resumedUrl(
  dir: string,
  u: { name: string; url: string },
  given: GivenServers,
  confirm?: (question: string) => Promise<boolean>,
): Promise<ServerModel> {
  const g = given.urls.find((m) => m.name === u.name);
  if (g?.url === u.url) return g;
  if (g) {
    const why = `its run.json measures ${u.name} at ${u.url}, and you give ${g.url}: a results folder never chooses what is loaded`;
    throw new UsageError('--resume', dir, why, 'give the URL the run used, or start a new run');
  }
  if (await confirm?.(`${dir}: run.json loads ${u.name} at ${u.url}. Load it? [y/N] `)) return urlModel(u.name, u.url);
  const why = `its run.json names ${u.name} at ${u.url}, and a results folder never chooses what is loaded by itself`;
  throw new UsageError('--resume', dir, why, `if it is yours, give it again with --url ${u.name}=URL`);
}

/** A recorded server as a spec again (what `serve` reads from a servers file). */
function specOf({ serveArgs: _a, envNotRecorded: _e, ...spec }: RecordedUserServer): UserServerSpec {
  return spec;
}

/** The confirmed servers written as a servers file of the user's own, in a private folder removed at the end. */
function serversFile(servers: readonly RecordedUserServer[]): { path: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), tempPrefix('user')));
  const file = path.join(dir, 'servers.json');
  const entries = servers.map(({ source: _s, ...rest }) => {
    const { serveArgs: _a, envNotRecorded: _e, ...entry } = rest;
    return entry;
  });
  writeFileSync(file, JSON.stringify({ servers: entries }, null, 2), { mode: 0o600 });
  return { path: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
