// `eventbench run` with the test catalog, as its own process, so a test can send it a real SIGINT.
import { runCommand } from '../../src/cli/commands/run.js';
import { testCatalog, testTrial } from './runner.js';
import { EventbenchError } from '../../src/core/errors.js';

// Errors as the CLI's entry point prints them (src/cli/main.ts): one line, exit 1 (2 for bad input).
try {
  process.exitCode = await runCommand(process.argv.slice(2), { catalog: testCatalog, trial: testTrial });
} catch (err) {
  if (!(err instanceof EventbenchError)) throw err;
  process.stderr.write(`eventbench run: ${err.message}\n`);
  process.exitCode = err.code === 'EB_USAGE' ? 2 : 1;
}
