// lighttpd: a single-process event-driven server, the paper's "lighttpd" row.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cappedBacklog } from '../spawned.js';
import { CLIENTS, productionModel, type Launch } from './launch.js';
import { SERVER_USER, type Site } from './site.js';

function configure(site: Site): Launch {
  const { dir, docRoot, runDir, port, options } = site;
  const errorLog = path.join(runDir, 'error.log');
  const conf = `# eventbench: lighttpd, written for one run and removed after it
server.document-root = "${docRoot}"
server.bind = "${options.host}"
server.port = ${port}
server.listen-backlog = ${options.backlog}
server.errorlog = "${errorLog}"
server.max-worker = 0
server.max-connections = ${CLIENTS}
server.max-fds = ${CLIENTS * 4}
server.max-read-idle = ${Math.max(1, Math.ceil(options.idleTimeoutMs / 1000))}
server.modules = ( "mod_access" )
# Like the toy servers, only GET and HEAD: 403 for the rest (lighttpd would answer 501, a 5xx, without this).
$HTTP["request-method"] !~ "^(GET|HEAD)$" { url.access-deny = ( "" ) }
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
${site.asRoot ? `server.username = "${SERVER_USER}"\nserver.groupname = "${SERVER_USER}"\n` : ''}`;
  const confFile = path.join(dir, 'lighttpd.conf');
  writeFileSync(confFile, conf);
  const effectiveBacklog = cappedBacklog(options.backlog);
  return { args: ['-D', '-f', confFile], effectiveBacklog, notes: [], errorLog };
}

export const lighttpdModel = productionModel({
  name: 'lighttpd',
  paperRow: 'lighttpd',
  connection: 'event',
  summary: 'lighttpd: one event-driven process',
  binary: '/usr/sbin/lighttpd',
  debianPackage: 'lighttpd',
  configure,
});
