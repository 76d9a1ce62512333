import type { ServerModel } from './registry.js';

export const typescriptModels: ServerModel[] = [];
