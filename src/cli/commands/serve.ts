import type { Command } from '../command.js';
import { EventbenchError } from '../../core/errors.js';

// Under construction: replaced by the issue that builds `eventbench serve`.
export const serve: Command = {
  name: 'serve',
  summary: '(under construction)',
  help: 'eventbench serve: under construction.',
  async run() {
    throw new EventbenchError('EB_TODO', '`serve` is not built yet');
  },
};
