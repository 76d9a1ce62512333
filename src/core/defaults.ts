// The settings a user can change that more than one part of eventbench reads, each written once: its default, the
// flag that sets it, what the flag takes, its unit, a label for tables and reports, and a line of help with an
// example. The commands' help, the run's plan, the servers, the load generator, the host set-up and the report all
// read them here, so that a default changed here is changed everywhere, its help and label with it.

export interface Setting<T> {
  value: T;
  /** The flag that sets it, on every command that takes it. */
  flag: `--${string}`;
  /** What the flag takes, as the help shows it: "N", "MS", "LIST". */
  arg: string;
  /** The unit of `value`, for labels ("ms", "bytes", "cores"); absent for a count or a list. */
  unit?: string;
  /** A few words for tables and reports: "throttle period". */
  label: string;
  /** One line of help, without the default (added from `value`). */
  help: string;
  /** A value to show in the help's example. */
  example: string;
}

const setting = <T>(s: Setting<T>): Setting<T> => s;

export const SETTINGS = {
  loads: setting<readonly number[]>({
    value: [10, 250, 1000],
    flag: '--loads',
    arg: 'LIST',
    label: 'offered loads',
    help: "offered loads, the paper's l",
    example: '1,100,500',
  }),
  pageBytes: setting({
    value: 305,
    flag: '--page-bytes',
    arg: 'N',
    unit: 'bytes',
    label: 'page size',
    help: 'size of the page every server serves',
    example: '100000',
  }),
  trim: setting({
    value: 1000,
    flag: '--trim',
    arg: 'K',
    label: 'trim',
    help: 'requests dropped at each end of a point by start order, at most the load, as the paper did',
    example: '100',
  }),
  backlog: setting({
    value: 4096,
    flag: '--backlog',
    arg: 'N',
    label: 'listen backlog',
    help: "listen(2) backlog of every server, capped by somaxconn; 128 shows Figure 1's plateau",
    example: '128',
  }),
  serverCpus: setting({
    value: '0',
    flag: '--server-cpus',
    arg: 'LIST',
    label: 'server cores',
    help: 'cores for the server',
    example: '0',
  }),
  clientCpus: setting({
    value: '1',
    flag: '--client-cpus',
    arg: 'LIST',
    label: 'client cores',
    help: 'cores for the client',
    example: '1-3',
  }),
  serverCpuShare: setting({
    value: 0.25,
    flag: '--server-cpu-share',
    arg: 'X',
    unit: 'cores',
    label: 'server CPU quota',
    help: "cgroup CPU quota of each server, in cores, 0 for none: the paper's slow server",
    example: '0.125',
  }),
  throttlePeriodMs: setting({
    value: 10,
    flag: '--throttle-period-ms',
    arg: 'MS',
    unit: 'ms',
    label: 'throttle period',
    help: 'period of that quota: short, so that the server is a slow CPU, not a fast one that stalls',
    example: '100',
  }),
  idleTimeoutS: setting({
    value: 10,
    flag: '--idle-timeout',
    arg: 'S',
    unit: 's',
    label: 'idle timeout',
    help: 'a server closes a client silent this many seconds',
    example: '0.5',
  }),
} as const;

/** A default as the help shows it: a list joined by commas, a number or a word as it is. */
export function defaultText(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * A setting's line of help, its flag and argument in a column `width` wide, then its help, its default and an
 * example: "  --trim K                requests dropped ... (default 1000), e.g. --trim 100". `help` replaces the
 * setting's own words where a command says more (or less).
 */
export function settingHelp(s: Setting<unknown>, width: number, help = s.help): string {
  const head = `  ${s.flag} ${s.arg}`;
  const words = `${help} (default ${defaultText(s.value)}), e.g. ${s.flag} ${s.example}`.split(' ');
  const lines = [head.length < width ? head.padEnd(width) : `${head} `];
  for (const w of words) {
    const line = lines[lines.length - 1]!;
    if (line.length + w.length > HELP_COLUMNS && line.trim().length > head.trim().length) lines.push(' '.repeat(width) + w);
    else lines[lines.length - 1] = line.endsWith(' ') ? line + w : `${line} ${w}`;
  }
  return lines.join('\n');
}

/** The help's lines wrap before this column. */
const HELP_COLUMNS = 118;
