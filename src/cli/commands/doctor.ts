import type { Command } from '../command.js';
import { EventbenchError } from '../../core/errors.js';

// Under construction: replaced by the issue that builds `eventbench doctor`.
export const doctor: Command = {
  name: 'doctor',
  summary: '(under construction)',
  help: 'eventbench doctor: under construction.',
  async run() {
    throw new EventbenchError('EB_TODO', '`doctor` is not built yet');
  },
};
