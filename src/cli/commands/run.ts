import type { Command } from '../command.js';
import { EventbenchError } from '../../core/errors.js';

// Under construction: replaced by the issue that builds `eventbench run`.
export const run: Command = {
  name: 'run',
  summary: '(under construction)',
  help: 'eventbench run: under construction.',
  async run() {
    throw new EventbenchError('EB_TODO', '`run` is not built yet');
  },
};
