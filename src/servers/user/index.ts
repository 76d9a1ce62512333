// The user's own servers of one command: every `--server 'NAME=COMMAND'` and every entry of `--servers-file FILE`,
// checked against the built-in models' names, as models (./model.ts) that `eventbench serve` can find again.
import path from 'node:path';
import { parseServerFlag, readServersFile } from './spec.js';
import { userModel, type UserServerModel } from './model.js';

export type { UserServerModel } from './model.js';
export type { UserServerSpec } from './spec.js';
export { userModel } from './model.js';

/** The --server values and the --servers-file of a command. */
export interface UserServerFlags {
  server?: string[];
  serversFile?: string;
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
