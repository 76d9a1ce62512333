import type { Command } from '../command.js';
import { EventbenchError } from '../../core/errors.js';

// Under construction: replaced by the issue that builds `eventbench load`.
export const load: Command = {
  name: 'load',
  summary: '(under construction)',
  help: 'eventbench load: under construction.',
  async run() {
    throw new EventbenchError('EB_TODO', '`load` is not built yet');
  },
};
