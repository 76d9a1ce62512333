// The flags that bring the user's own servers into a command (run, memory, serve, check): one definition, one help
// text, one reader, so each command takes them alike.
import { createInterface } from 'node:readline/promises';
import { models } from '../servers/registry.js';
import type { ServerModel } from '../servers/types.js';
import { readRunInfo } from '../results/store.js';
import { resumedUserServers, userServers, type ResumedServers, type UserServerModel } from '../servers/user/index.js';

export const USER_SERVER_OPTIONS = {
  server: { type: 'string', multiple: true },
  'servers-file': { type: 'string' },
} as const;

export const USER_SERVER_HELP = `  --server 'NAME=CMD'     your own server, as a command (repeatable); it must listen on {port};
                          also {host}, {backlog} and {page} (a file holding the page); run without a shell
                          e.g. --server 'myapp=python3 app.py --port {port}'
  --servers-file FILE     your own servers from a JSON file (command as a list, cwd, env, ready, label...;
                          see examples/servers.json), e.g. --servers-file examples/servers.json`;

/** The user servers named by a command's --server and --servers-file flags, checked. */
export function userServersOf(values: { server?: string[] | undefined; 'servers-file'?: string | undefined }): UserServerModel[] {
  const file = values['servers-file'];
  const flags = { ...(values.server ? { server: values.server } : {}), ...(file !== undefined ? { serversFile: file } : {}) };
  return userServers(
    flags,
    models.map((m) => m.name),
  );
}

/**
 * On a terminal, asks the user a yes-or-no question on stderr (a command a results folder names, on resume); absent
 * elsewhere (a script, a pipe), where such a command is refused instead.
 */
export function terminalConfirm(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^(y|yes)$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  };
}

/** The user's servers of the run in `dir`, as the user gives them now (`given`: --server, --servers-file, --url) or confirms. */
export function resumeServers(dir: string, given: readonly ServerModel[], confirm = terminalConfirm()): Promise<ResumedServers> {
  const user = given.filter((m): m is UserServerModel => 'spec' in m);
  const urls = given.filter((m) => m.url !== undefined);
  return resumedUserServers(dir, readRunInfo(dir).plan, { user, urls }, confirm);
}
