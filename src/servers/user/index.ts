// The user's own servers of one command: every `--server 'NAME=COMMAND'` and every entry of `--servers-file FILE`,
// checked against the built-in models' names, as models (./model.ts) that `eventbench serve` can find again.
import path from 'node:path';
import type { ServerModel } from '../types.js';
import { parseServerFlag, parseUrlFlag, readServersFile } from './spec.js';
import { urlModel, userModel, type UserServerModel } from './model.js';

export type { UserServerModel } from './model.js';
export type { UserServerSpec } from './spec.js';
export { recordUserServers, type RecordedUserServer, type RecordedUserServers } from './record.js';
export { urlModel, userModel } from './model.js';
export { resumedUserServers, type GivenServers, type ResumedServers } from './resume.js';

/** The --server values and the --servers-file of a command (and run's --url values). */
export interface UserServerFlags {
  server?: string[];
  serversFile?: string;
  url?: string[];
}

/** The models of the user's servers, in the order given (servers file first); `builtins` are the names they must not take. */
export function userServers(flags: UserServerFlags, builtins: readonly string[]): UserServerModel[] {
  const out: UserServerModel[] = [];
  const taken = new Set<string>();
  if (flags.serversFile !== undefined) {
    const file = path.resolve(flags.serversFile);
    for (const spec of readServersFile(flags.serversFile, builtins)) {
      out.push(userModel(spec, ['--servers-file', file]));
      taken.add(spec.name);
    }
  }
  for (const value of flags.server ?? []) {
    const spec = parseServerFlag(value, builtins, taken);
    out.push(userModel(spec, ['--server', value]));
    taken.add(spec.name);
  }
  return out;
}

/** The servers of run's --url values, as models that are never started; names must not clash with `taken`. */
export function urlServers(values: readonly string[], builtins: readonly string[], taken: readonly string[]): ServerModel[] {
  const names = new Set(taken);
  return values.map((value) => {
    const { name, url } = parseUrlFlag(value, builtins, names);
    names.add(name);
    return urlModel(name, url);
  });
}
