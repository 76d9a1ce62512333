import type { ServerModel } from '../registry.js';

export const nativeModels: ServerModel[] = [];
