// webfs (webfsd): the paper's thttpd row by its nearest kin in Debian 12, which no longer packages thttpd. Like
// thttpd, one process runs a non-blocking select(2) loop over a state machine per connection (read the head, parse
// it, write the head, send the file, close or keep alive), with no worker, thread or pool: thttpd's architecture,
// in a static server of the same era and size. Configured on the command line: no file, no access log, no listing.
import { UsageError } from '../../core/errors.js';
import { cappedBacklog } from '../spawned.js';
import { productionModel, type Launch } from './launch.js';
import { SERVER_USER, type Site } from './site.js';

/**
 * Connections webfsd holds at once (its -c). select(2) can watch descriptors below FD_SETSIZE (1024) only, and webfsd
 * does not check: each connection holds its socket and, while the page is written, the page's file, so 500 keep
 * every descriptor below 1024 with the standard ones and the listening socket. Clients beyond wait in the kernel's
 * accept queue, which webfsd asks to be twice this long.
 */
export const WEBFS_CONNECTIONS = 500;

/** webfsd has no backlog setting: it calls listen(2) with twice its connection limit. */
const WEBFS_LISTEN_BACKLOG = 2 * WEBFS_CONNECTIONS;

/** Seconds between its looks at idle connections: its select(2) times out after its 5 s keep-alive time. */
const WEBFS_TICK_S = 5;

function configure(site: Site): Launch {
  const { docRoot, port, options } = site;
  // webfsd names itself by the address it binds and answers a request without a Host header with that name, which
  // it then finds invalid when it holds colons: over ::1 every such request got 400 (measured).
  if (options.host.includes(':'))
    throw new UsageError('--host', options.host, 'webfs answers 400 to every request without a Host header over IPv6', 'use 127.0.0.1');
  const idleS = Math.max(1, Math.ceil(options.idleTimeoutMs / 1000));
  const args = ['-F', '-j', '-4', '-p', String(port), '-i', options.host, '-r', docRoot, '-f', 'index.html'];
  args.push('-c', String(WEBFS_CONNECTIONS), '-t', String(idleS));
  // Without -l it keeps no access log; -s (syslog) is left off too.
  if (site.asRoot) args.push('-u', SERVER_USER, '-g', SERVER_USER);
  const effectiveBacklog = cappedBacklog(WEBFS_LISTEN_BACKLOG);
  const notes = [
    `webfs has no listen backlog setting: it asks for twice its ${WEBFS_CONNECTIONS} connections, ${WEBFS_LISTEN_BACKLOG}, in force ${effectiveBacklog} (net.core.somaxconn); the requested ${options.backlog} is not applied`,
    `webfs: at most ${WEBFS_CONNECTIONS} connections in its select(2) loop (descriptors stay below FD_SETSIZE); more clients wait in the accept queue`,
  ];
  return { args, effectiveBacklog, notes };
}

export const webfsModel = productionModel({
  name: 'webfs',
  paperRow: 'thttpd',
  connection: 'event',
  summary: "webfs: one process, a select(2) loop over a state machine per connection (thttpd's kin, stands in for it)",
  binary: '/usr/bin/webfsd',
  debianPackage: 'webfs',
  conformance: {
    // Measured on Debian 12's webfs 1.21: its head buffer is 4 KiB. A longer head gets a 400 and a close(2) with the
    // rest of the head unread, and Linux then resets the connection, discarding the 400 on its way out.
    ownHeadLimit: true,
    limits: {
      'big-header':
        'webfs closes a head over its 4 KiB buffer with the rest unread, so Linux resets the connection and the 400 it wrote is lost: the client sees a reset, not a 4xx',
    },
    ownIdleClose: {
      withinS: 1 + 2 * WEBFS_TICK_S,
      why: `its clock counts whole seconds, and with no other traffic its loop wakes every ${WEBFS_TICK_S} s to close idle clients`,
    },
    notImplemented: 'webfs answers POST and PUT, which it knows but does not serve, with 501 Not Implemented, and has no setting for it',
  },
  configure,
});
