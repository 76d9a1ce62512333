// The `async-compiled` model, answering the paper's CPC row as CPC really was (a source-to-source translator):
// the very same async-connection.ts that `async` runs, translated at build time (`npm run build`, by
// tsconfig.async-compiled.json) into an explicit ES5 state machine: a `switch` over numbered resume points driven
// by the __generator/__awaiter helpers, the transform Babel's regenerator also does. That compiled file, in
// dist/src/servers/compiled/, is what runs; the socket adapter is the one `async` uses.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServeOptions, ServerModel } from './types.js';
import { startAsyncServer } from './async.js';
import { EVERY_RUNTIME } from './runtime.js';

const COMPILED = new URL('./compiled/async-connection.js', import.meta.url);

export const asyncCompiled: ServerModel = {
  name: 'async-compiled',
  family: 'typescript',
  runtimes: EVERY_RUNTIME,
  paperRow: 'CPC',
  connection: 'user-thread',
  slow: false,
  summary: 'CPC as a translator: the async source compiled at build time to an explicit state machine',
  async available() {
    if (existsSync(fileURLToPath(COMPILED))) return { ok: true };
    return { ok: false, reason: `${fileURLToPath(COMPILED)} is missing`, hint: 'run `npm run build`' };
  },
  async start(options: ServeOptions) {
    const compiled = (await import(COMPILED.href)) as typeof import('./async-connection.js');
    return startAsyncServer(options, compiled.serveConnection);
  },
};
