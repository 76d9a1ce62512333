// h2o: an event-driven server, here with one thread, standing in for the paper's Polipo, which Debian 12 no
// longer packages.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cappedBacklog } from '../spawned.js';
import { CLIENTS, productionModel, type Launch } from './launch.js';
import { SERVER_USER, type Site } from './site.js';

/** h2o has no backlog setting: it asks listen(2) for this many and the kernel caps it (lib/common/socket.h). */
const H2O_LISTEN_BACKLOG = 65535;

function configure(site: Site): Launch {
  const { dir, docRoot, runDir, port, options } = site;
  const errorLog = path.join(runDir, 'error.log');
  const conf = `# eventbench: h2o, written for one run and removed after it
listen:
  host: ${options.host}
  port: ${port}
num-threads: 1
http1-request-timeout: ${Math.max(1, Math.ceil(options.idleTimeoutMs / 1000))}
max-connections: ${CLIENTS}
pid-file: ${runDir}/h2o.pid
error-log: ${errorLog}
${site.asRoot ? `user: ${SERVER_USER}\n` : ''}hosts:
  default:
    paths:
      /:
        file.dir: ${docRoot}
`;
  const confFile = path.join(dir, 'h2o.conf');
  writeFileSync(confFile, conf);
  const effectiveBacklog = cappedBacklog(H2O_LISTEN_BACKLOG);
  const notes = [
    `h2o has no listen backlog setting: it asks for ${H2O_LISTEN_BACKLOG}, in force ${effectiveBacklog} (net.core.somaxconn); the requested ${options.backlog} is not applied`,
  ];
  return { args: ['-c', confFile], effectiveBacklog, notes, errorLog };
}

export const h2oModel = productionModel({
  name: 'h2o',
  paperRow: 'Polipo',
  connection: 'event',
  summary: 'h2o: one event-driven thread (stands in for Polipo)',
  binary: '/usr/bin/h2o',
  debianPackage: 'h2o',
  // Its head limit is 64 KiB, not 8: an unfinished head of 9 KiB waits for its idle timeout.
  conformance: { ownHeadLimit: true },
  configure,
});
