// Soft-deleted vaults. Deleting a vault keeps its contents and its name for the retention
// period: the vault is listed under `deletedVaults`, can be recovered by creating it again with
// `createMode: recover`, and is purged (contents and name released) on request — unless purge
// protection holds it until the retention period ends — or when that period is over. Serves the
// subscription-level Microsoft.KeyVault operations: deletedVaults (list, get, purge) and
// checkNameAvailability.
import { ArmError } from '../../arm/errors.js';
import { keyOf } from '../../arm/ids.js';
import type { StoredResource } from '../../arm/model.js';
import type { ExtensionHandler } from '../../arm/router.js';
import type { ArmService } from '../../arm/service.js';
import { sendJson, sendEmpty } from '../../server/http.js';
import type { Op, Store } from '../../store/types.js';
import { KV_DELETED_VAULTS, KV_VAULT_NAMES, type VaultNameEntry } from './records.js';
import type { VaultData } from './vaultData.js';
import type { VaultProperties } from './vaultModel.js';

export interface DeletedVaultRecord {
  deletionDate: string;
  scheduledPurgeDate: string;
  /** The vault document as it was, recovered as is. */
  doc: StoredResource;
}

const DAY_MS = 86_400_000;

export class DeletedVaults {
  constructor(
    private readonly store: Store,
    private readonly data: VaultData,
  ) {}

  /** Ops that move a vault being deleted into the soft-deleted state. */
  softDeleteOps(doc: StoredResource, now = Date.now()): Op[] {
    const name = doc.name.toLowerCase();
    const retention = (doc.properties as Partial<VaultProperties> | undefined)?.softDeleteRetentionInDays ?? 90;
    const record: DeletedVaultRecord = { deletionDate: new Date(now).toISOString(), scheduledPurgeDate: new Date(now + retention * DAY_MS).toISOString(), doc };
    return [
      { op: 'put', kind: KV_DELETED_VAULTS, key: name, value: record },
      { op: 'put', kind: KV_VAULT_NAMES, key: name, value: { id: doc.id, deleted: true } satisfies VaultNameEntry },
    ];
  }

  /** The soft-deleted vault of that name, once its retention period is over purged on the way. */
  async get(name: string): Promise<DeletedVaultRecord | undefined> {
    const e = await this.store.get<DeletedVaultRecord>(KV_DELETED_VAULTS, name.toLowerCase());
    if (!e) return undefined;
    if (Date.parse(e.value.scheduledPurgeDate) <= Date.now()) {
      await this.store.apply(await this.purgeOps(name)).catch(() => undefined);
      return undefined;
    }
    return e.value;
  }

  async list(): Promise<DeletedVaultRecord[]> {
    const out: DeletedVaultRecord[] = [];
    for (const e of await this.store.list<DeletedVaultRecord>(KV_DELETED_VAULTS)) {
      const live = await this.get(e.key);
      if (live) out.push(live);
    }
    return out;
  }

  /** Ops that remove a deleted vault for good: its contents, its record and its name. */
  async purgeOps(name: string): Promise<Op[]> {
    const key = name.toLowerCase();
    return [...(await this.data.vaultPurgeOps(key)), { op: 'delete', kind: KV_DELETED_VAULTS, key }, { op: 'delete', kind: KV_VAULT_NAMES, key }];
  }

  view(subscriptionId: string, r: DeletedVaultRecord): Record<string, unknown> {
    const location = r.doc.location ?? '';
    const props = (r.doc.properties ?? {}) as Partial<VaultProperties>;
    return {
      id: `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/locations/${location}/deletedVaults/${r.doc.name}`,
      name: r.doc.name,
      type: 'Microsoft.KeyVault/deletedVaults',
      properties: {
        vaultId: r.doc.id,
        location,
        deletionDate: r.deletionDate,
        scheduledPurgeDate: r.scheduledPurgeDate,
        tags: r.doc.tags ?? {},
        purgeProtectionEnabled: props.enablePurgeProtection === true,
      },
    };
  }
}

/** Subscription-level Microsoft.KeyVault operations; every other path is declined. */
export function keyVaultProviderOperations(arm: ArmService, deleted: DeletedVaults, store: Store, validName: (name: string) => boolean): ExtensionHandler {
  return async (x) => {
    const scope = x.scope.split('/').filter((s) => s.length > 0);
    if (scope.length !== 2 || scope[0]!.toLowerCase() !== 'subscriptions') return false;
    arm.requireSubscription(scope[1]!);
    const sub = arm.tenant.subscriptionId;
    const rest = x.rest.map((s) => s.toLowerCase());
    const method = x.req.method;

    if (rest.length === 1 && rest[0] === 'deletedvaults' && method === 'GET') {
      arm.authorizer.check(x.caller, 'Microsoft.KeyVault/deletedVaults/read', `/subscriptions/${sub}`);
      return sendJson(x.res, 200, { value: (await deleted.list()).map((r) => deleted.view(sub, r)) });
    }
    if (rest.length >= 4 && rest.length <= 5 && rest[0] === 'locations' && rest[2] === 'deletedvaults') {
      const location = rest[1]!;
      const name = x.rest[3]!;
      const id = `/subscriptions/${sub}/providers/Microsoft.KeyVault/locations/${x.rest[1]}/deletedVaults/${name}`;
      const purge = rest.length === 5 && rest[4] === 'purge' && method === 'POST';
      if (rest.length === 5 && !purge) return false;
      if (rest.length === 4 && method !== 'GET') return false;
      arm.authorizer.check(x.caller, purge ? 'Microsoft.KeyVault/locations/deletedVaults/purge/action' : 'Microsoft.KeyVault/locations/deletedVaults/read', id);
      const r = await deleted.get(name);
      if (!r || (r.doc.location ?? '').toLowerCase() !== location) {
        throw new ArmError(404, 'ResourceNotFound', `The deleted vault '${name}' was not found in location '${x.rest[1]}'.`);
      }
      if (!purge) return sendJson(x.res, 200, deleted.view(sub, r));
      if ((r.doc.properties as Partial<VaultProperties> | undefined)?.enablePurgeProtection) {
        throw new ArmError(400, 'InvalidOperation', "Operation 'DeletedVaultPurge' is not allowed: the vault has purge protection and is purged when its retention period ends.");
      }
      await store.apply(await deleted.purgeOps(name));
      return sendEmpty(x.res, 200);
    }
    if (rest.length === 1 && rest[0] === 'checknameavailability' && method === 'POST') {
      arm.authorizer.check(x.caller, 'Microsoft.KeyVault/checkNameAvailability/read', `/subscriptions/${sub}`);
      const body = await x.body();
      const name = typeof body.name === 'string' ? body.name : '';
      if (!validName(name)) return sendJson(x.res, 200, { nameAvailable: false, reason: 'AccountNameInvalid', message: `The vault name '${name}' is invalid.` });
      const taken = await store.get<VaultNameEntry>(KV_VAULT_NAMES, name.toLowerCase());
      if (!taken || (taken.value.deleted && !(await deleted.get(name)))) return sendJson(x.res, 200, { nameAvailable: true });
      const message = taken.value.deleted ? `A deleted vault named '${name}' holds the name until it is recovered or purged.` : `The vault name '${name}' is already in use.`;
      return sendJson(x.res, 200, { nameAvailable: false, reason: 'AlreadyExists', message });
    }
    return false;
  };
}

/** Whether a name entry is held by a live vault other than `id`. */
export function heldByOtherVault(entry: VaultNameEntry | undefined, id: string): boolean {
  return !!entry && !entry.deleted && keyOf(entry.id) !== keyOf(id);
}
