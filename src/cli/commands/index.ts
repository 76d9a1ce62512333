// Every command, in the order `eventbench --help` lists them: its name and one line here, its code loaded only
// when it runs. A run starts an `eventbench load` process per point and an `eventbench serve` per server; loading
// every command's code (the report's, the runner's) cost each of them 90 ms, paid hundreds of times per run.
import type { Command } from '../command.js';

export interface CommandEntry {
  name: string;
  /** One line for `eventbench --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'run',
    summary: 'the whole experiment: every server × loads 10..1000, then what a connection costs each, kept as measured; the report',
    load: async () => (await import('./run.js')).run,
  },
  {
    name: 'load',
    summary: "the load generator: ab's closed loop, trimmed by start order, with measured load and a verdict",
    load: async () => (await import('./load.js')).load,
  },
  {
    name: 'serve',
    summary: 'start one server under test (a concurrency model, a native toy server or a production server)',
    load: async () => (await import('./serve.js')).serve,
  },
  {
    name: 'report',
    summary: "the paper's figures and tables from a run folder (HTML, Markdown, JSON, CSV)",
    load: async () => (await import('./report.js')).report,
  },
  {
    name: 'doctor',
    summary: 'what on this host would distort a run, and the command that fixes each',
    load: async () => (await import('./doctor.js')).doctor,
  },
  {
    name: 'check',
    summary: 'a report card for any server (a model, your own, or a URL): is it fit to be measured?',
    load: async () => (await import('./check.js')).check,
  },
  {
    name: 'memory',
    summary: "bytes per connection of each server, from idle connections held open (the paper's memory claim)",
    load: async () => (await import('./memory.js')).memory,
  },
  {
    name: 'hosts',
    summary: 'a server host and client hosts on this machine (network namespaces with sshd), for two-host runs',
    load: async () => (await import('./hosts.js')).hosts,
  },
  {
    name: 'agent',
    summary: 'the agent a runner reaches over SSH: JSON lines on stdin and stdout (loads, servers, clock, versions)',
    load: async () => (await import('./agent.js')).agent,
  },
];
