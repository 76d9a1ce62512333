// The flags that bring the user's own servers into a command (run, memory, serve, check): one definition, one help
// text, one reader, so each command takes them alike.
import { models } from '../servers/registry.js';
import { userServers, type UserServerModel } from '../servers/user/index.js';

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
