#!/usr/bin/env node
// The installed command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs as `prepare`).
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2));
