// A path-based form of the storage data planes on the main origin: `/_storage/{service}/{account}/...`
// is the path-style request `https://127.0.0.1:{port}/{account}/...` to that service's gate. A
// browser page (the portal) reaches storage through its own origin this way; the request goes
// through the same gate: the same token checks, data actions and RBAC decisions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginRoute } from '../../server/context.js';
import type { StorageService } from './azurite.js';
import { sendJson } from '../../server/http.js';

export const STORAGE_PATH_PREFIX = '/_storage/';

export function storagePathRoute(gates: Partial<Record<StorageService, (req: IncomingMessage, res: ServerResponse) => void>>): OriginRoute {
  const serviceOf = (path: string) => {
    const end = path.indexOf('/', STORAGE_PATH_PREFIX.length);
    return end < 0 ? undefined : (path.slice(STORAGE_PATH_PREFIX.length, end) as StorageService);
  };
  return {
    matches: (req) => req.path.startsWith(STORAGE_PATH_PREFIX) && gates[serviceOf(req.path)!] !== undefined,
    handle: (req, res) => {
      const service = serviceOf(req.path)!;
      // The gate parses the raw URL: drop the prefix, keeping the path as sent (still encoded).
      const raw = req.raw;
      const prefix = `${STORAGE_PATH_PREFIX}${service}/`;
      if (!raw.url?.startsWith(prefix)) return sendJson(res, 400, { error: { code: 'InvalidUri', message: `Storage paths on this origin start with '${prefix}'.` } });
      raw.url = raw.url.slice(prefix.length - 1);
      gates[service]!(raw, res);
    },
  };
}
