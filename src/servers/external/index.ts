import type { ServerModel } from '../registry.js';

export const productionModels: ServerModel[] = [];
