// nginx: an event-driven server (a master and, here, one worker process), tuned far beyond anything the paper
// measured. It answers no row: thttpd's row is answered by its nearest kin in Debian 12, webfs (webfs.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cappedBacklog } from '../spawned.js';
import { CLIENTS, productionModel, type Launch, type ProductionSpec } from './launch.js';
import { SERVER_USER, type Site } from './site.js';

function configure(site: Site): Launch {
  const { dir, docRoot, runDir, port, options } = site;
  const errorLog = path.join(runDir, 'error.log');
  const temp = path.join(dir, 'temp');
  mkdirSync(temp, { mode: 0o777 });
  const listen = options.host.includes(':') ? `[${options.host}]:${port}` : `${options.host}:${port}`;
  const idleS = Math.max(1, Math.ceil(options.idleTimeoutMs / 1000));
  const conf = `# eventbench: nginx, written for one run and removed after it
daemon off;
master_process on;
worker_processes 1;
pid ${runDir}/nginx.pid;
error_log ${errorLog} warn;
worker_rlimit_nofile ${CLIENTS * 4};
${site.asRoot ? `user ${SERVER_USER};\n` : ''}events {
  worker_connections ${CLIENTS * 2};
}
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  types { text/html html; }
  default_type text/html;
  client_header_timeout ${idleS}s;
  server {
    listen ${listen} backlog=${options.backlog};
    root ${docRoot};
    index index.html;
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const effectiveBacklog = cappedBacklog(options.backlog);
  return { args: ['-p', `${dir}/`, '-c', confFile, '-e', errorLog], effectiveBacklog, notes: [], errorLog };
}

/** How nginx is configured and launched; also what bench/user-server.ts starts as a user's server. */
export const nginxSpec: ProductionSpec = {
  name: 'nginx',
  paperRow: null,
  connection: 'event',
  summary: 'nginx: a master and one event-driven worker process',
  binary: '/usr/sbin/nginx',
  debianPackage: 'nginx-light',
  configure,
};

export const nginxModel = productionModel(nginxSpec);
