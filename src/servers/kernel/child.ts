// The child process of `processes` (../processes.ts): serve the one connection that is its standard input, close
// it, exit. A file of its own so that each new Node loads as little as possible before it answers.
import { closeSync } from 'node:fs';
import { buildResponses } from '../page.js';
import { serveConnection } from './connection.js';

serveConnection(0, buildResponses(Number(process.argv[2])));
closeSync(0);
