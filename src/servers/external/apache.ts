// Apache httpd 2.4 in its three multi-processing modules: prefork (a process pool, the paper's "Apache prefork"),
// worker (threads in processes, the paper's "Apache worker") and event (worker plus an event loop for idle
// connections). A minimal configuration of our own: no Debian apache2.conf, no access log.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cappedBacklog } from '../spawned.js';
import { CLIENTS, productionModel, type Launch } from './launch.js';
import { SERVER_USER, type Site } from './site.js';

const MODULES = '/usr/lib/apache2/modules';

type Mpm = 'prefork' | 'worker' | 'event';

/** Prefork's processes when --workers is not given: Debian's own default is 150; each costs a fork at start-up. */
export const PREFORK_DEFAULT_WORKERS = 128;

/**
 * Pool sizes, fixed from the start so a measurement never pays for forking or killing workers (a fork costs
 * milliseconds on some virtual machines) and a test sees a stable process tree: prefork runs `workers` processes
 * (--workers, default PREFORK_DEFAULT_WORKERS; clients beyond wait in the accept queue), worker and event one
 * process of `workers` threads (default CLIENTS).
 */
function mpmConfig(mpm: Mpm, workers: number): string {
  if (mpm === 'prefork') {
    return `StartServers ${workers}\nMinSpareServers 1\nMaxSpareServers ${workers}\nServerLimit ${workers}\nMaxRequestWorkers ${workers}\nMaxConnectionsPerChild 0\n`;
  }
  return `StartServers 1\nServerLimit 1\nThreadLimit ${workers}\nThreadsPerChild ${workers}\nMaxRequestWorkers ${workers}\nMinSpareThreads 1\nMaxSpareThreads ${workers}\nMaxConnectionsPerChild 0\n`;
}

function configure(mpm: Mpm, site: Site): Launch {
  const { dir, docRoot, runDir, port, options } = site;
  const workers = options.workers ?? (mpm === 'prefork' ? PREFORK_DEFAULT_WORKERS : CLIENTS);
  const errorLog = path.join(runDir, 'error.log');
  const listen = options.host.includes(':') ? `[${options.host}]:${port}` : `${options.host}:${port}`;
  const conf = `# eventbench: apache ${mpm}, written for one run and removed after it
ServerRoot "${dir}"
ServerName localhost
DefaultRuntimeDir "${dir}"
PidFile "${runDir}/apache2.pid"
ErrorLog "${errorLog}"
LogLevel warn
LoadModule mpm_${mpm}_module ${MODULES}/mod_mpm_${mpm}.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule allowmethods_module ${MODULES}/mod_allowmethods.so
LoadModule dir_module ${MODULES}/mod_dir.so
LoadModule mime_module ${MODULES}/mod_mime.so
${site.asRoot ? `User ${SERVER_USER}\nGroup ${SERVER_USER}\n` : ''}Listen ${listen}
# Linux's TCP_DEFER_ACCEPT (Apache's default) hides silent clients from the idle timeout: off, like every other row.
AcceptFilter http none
ListenBacklog ${options.backlog}
Timeout ${Math.max(1, Math.ceil(options.idleTimeoutMs / 1000))}
DocumentRoot "${docRoot}"
<Directory "${docRoot}">
  Require all granted
  # Like the toy servers: only GET and HEAD (405 otherwise); by default Apache answers a POST with the page.
  AllowMethods GET HEAD
</Directory>
DirectoryIndex index.html
TypesConfig /dev/null
AddType text/html .html
${mpmConfig(mpm, workers)}`;
  const confFile = path.join(dir, 'apache2.conf');
  writeFileSync(confFile, conf);
  const effectiveBacklog = cappedBacklog(options.backlog);
  const notes = [
    `apache-${mpm}: ListenBacklog ${options.backlog}, in force ${effectiveBacklog} (capped by net.core.somaxconn)`,
    `apache-${mpm}: ${workers} ${mpm === 'prefork' ? 'processes' : 'threads in one process'}, fixed (--workers sets it)`,
  ];
  return {
    args: ['-f', confFile, '-d', dir, '-DFOREGROUND'],
    // Debian's binary reads these only through its own apache2.conf; set anyway so nothing falls back to /var.
    env: { ...process.env, APACHE_RUN_DIR: dir, APACHE_PID_FILE: path.join(dir, 'apache2.pid'), APACHE_LOCK_DIR: dir, APACHE_LOG_DIR: dir },
    effectiveBacklog,
    notes,
    errorLog,
    // Ready once every prefork process is up, not at the first answer: the fork loop may still be running.
    readyProcesses: mpm === 'prefork' ? workers + 1 : 2,
  };
}

const summaries: Record<Mpm, string> = {
  prefork: 'Apache httpd, prefork MPM: a pool of processes, one connection each',
  worker: 'Apache httpd, worker MPM: one process of threads, one connection each',
  event: 'Apache httpd, event MPM: worker threads plus an event loop for idle connections',
};

export const apacheModels = (['prefork', 'worker', 'event'] as const).map((mpm) =>
  productionModel({
    name: `apache-${mpm}`,
    // The paper measured prefork and worker as one row, "Apache": they performed equally poorly.
    paperRow: mpm !== 'event' ? 'Apache' : null,
    // prefork: a process of a pool per connection; worker: a thread of a pool; event: idle connections wait in its event loop.
    connection: mpm === 'event' ? 'event' : 'pool',
    summary: summaries[mpm],
    binary: '/usr/sbin/apache2',
    debianPackage: 'apache2',
    configure: (site) => configure(mpm, site),
  }),
);
