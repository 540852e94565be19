// Microsoft.KeyVault/vaults as a Resource Manager type: validates and completes the vault's
// properties (tenant, sku, permission model, deletion settings, access policies), reserves the
// global vault name, and serves the
// `vaults/{v}/accessPolicies/{add|replace|remove}` operation. Deleting a vault soft-deletes it
// (deletedVaults.ts); creating it again with createMode 'recover' brings it back.
import { ArmError } from '../../arm/errors.js';
import { isGuid, keyOf } from '../../arm/ids.js';
import { RESOURCES, type StoredResource } from '../../arm/model.js';
import type { ResourceTypeHooks, OperationContext, WriteContext } from '../../arm/resourceTypes.js';
import { ConflictError, type Op, type Store } from '../../store/types.js';
import { applyAccessPolicyOperation, validateAccessPolicies, type AccessPolicyEntry, type AccessPolicyOperation } from './accessPolicies.js';
import { KV_DELETED_VAULTS, KV_VAULT_NAMES, type VaultNameEntry } from './records.js';
import { heldByOtherVault, type DeletedVaults } from './deletedVaults.js';
import { ACCESS_POLICIES_TYPE, VAULT_TYPE, vaultUri, type VaultProperties } from './vaultModel.js';

const NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
/** From this api-version on, a vault created without `enableRbacAuthorization` uses RBAC. */
const RBAC_DEFAULT_SINCE = '2026-02-01';
const SKUS = ['standard', 'premium'];

const bad = (message: string) => new ArmError(400, 'BadRequest', message);

export function isValidVaultName(name: string): boolean {
  return NAME.test(name) && !name.includes('--');
}

export function validateVaultName(name: string): void {
  if (!isValidVaultName(name)) {
    throw new ArmError(400, 'VaultNameNotValid', `The vault name '${name}' is invalid: use 3 to 24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit.`);
  }
}

function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(`The property 'properties.${field}' must be a boolean.`);
  return v;
}

/** The stored properties of a vault from the request, the previous state and the api-version. */
export function vaultProperties(ctx: Pick<WriteContext, 'body' | 'previous' | 'mode' | 'apiVersion' | 'tenantId'>, name: string): VaultProperties {
  const prev = ctx.previous?.properties as VaultProperties | undefined;
  const rawSent = ctx.body.properties;
  if (ctx.mode === 'put' && (typeof rawSent !== 'object' || rawSent === null)) throw bad("The property 'properties' is required.");
  const sent = (rawSent ?? {}) as Record<string, unknown>;
  const carry = ctx.mode === 'patch' ? prev : undefined;

  const tenantId = sent.tenantId ?? carry?.tenantId;
  if (typeof tenantId !== 'string' || !isGuid(tenantId)) throw bad("The property 'properties.tenantId' is required and must be a GUID.");
  if (tenantId.toLowerCase() !== ctx.tenantId.toLowerCase()) {
    throw bad(`The tenant '${tenantId}' is not the tenant of this subscription ('${ctx.tenantId}'); a vault must use its subscription's tenant.`);
  }

  const skuIn = (sent.sku ?? carry?.sku) as { family?: unknown; name?: unknown } | undefined;
  if (!skuIn || typeof skuIn !== 'object') throw bad("The property 'properties.sku' is required.");
  if (typeof skuIn.name !== 'string' || !SKUS.includes(skuIn.name.toLowerCase())) throw bad(`The sku name '${String(skuIn.name)}' is invalid; use 'standard' or 'premium'.`);
  if (skuIn.family !== undefined && skuIn.family !== 'A') throw bad(`The sku family '${String(skuIn.family)}' is invalid; use 'A'.`);

  const softDelete = bool(sent.enableSoftDelete, 'enableSoftDelete');
  if (softDelete === false) throw bad('Soft delete cannot be disabled: every vault keeps deleted items recoverable for its retention period.');

  let retention = prev?.softDeleteRetentionInDays ?? 90;
  if (sent.softDeleteRetentionInDays !== undefined && sent.softDeleteRetentionInDays !== null) {
    const r = sent.softDeleteRetentionInDays;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 7 || r > 90) throw bad("The property 'properties.softDeleteRetentionInDays' must be an integer from 7 to 90.");
    if (prev && r !== prev.softDeleteRetentionInDays) throw bad('The soft delete retention period is fixed when the vault is created and cannot be changed.');
    retention = r;
  }

  const purgeSent = bool(sent.enablePurgeProtection, 'enablePurgeProtection');
  if (purgeSent === false) throw bad("The property 'enablePurgeProtection' cannot be set to false: enabling purge protection is irreversible, and leaving it out means off.");
  const purgeProtection = purgeSent === true || prev?.enablePurgeProtection === true;

  const rbacSent = bool(sent.enableRbacAuthorization, 'enableRbacAuthorization');
  const rbac = rbacSent ?? prev?.enableRbacAuthorization ?? (ctx.apiVersion === undefined || ctx.apiVersion >= RBAC_DEFAULT_SINCE);

  const accessPolicies: AccessPolicyEntry[] = sent.accessPolicies !== undefined ? validateAccessPolicies(sent.accessPolicies, tenantId) : (prev?.accessPolicies ?? []);

  const flag = (field: 'enabledForDeployment' | 'enabledForDiskEncryption' | 'enabledForTemplateDeployment') => bool(sent[field], field) ?? prev?.[field] ?? false;
  const props: VaultProperties = {
    ...(ctx.mode === 'patch' ? prev : {}),
    ...(sent.networkAcls !== undefined ? { networkAcls: sent.networkAcls } : prev?.networkAcls !== undefined ? { networkAcls: prev.networkAcls } : {}),
    tenantId,
    sku: { family: 'A', name: skuIn.name.toLowerCase() },
    accessPolicies,
    enabledForDeployment: flag('enabledForDeployment'),
    enabledForDiskEncryption: flag('enabledForDiskEncryption'),
    enabledForTemplateDeployment: flag('enabledForTemplateDeployment'),
    enableSoftDelete: true,
    softDeleteRetentionInDays: retention,
    enableRbacAuthorization: rbac,
    publicNetworkAccess: typeof sent.publicNetworkAccess === 'string' ? sent.publicNetworkAccess : (prev?.publicNetworkAccess ?? 'Enabled'),
    vaultUri: vaultUri(name),
    provisioningState: 'Succeeded',
  };
  if (purgeProtection) props.enablePurgeProtection = true;
  else delete props.enablePurgeProtection;
  delete props.createMode;
  return props;
}

