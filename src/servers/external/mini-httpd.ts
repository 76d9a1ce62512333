// mini_httpd: a production fork server, by thttpd's author (Jef Poskanzer), from Debian 12. One process waits in
// select(2) for connections and forks a child for each, which reads the request, serves the file and exits: the
// paper's fork model, in a server with the checks of a real one (path, permissions, .htpasswd, MIME types, Date).
// It answers no row of the paper: the paper's "fork" row is a toy of under 200 lines (native-fork here), and the
// paper found its production servers slower than its toys for their checks; mini_httpd stands beside native-fork to
// show what those cost a fork server. Configured on the command line: no file, no log (nor syslog), no CGI.
import { cappedBacklog } from '../spawned.js';
import { productionModel, type Launch } from './launch.js';
import { SERVER_USER, type Site } from './site.js';

/** mini_httpd has no backlog setting: it calls listen(2) with 1024 (measured with ss: its listening socket's queue). */
const MINI_HTTPD_LISTEN_BACKLOG = 1024;

/** Its child's read timeout, compiled in (READ_TIMEOUT): a silent client is answered 408 and closed after 60 s. */
const MINI_HTTPD_READ_TIMEOUT_S = 60;

function configure(site: Site): Launch {
  const { docRoot, port, options } = site;
  // -D: the foreground; -d: the folder it serves (it chdir()s there); no -l: it logs nothing, not even to syslog.
  const args = ['-D', '-p', String(port), '-h', options.host, '-d', docRoot];
  if (site.asRoot) args.push('-u', SERVER_USER);
  const effectiveBacklog = cappedBacklog(MINI_HTTPD_LISTEN_BACKLOG);
  const notes = [
    `mini_httpd has no listen backlog setting: it asks for ${MINI_HTTPD_LISTEN_BACKLOG}, in force ${effectiveBacklog} (net.core.somaxconn); the requested ${options.backlog} is not applied`,
    `mini_httpd has no idle timeout setting: its children close a silent client after ${MINI_HTTPD_READ_TIMEOUT_S} s, not the requested ${options.idleTimeoutMs / 1000} s`,
  ];
  return { args, effectiveBacklog, notes };
}

export const miniHttpdModel = productionModel({
  name: 'mini-httpd',
  paperRow: null,
  connection: 'process',
  summary: "mini_httpd: a process forked per connection (thttpd's author; the production counterpart of native-fork)",
  binary: '/usr/sbin/mini_httpd',
  debianPackage: 'mini-httpd',
  // Measured on Debian 12's mini_httpd 1.30, none of it configurable.
  conformance: {
    // No head limit: a child reads a head of any length until its read timeout.
    ownHeadLimit: true,
    ownIdleClose: { withinS: MINI_HTTPD_READ_TIMEOUT_S + 5, why: `its read timeout is compiled in: ${MINI_HTTPD_READ_TIMEOUT_S} s` },
    notImplemented:
      'mini_httpd answers a method it does not serve (POST to a file, DELETE, PUT...) with 501 Not Implemented, and has no setting for it',
    eofEndsHead: 'mini_httpd takes a half-close after a request line for the end of the head, and serves the page',
    echoesProtocol:
      'mini_httpd starts its answer with the protocol the request line named, "UNKNOWN" when it named none: a malformed request gets "UNKNOWN 400 Bad Request"',
  },
  configure,
});
