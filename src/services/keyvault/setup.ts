// Key Vault module: the Microsoft.KeyVault/vaults resource type (its accessPolicies operation,
// soft-deleted vaults, name checks) in the Resource Manager, and the data plane of every vault on the main HTTPS
// origin, chosen by Host `{vault}.vault.azure.net` (Node programs reach it through the preload
// routing of `*.vault.azure.net`; other clients can connect to the origin with that Host/SNI).
import type { ModuleSetup } from '../../server/context.js';
import { KvAuthenticator } from './authenticate.js';
import { KvAuthorizer } from './authorize.js';
import { certificateHandlers, CERTIFICATES } from './certificates.js';
import { certificateSettingsHandlers } from './certificateSettings.js';
import { KeyVaultDataPlane } from './dataPlane.js';
import { keyHandlers, KEYS } from './keys.js';
import type { CollectionSpec } from './lifecycle.js';
import type { Collection } from './records.js';
import { secretHandlers, SECRETS } from './secrets.js';
import { VaultData } from './vaultData.js';
import { VaultIndex } from './vaultIndex.js';
import { VAULT_DNS_SUFFIX } from './vaultModel.js';
import { accessPolicyOperationHooks, isValidVaultName, vaultHooks } from './vaultResource.js';
import { DeletedVaults, keyVaultProviderOperations } from './deletedVaults.js';
import { vaultSecretHooks } from './vaultSecretResource.js';
import { vaultKeyHooks, vaultKeyReads } from './vaultKeyResource.js';
import { asVaultHostRequest, isVaultPath } from './pathRoute.js';
import { authorizationOf } from '../../arm/authorization/setup.js';

const SPECS: Record<Collection, CollectionSpec> = { secrets: SECRETS, keys: KEYS, certificates: CERTIFICATES };

export const setupKeyVault: ModuleSetup = async (ctx) => {
  const data = new VaultData(ctx.store);
  const deleted = new DeletedVaults(ctx.store, data);
  ctx.types.register(vaultHooks(ctx.store, deleted));
  ctx.types.register(accessPolicyOperationHooks(ctx.store));
  ctx.types.register(vaultSecretHooks(data, ctx.sealer));
  ctx.types.register(vaultKeyHooks(data, ctx.sealer));
  const providerOperations = keyVaultProviderOperations(ctx.arm, deleted, ctx.store, isValidVaultName);
  const keyReads = vaultKeyReads(ctx.arm, data);
  ctx.armRouter.registerExtension('Microsoft.KeyVault', async (x) => ((await keyReads(x)) === false ? providerOperations(x) : undefined));
  const index = await VaultIndex.load(ctx.store);
  ctx.onClose.push(() => index.close());
  const specOf = (c: Collection) => SPECS[c];
  const handlers = { ...secretHandlers(specOf), ...keyHandlers(specOf), ...certificateHandlers(specOf), ...certificateSettingsHandlers() };
  const plane = new KeyVaultDataPlane(index, new KvAuthenticator(ctx.tokens), new KvAuthorizer(ctx.authz, ctx.usage, authorizationOf(ctx)?.audit), data, ctx.sealer, handlers, ctx.faults, ctx.throttler);
  ctx.originRoutes.push({ matches: (req) => plane.matches(req), handle: (req, res) => plane.handle(req, res) });
  // `/_vault/{vault}/...` on the main origin: the same vault for clients that cannot set Host (the portal).
  ctx.originRoutes.push({ matches: isVaultPath, handle: (req, res) => plane.handle(asVaultHostRequest(req), res) });
  ctx.onReady.push((origin) => {
    ctx.routes[`*${VAULT_DNS_SUFFIX}`] = `127.0.0.1:${new URL(origin).port}`;
  });
};
