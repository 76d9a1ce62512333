// The production servers of the paper's Figure 2, from Debian's packages, and the ones that stand in for the
// servers Debian 12 no longer has: webfs, thttpd's nearest kin (one process, a select(2) loop), for thttpd; h2o for
// Polipo. Beside them nginx, a tuned event server of today, and mini_httpd, a production fork server (by thttpd's
// author) beside the paper's fork toy. Each is configured and started by launch.ts.
import type { ServerModel } from '../types.js';
import { apacheModels } from './apache.js';
import { h2oModel } from './h2o.js';
import { lighttpdModel } from './lighttpd.js';
import { miniHttpdModel } from './mini-httpd.js';
import { nginxModel } from './nginx.js';
import { webfsModel } from './webfs.js';

export const productionModels: ServerModel[] = [...apacheModels, lighttpdModel, nginxModel, h2oModel, webfsModel, miniHttpdModel];