export function vaultHooks(store: Store, deleted: DeletedVaults): ResourceTypeHooks {
  return {
    type: VAULT_TYPE,
    validateName: validateVaultName,
    async beforeWrite(doc, ctx) {
      // Azure returns `tags: {}` for a vault without tags.
      doc.tags ??= {};
      const recover = (ctx.body.properties as { createMode?: unknown } | undefined)?.createMode === 'recover';
      if (ctx.previous) {
        doc.properties = vaultProperties(ctx, doc.name);
        return [];
      }
      const name = doc.name.toLowerCase();
      const taken = await store.get<VaultNameEntry>(KV_VAULT_NAMES, name);
      if (heldByOtherVault(taken?.value, doc.id)) {
        throw new ArmError(409, 'VaultAlreadyExists', `The vault name '${doc.name}' is already in use: vault names are global.`);
      }
      const gone = taken?.value.deleted ? await deleted.get(name) : undefined;
      if (gone && !recover) {
        throw new ArmError(409, 'ConflictError', `A vault named '${doc.name}' exists in the deleted state; recover it (createMode 'recover') or purge it first.`);
      }
      if (recover) {
        if (!gone) throw new ArmError(404, 'DeletedVaultNotFound', `There is no deleted vault named '${doc.name}' to recover.`);
        if (keyOf(gone.doc.id) !== keyOf(doc.id)) throw bad(`The deleted vault '${doc.name}' belongs to '${gone.doc.id}'; recover it there.`);
        if ((gone.doc.location ?? '') !== doc.location) throw bad(`The deleted vault '${doc.name}' is in location '${gone.doc.location}'.`);
        doc.properties = gone.doc.properties;
        if (ctx.body.tags === undefined && gone.doc.tags) doc.tags = gone.doc.tags;
        return [
          { op: 'delete', kind: KV_DELETED_VAULTS, key: name },
          { op: 'put', kind: KV_VAULT_NAMES, key: name, value: { id: doc.id } satisfies VaultNameEntry, ifVersion: taken!.version },
        ];
      }
      doc.properties = vaultProperties(ctx, doc.name);
      // A deleted vault whose retention ended was purged by deleted.get(), releasing its name.
      const free = !taken || (taken.value.deleted && !gone);
      const value: VaultNameEntry = { id: doc.id };
      const nameOp: Op = free ? { op: 'put', kind: KV_VAULT_NAMES, key: name, value, ifAbsent: true } : { op: 'put', kind: KV_VAULT_NAMES, key: name, value, ifVersion: taken!.version };
      return [nameOp];
    },
    beforeDelete(doc) {
      return deleted.softDeleteOps(doc);
    },
  };
}

const OPERATIONS: readonly AccessPolicyOperation[] = ['add', 'replace', 'remove'];

/** `PUT {vault}/accessPolicies/{add|replace|remove}`: merges into the vault's access policies. */
export function accessPolicyOperationHooks(store: Store): ResourceTypeHooks {
  return {
    type: ACCESS_POLICIES_TYPE,
    async operation(ctx: OperationContext) {
      const kind = ctx.name.toLowerCase() as AccessPolicyOperation;
      if (!OPERATIONS.includes(kind)) throw bad(`The access policy operation '${ctx.name}' is invalid; use 'add', 'replace' or 'remove'.`);
      const props = ctx.body.properties as { accessPolicies?: unknown } | undefined;
      if (!props || typeof props !== 'object' || !Array.isArray(props.accessPolicies)) throw bad("The property 'properties.accessPolicies' is required.");
      const tenantId = (ctx.parent.properties as VaultProperties | undefined)?.tenantId ?? ctx.tenantId;
      const changes = validateAccessPolicies(props.accessPolicies, tenantId);
      const key = keyOf(ctx.parent.id);
      for (let attempt = 1; ; attempt++) {
        const entry = await store.get<StoredResource>(RESOURCES, key);
        if (!entry) throw new ArmError(404, 'ResourceNotFound', `The vault '${ctx.parent.name}' was not found.`);
        const vaultProps = (entry.value.properties ?? {}) as VaultProperties;
        const accessPolicies = applyAccessPolicyOperation(vaultProps.accessPolicies ?? [], kind, changes);
        const updated: StoredResource = { ...entry.value, properties: { ...vaultProps, accessPolicies } };
        const ops: Op[] = [{ op: 'put', kind: RESOURCES, key, value: updated, ifVersion: entry.version }];
        try {
          await store.apply(ops);
          break;
        } catch (err) {
          if (!(err instanceof ConflictError) || attempt >= 5) throw err;
        }
      }
      return {
        status: 200,
        body: { id: `${ctx.parent.id}/accessPolicies/`, type: 'Microsoft.KeyVault/vaults/accessPolicies', location: ctx.parent.location, properties: { accessPolicies: changes } },
      };
    },
  };
}
