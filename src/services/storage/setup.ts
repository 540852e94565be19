// Wiring of the storage data planes: the account index, the in-process emulator, one gate
// (HTTPS listener) per service, the Microsoft.Storage resource types and POST actions, the
// token audiences of the local endpoints, and the Azure host names routed to the gates.
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { ModuleSetup } from '../../server/context.js';
import { listenPreferring } from '../../server/app.js';
import { StorageAccounts, type StorageAccount } from './accounts.js';
import { AzuriteBackend, STORAGE_SERVICES, type StorageService } from './azurite.js';
import { sealStorageAtRest } from './storageAtRest.js';
import { storagePathRoute } from './pathRoute.js';
import { EmulatorCalls } from './emulatorCalls.js';
import { StorageGate, type MirrorEvent } from './gate.js';
import { childHooks, mirrorOps, serviceHooks, storageAccountHooks } from './armTypes.js';
import { storageActionsRoute } from './armActions.js';
import { authorizationOf } from '../../arm/authorization/setup.js';
import { storageConditionProblems } from './conditions.js';
import { STORAGE_AUDIENCE } from './errors.js';
import { ConflictError } from '../../store/types.js';

/** Ports the gates take when Mimic runs on fixed ports (Azurite's usual ones). */
export const DEFAULT_STORAGE_PORTS: Record<StorageService, number> = { blob: 10000, queue: 10001, table: 10002 };
const LISTENER_NAMES: Record<StorageService, string> = { blob: 'storageBlob', queue: 'storageQueue', table: 'storageTable' };
const PORT_ENV: Record<StorageService, string> = { blob: 'MIMIC_BLOB_PORT', queue: 'MIMIC_QUEUE_PORT', table: 'MIMIC_TABLE_PORT' };

export const setupStorage: ModuleSetup = async (ctx) => {
  const accounts = await StorageAccounts.load(ctx.store, ctx.sealer);
  ctx.onClose.push(() => accounts.close());
  // Refuse another master key, and seal what an older Mimic left in clear, before anything runs.
  const location = join(ctx.dataDir, 'azurite');
  await sealStorageAtRest(location, ctx.sealer);
  const backend = new AzuriteBackend(location, (name) => {
    const account = accounts.get(name);
    const keys = account ? accounts.keysOf(account) : [];
    if (!account || keys.length === 0) return undefined;
    return { name: account.name, key1: keys[0]!.bytes, ...(keys[1] ? { key2: keys[1].bytes } : {}) };
  }, ctx.sealer);
  const emulator = new EmulatorCalls(backend, accounts);
  ctx.onClose.push(() => backend.close(), () => emulator.close());

  const ports = {} as Record<StorageService, number>;
  const endpoint = (service: StorageService, account: string) => `https://127.0.0.1:${ports[service]}/${account}/`;

  // Token audiences: Storage itself, the account's Azure endpoint and its local endpoints.
  const audienceCache = new Map<string, ReadonlySet<string>>();
  const audiences = (service: StorageService) => (account: StorageAccount) => {
    const cacheKey = `${service}/${account.name}`;
    let set = audienceCache.get(cacheKey);
    if (!set) {
      const bases = [STORAGE_AUDIENCE, `https://${account.name}.${service}.core.windows.net`, `https://127.0.0.1:${ports[service]}/${account.name}`, `https://localhost:${ports[service]}/${account.name}`];
      set = new Set(bases.flatMap((b) => [b, `${b}/`]));
      audienceCache.set(cacheKey, set);
    }
    return set;
  };
  accounts.onAccountChange((name) => {
    for (const s of STORAGE_SERVICES) audienceCache.delete(`${s}/${name}`);
  });

  const onMirror = (e: MirrorEvent) => {
    const sp = e.principalId ? ctx.directory.byObject(e.principalId) : undefined;
    const by = sp ? { createdBy: sp.appId, createdByType: sp.servicePrincipalType === 'ManagedIdentity' ? ('ManagedIdentity' as const) : ('Application' as const) } : { createdBy: e.account.name, createdByType: 'Key' as const };
    ctx.store.apply(mirrorOps(e.account, e.kind, e.name, e.action, by)).catch((err: unknown) => {
      if (!(err instanceof ConflictError)) console.error('mimic: could not record', e.kind, e.name, 'in the Resource Manager:', err);
    });
  };

  const servers: Server[] = [];
  const gates: Partial<Record<StorageService, StorageGate['handle']>> = {};
  for (const service of STORAGE_SERVICES) {
    const gate = new StorageGate({ service, accounts, backend, emulator, tokens: ctx.tokens, authz: ctx.authz, usage: ctx.usage, audit: authorizationOf(ctx)?.audit, tenantId: ctx.tenant.tenantId, audiences: audiences(service), onMirror, throttle: ctx.throttler, faults: ctx.faults });
    gates[service] = gate.handle;
    const server = createServer({ cert: ctx.tls.certPem, key: ctx.tls.keyPem, keepAliveTimeout: 30_000 }, gate.handle);
    server.headersTimeout = 20_000;
    const wanted = ctx.requestedPort === 0 ? 0 : Number(ctx.env[PORT_ENV[service]] ?? DEFAULT_STORAGE_PORTS[service]);
    ports[service] = await listenPreferring(server, wanted, ctx.host, `storage ${service} endpoint`);
    servers.push(server);
    ctx.listeners[LISTENER_NAMES[service]] = `https://127.0.0.1:${ports[service]}`;
    ctx.routes[`*.${service}.core.windows.net`] = `127.0.0.1:${ports[service]}`;
    ctx.localServers[`127.0.0.1:${ports[service]}`] = server;
  }
  ctx.onClose.push(async () => {
    for (const s of servers) {
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
  });

  // Tokens may name a local endpoint (`https://127.0.0.1:PORT/<account>`) as their resource.
  const localEndpoint = /^https:\/\/(?:127\.0\.0\.1|localhost):(\d+)\/[a-z0-9]{3,24}$/;
  ctx.resources.addMatcher((resource) => {
    const m = localEndpoint.exec(resource);
    return m !== null && Object.values(ports).includes(Number(m[1]));
  });

  // With accounts already there (a restart), bring the emulator up in the background so the
  // first data-plane request does not wait for it.
  ctx.onReady.push(() => {
    if (accounts.all().next().done) return;
    backend.start().catch((err: unknown) => console.error('mimic: the storage emulator did not start:', err));
  });

  const deps = { accounts, store: ctx.store, backend, emulator, sealer: ctx.sealer, endpoint };
  ctx.types.register(storageAccountHooks(deps));
  for (const h of serviceHooks()) ctx.types.register(h);
  for (const h of childHooks(deps)) ctx.types.register(h);
  // `/_storage/{service}/{account}/...` on the main origin, through the same gates (the portal's way in).
  ctx.originRoutes.push(storagePathRoute(gates));
  ctx.originRoutes.push(storageActionsRoute({ arm: ctx.arm, tokens: ctx.tokens, directory: ctx.directory, accounts, store: ctx.store, sealer: ctx.sealer }));
  // Conditions reading attributes the gate never supplies are refused when the assignment is written.
  authorizationOf(ctx)?.conditionValidators.push(storageConditionProblems);
};
