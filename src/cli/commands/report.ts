import type { Command } from '../command.js';
import { EventbenchError } from '../../core/errors.js';

// Under construction: replaced by the issue that builds `eventbench report`.
export const report: Command = {
  name: 'report',
  summary: '(under construction)',
  help: 'eventbench report: under construction.',
  async run() {
    throw new EventbenchError('EB_TODO', '`report` is not built yet');
  },
};
