// Every server `eventbench serve` can start: the TypeScript models, the paper's native C toy servers and the
// production servers from Debian, behind one interface (./types.ts) so the runner and the conformance suite treat
// them alike. A TypeScript model under another runtime is named MODEL@bun or MODEL@deno (runtime.ts).
import type { ServerModel } from './types.js';
import { typescriptModels } from './models.js';
import { nativeModels } from './native/index.js';
import { productionModels } from './external/index.js';
import { bunServe } from './bun-serve.js';
import { denoServe } from './deno-serve.js';
import { RUNTIMES, runtimeInfo, runtimeServerName, splitRuntime, type RuntimeName } from './runtime.js';

export type { Availability, Conformance, ConnectionKind, Family, RunningServer, ServeOptions, ServerModel } from './types.js';

export const models: readonly ServerModel[] = [...typescriptModels, bunServe, denoServe, ...nativeModels, ...productionModels];

export function findModel(name: string): ServerModel | undefined {
  return models.find((m) => m.name === name) ?? runtimeVariant(name, models);
}

/**
 * The runtime a model runs under: the one asked for, else Node when it runs there, else the first it runs under
 * (bun-serve: Bun). Returns why not when the model cannot run under the one asked for.
 */
export function modelRuntime(model: ServerModel, asked?: RuntimeName): { runtime: RuntimeName } | { reason: string } {
  const support = model.runtimes ?? { node: true };
  if (asked !== undefined) {
    const s = support[asked];
    return s === true
      ? { runtime: asked }
      : { reason: `${model.name} does not run under ${asked}: ${s ?? 'it is not a TypeScript model'}` };
  }
  if (support.node === true) return { runtime: 'node' };
  const first = RUNTIMES.find((r) => support[r] === true);
  return first ? { runtime: first } : { reason: `${model.name} runs under no runtime` };
}

/** `events@bun`: the TypeScript model `events` run under Bun, available when Bun is here and the model runs there. */
export function runtimeVariant(name: string, catalog: readonly ServerModel[] = models): ServerModel | undefined {
  const { model: base, runtime } = splitRuntime(name);
  const model = runtime && catalog.find((m) => m.name === base);
  if (!model || !runtime || model.family !== 'typescript') return undefined;
  return {
    ...model,
    name,
    summary: `${model.summary} (under ${runtime})`,
    async available() {
      const where = modelRuntime(model, runtime);
      if ('reason' in where) return { ok: false, reason: where.reason, hint: `run ${base} under another runtime` };
      const info = runtimeInfo(runtime);
      if (info.missing) return { ok: false, reason: info.missing, hint: `npm ci (installs the optional dependency ${runtime})` };
      return model.available();
    },
  };
}

/** `servers` with every TypeScript model also under each runtime in `runtimes` (Node keeps the plain name). */
export function withRuntimes(servers: string[], runtimes: readonly RuntimeName[], catalog: readonly ServerModel[] = models): string[] {
  const out: string[] = [];
  for (const name of servers) {
    const model = catalog.find((m) => m.name === name);
    if (model?.family !== 'typescript' || splitRuntime(name).runtime) {
      out.push(name);
      continue;
    }
    // A runtime's own server (bun-serve) runs once, under its own runtime, whichever runtimes are asked for.
    if (model.runtimes?.node !== true) {
      out.push(name);
      continue;
    }
    for (const r of runtimes) out.push(runtimeServerName(name, r));
  }
  return out;
}

/** How `eventbench serve` is to be run for the server `name` of a plan: the base model's name and its runtime. */
export function serveRuntime(name: string): { model: string; runtime: RuntimeName } {
  const split = splitRuntime(name);
  const model = models.find((m) => m.name === split.model);
  const where = model ? modelRuntime(model, split.runtime) : undefined;
  return where && 'runtime' in where ? { model: split.model, runtime: where.runtime } : { model: name, runtime: 'node' };
}
