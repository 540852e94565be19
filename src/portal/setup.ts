// Portal module: the browser UI on the main origin (`/` and `/portal/...`) and its local
// administrator sign-in (`/_portal/session`). Only loopback host names are served, so Host-routed
// data planes ({vault}.vault.azure.net, management.azure.com) are never shadowed. The page is a
// client of Mimic's REST API; see docs/PORTAL.md.
import { fileURLToPath } from 'node:url';
import type { ModuleSetup } from '../server/context.js';
import { sendJson } from '../server/http.js';
import { ArmError, sendArmError } from '../arm/errors.js';
import { PortalFiles } from './static.js';
import { handleSession, SESSION_PATH } from './session.js';

const PORTAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** dist/portal, next to dist/src (this file runs as dist/src/portal/setup.js). */
export const PORTAL_DIR = fileURLToPath(new URL('../../portal/', import.meta.url));

export const setupPortal: ModuleSetup = (ctx) => {
  const files = new PortalFiles(PORTAL_DIR);
  const deps = { tokens: ctx.tokens, directory: ctx.directory, adminObjectId: ctx.tenant.adminObjectId, subscriptionId: ctx.tenant.subscriptionId, tenantId: ctx.tenant.tenantId };
  ctx.originRoutes.push({
    matches: (req) => PORTAL_HOSTS.has(req.host) && (req.path === '/' || req.path === '/portal' || req.path.startsWith('/portal/') || req.path === SESSION_PATH),
    handle: async (req, res) => {
      try {
        if (req.path === SESSION_PATH) return await handleSession(req, res, deps);
        if ((req.method === 'GET' || req.method === 'HEAD') && files.serve(req, res)) return;
        if (!files.built) return sendJson(res, 404, { error: { code: 'NotFound', message: 'The portal is not built; run `npm run build`.' } });
        sendJson(res, 404, { error: { code: 'NotFound', message: `No portal file at '${req.path}'.` } });
      } catch (err) {
        if (err instanceof ArmError) return sendArmError(res, err);
        throw err;
      }
    },
  });
};
