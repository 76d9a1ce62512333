// Every server `eventbench serve` can start: the TypeScript models, the paper's native C toy servers and the
// production servers from Debian, behind one interface (./types.ts) so the runner and the conformance suite treat
// them alike.
import type { ServerModel } from './types.js';
import { typescriptModels } from './models.js';
import { nativeModels } from './native/index.js';
import { productionModels } from './external/index.js';

export type { Availability, Family, RunningServer, ServeOptions, ServerModel } from './types.js';

export const models: readonly ServerModel[] = [...typescriptModels, ...nativeModels, ...productionModels];

export function findModel(name: string): ServerModel | undefined {
  return models.find((m) => m.name === name);
}
