import type { Command } from '../command.js';
import { load } from './load.js';
import { serve } from './serve.js';
import { run } from './run.js';
import { report } from './report.js';
import { doctor } from './doctor.js';
import { memory } from './memory.js';

/** Every command, in the order `eventbench --help` lists them. */
export const commands: readonly Command[] = [run, load, serve, report, doctor, memory];
