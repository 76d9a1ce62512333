// The one entry point: picks the command, runs it, prints errors as one line, and exits.
import { EventbenchError } from '../core/errors.js';
import { eventbenchVersion } from '../core/environment.js';
import { EXIT, type Command } from './command.js';
import { commands } from './commands/index.js';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'eventbench: are events fast? Web servers of every concurrency model, measured as Kerneis & Chroboczek (2009) did.',
    '',
    'Usage: eventbench COMMAND [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Start here:',
    '  eventbench run                 the whole experiment on the built-in servers, then the report',
    '  eventbench load -c 100 -n 20000 http://127.0.0.1:8080/',
    '  eventbench serve --list',
    '',
    `Exit status: ${EXIT.ok} ok, ${EXIT.failure} failed, ${EXIT.usage} bad input, ${EXIT.clientBound} client-bound (--strict),`,
    `  ${EXIT.incomplete} incomplete (run: a phase could not measure all it planned, e.g. a server no longer installed), ${EXIT.interrupted} interrupted.`,
    'Run `eventbench COMMAND --help` for the flags of one command, each with an example.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  // `eventbench ... | head`: a reader that went away is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    process.exitCode = name === undefined ? EXIT.usage : EXIT.ok;
    return;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`eventbench ${eventbenchVersion()}\n`);
    return;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(
      `eventbench: command: got ${JSON.stringify(name)}, expected one of ${commands.map((c) => c.name).join(', ')}; see \`eventbench --help\`\n`,
    );
    process.exitCode = EXIT.usage;
    return;
  }
  const command: Command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help.trimEnd() + '\n');
    return;
  }
  try {
    process.exitCode = await command.run(rest);
  } catch (err) {
    if (err instanceof EventbenchError) {
      process.stderr.write(`eventbench ${command.name}: ${err.message}\n`);
      process.exitCode = err.code === 'EB_USAGE' ? EXIT.usage : EXIT.failure;
    } else {
      process.stderr.write(`eventbench ${command.name}: internal error, please report it:\n${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = EXIT.failure;
    }
  }
}
