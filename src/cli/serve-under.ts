// `eventbench serve MODEL --runtime bun` (or `serve MODEL@bun`) from another runtime: the same command, run again
// under the runtime asked for, with stdio passed through and SIGTERM/SIGINT passed on; its exit status is ours.
// `serve bun-serve` from Node lands here too, since Bun.serve runs only under Bun.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MissingDependencyError, UsageError } from '../core/errors.js';
import { currentRuntime, isRuntime, runtimeArgv, runtimeInfo, splitRuntime, type RuntimeName } from '../servers/runtime.js';
import { modelRuntime, models, type ServerModel } from '../servers/registry.js';

const BIN = fileURLToPath(new URL('../../../bin/eventbench.js', import.meta.url));

/** The base model and the runtime it is to run under, from `MODEL[@runtime]` and `--runtime`. */
export function resolveServeRuntime(name: string, asked: string | undefined): { model: ServerModel; runtime: RuntimeName } | undefined {
  if (asked !== undefined && !isRuntime(asked)) throw new UsageError('--runtime', asked, 'expected one of node, bun, deno');
  const split = splitRuntime(name);
  const model = models.find((m) => m.name === split.model);
  if (!model) return undefined;
  if (asked && split.runtime && asked !== split.runtime)
    throw new UsageError('--runtime', asked, `contradicts the name ${name}`, `use ${split.model} --runtime ${asked}`);
  // Nothing asked: the runtime running us when the model runs here (so `bun bin/eventbench.js serve events` stays in Bun).
  const here = model.runtimes?.[currentRuntime()] === true ? currentRuntime() : undefined;
  const where = modelRuntime(model, (asked as RuntimeName | undefined) ?? split.runtime ?? here);
  if ('reason' in where) throw new MissingDependencyError(`${name} (${where.reason})`, 'pick another runtime with --runtime');
  const info = runtimeInfo(where.runtime);
  if (info.missing)
    throw new MissingDependencyError(
      `${name} under ${where.runtime} (${info.missing})`,
      `npm ci (installs the optional dependency ${where.runtime})`,
    );
  return { model, runtime: where.runtime };
}

/** Whether `runtime` is the one running us (then the model starts here). */
export function isHere(runtime: RuntimeName): boolean {
  return runtime === currentRuntime();
}

/** Runs `serve MODEL flags...` under `runtime` and resolves with its exit status. */
export function serveUnder(runtime: RuntimeName, model: string, flags: Record<string, string | boolean | undefined>): Promise<number> {
  const args = ['serve', model];
  for (const [k, v] of Object.entries(flags)) if (typeof v === 'string' && k !== 'runtime') args.push(`--${k}`, v);
  const [cmd, ...rest] = runtimeArgv(runtime, BIN, args);
  const child = spawn(cmd!, rest, { stdio: 'inherit' });
  const pass = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onTerm = pass('SIGTERM');
  const onInt = pass('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  // Like a model started here, the pair ends when whoever started us is gone (a runner or a test killed with -9):
  // the child watches us, so we watch our own parent and stop the child.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid === parent) return;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  }, 1000);
  orphanWatch.unref();
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`eventbench serve: could not start ${runtime}: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      clearInterval(orphanWatch);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      // Stopped by the signal we passed on: a clean stop, as a model started here would report.
      resolve(code ?? (signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 1));
    });
  });
}
