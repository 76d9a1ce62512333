// The production servers of the paper's Figure 2, from Debian's packages, plus the ones that stand in for the
// servers Debian 12 no longer has (thttpd: nginx; Polipo: h2o). Each is configured and started by launch.ts.
import type { ServerModel } from '../types.js';
import { apacheModels } from './apache.js';
import { h2oModel } from './h2o.js';
import { lighttpdModel } from './lighttpd.js';
import { nginxModel } from './nginx.js';

export const productionModels: ServerModel[] = [...apacheModels, lighttpdModel, nginxModel, h2oModel];
