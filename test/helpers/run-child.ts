// `eventbench run` with the test catalog, as its own process, so a test can send it a real SIGINT.
import { runCommand } from '../../src/cli/commands/run.js';
import { testCatalog, testTrial } from './runner.js';

process.exitCode = await runCommand(process.argv.slice(2), { catalog: testCatalog, trial: testTrial });
