// The operations secrets, keys and certificates share: list, versions, soft delete, the deleted
// views, recover, purge, backup and restore. A collection describes its wire view and how its
// sealed material moves in and out of a backup; a certificate also names the key and secret of
// the same name that are deleted, recovered, purged and backed up with it.
import type { Sealer } from '../../crypto/masterKey.js';
import type { Entry, Op } from '../../store/types.js';
import { openBackup, sealBackup, type BackupVersion } from './backup.js';
import { deletedMembers, jsonBody, objectsOf, ok, paged, type KvContext, type KvHandler } from './context.js';
import { badParameter, deletedButRecoverable, deletedNotFound, itemNotFound, ITEM_LABEL, KvError } from './errors.js';
import { KV_OBJECTS, objectKey, type Collection, type DeletedState, type ObjectRecord, type VersionRecord } from './records.js';
import { nowSeconds, type ItemRef, type VaultData } from './vaultData.js';
import type { VaultInfo } from './vaultModel.js';

export interface CollectionSpec {
  coll: Collection;
  /**
   * The bundle of a version without secret material; with `item`, the list item (its id names
   * the version only when `versioned`, as in a versions list).
   */
  view(vault: VaultInfo, obj: ObjectRecord, rec: VersionRecord, opts?: ViewOptions): Record<string, unknown>;
  /** Collections whose item of the same name belongs to this one (a certificate's key and secret). */
  linked?: Collection[];
  /** Clear material of a version for a backup (secret value, PKCS#8 key), and its record without the sealed copy. */
  exportVersion?(sealer: Sealer, vault: string, name: string, rec: VersionRecord): BackupVersion;
  /** The record for the target vault, material sealed again. */
  importVersion?(sealer: Sealer, vault: string, name: string, v: BackupVersion): VersionRecord;
}

export interface ViewOptions {
  item?: boolean;
  versioned?: boolean;
}

export type SpecLookup = (coll: Collection) => CollectionSpec;

export const refOf = (ctx: KvContext, coll: Collection, name = ctx.name): ItemRef => ({ vault: ctx.vault.name, coll, name });

/** Refuses direct changes to a key or secret that belongs to a certificate. */
export function refuseManaged(coll: Collection, obj: ObjectRecord | undefined, operation: string): void {
  if (obj?.managed) {
    throw new KvError(403, 'Forbidden', `Operation ${operation} is not allowed on a ${ITEM_LABEL[coll].toLowerCase()} that belongs to a certificate; use the certificate instead.`);
  }
}

export function refusePurgeIfProtected(vault: VaultInfo): void {
  if (vault.purgeProtection) {
    throw new KvError(403, 'Forbidden', `Operation purge is not allowed: purge protection is enabled on vault '${vault.name}'; deleted items are purged when their retention period ends.`);
  }
}

export async function liveObject(ctx: KvContext, coll: Collection): Promise<Entry<ObjectRecord>> {
  const obj = await ctx.data.object(refOf(ctx, coll));
  if (!obj || obj.value.deleted) throw itemNotFound(coll, ctx.name);
  return obj;
}

export async function versionOf(ctx: KvContext, coll: Collection, obj: ObjectRecord, version?: string): Promise<VersionRecord> {
  const rec = await ctx.data.version(refOf(ctx, coll, obj.name), version || obj.latest);
  if (!rec) throw itemNotFound(coll, obj.name, version || undefined);
  return rec;
}

/** Ops that set the deletion state of the linked items (with version preconditions). */
async function linkedStateOps(data: VaultData, vault: string, spec: CollectionSpec, name: string, deleted: DeletedState | undefined): Promise<Op[]> {
  const ops: Op[] = [];
  for (const coll of spec.linked ?? []) {
    const e = await data.object({ vault, coll, name });
    if (!e) continue;
    const value: ObjectRecord = { ...e.value };
    if (deleted) value.deleted = deleted;
    else delete value.deleted;
    ops.push({ op: 'put', kind: KV_OBJECTS, key: objectKey(vault, coll, name), value, ifVersion: e.version });
  }
  return ops;
}

export function lifecycleHandlers(spec: CollectionSpec, specOf: SpecLookup): Record<'list' | 'versions' | 'delete' | 'deletedList' | 'deletedGet' | 'recover' | 'purge' | 'backup' | 'restore', KvHandler> {
  const { coll } = spec;
  const deletedView = (vault: VaultInfo, obj: ObjectRecord, rec: VersionRecord, item = false) => ({ ...deletedMembers(vault, coll, obj.name, obj.deleted!), ...spec.view(vault, obj, rec, { item }) });

  const listOf = (deleted: boolean): KvHandler => async (ctx) => {
    const items: Array<{ sortKey: string; item: Record<string, unknown> }> = [];
    for (const e of await objectsOf(ctx, coll, deleted)) {
      const rec = await ctx.data.version(refOf(ctx, coll, e.value.name), e.value.latest);
      if (!rec) continue;
      items.push({ sortKey: e.key, item: deleted ? deletedView(ctx.vault, e.value, rec, true) : spec.view(ctx.vault, e.value, rec, { item: true }) });
    }
    return ok(paged(ctx, deleted ? `/deleted${coll}` : `/${coll}`, items));
  };

  const deletedObject = async (ctx: KvContext) => {
    const obj = await ctx.data.object(refOf(ctx, coll));
    if (!obj?.value.deleted) throw deletedNotFound(coll, ctx.name);
    return obj;
  };

  return {
    list: listOf(false),
    deletedList: listOf(true),

    async versions(ctx) {
      const obj = (await liveObject(ctx, coll)).value;
      const all = (await ctx.data.versions(refOf(ctx, coll))).sort((a, b) => a.attributes.created - b.attributes.created || a.version.localeCompare(b.version));
      const items = all.map((rec) => ({ sortKey: `${String(rec.attributes.created).padStart(12, '0')}/${rec.version}`, item: spec.view(ctx.vault, obj, rec, { item: true, versioned: true }) }));
      return ok(paged(ctx, `/${coll}/${obj.name}/versions`, items));
    },

    async delete(ctx) {
      return ctx.data.update(refOf(ctx, coll), async (current) => {
        if (!current || current.value.deleted) throw itemNotFound(coll, ctx.name);
        refuseManaged(coll, current.value, 'delete');
        const rec = await versionOf(ctx, coll, current.value);
        const now = nowSeconds();
        const deleted: DeletedState = { deletedDate: now, scheduledPurgeDate: now + ctx.vault.retentionDays * 86_400 };
        const obj: ObjectRecord = { ...current.value, deleted };
        return { record: obj, ops: await linkedStateOps(ctx.data, ctx.vault.name, spec, obj.name, deleted), result: ok(deletedView(ctx.vault, obj, rec)) };
      });
    },

    async deletedGet(ctx) {
      const obj = (await deletedObject(ctx)).value;
      return ok(deletedView(ctx.vault, obj, await versionOf(ctx, coll, obj)));
    },

    async recover(ctx) {
      return ctx.data.update(refOf(ctx, coll), async (current) => {
        if (!current?.value.deleted) throw deletedNotFound(coll, ctx.name);
        refuseManaged(coll, current.value, 'recover');
        const obj: ObjectRecord = { ...current.value };
        delete obj.deleted;
        const rec = await versionOf(ctx, coll, obj);
        return { record: obj, ops: await linkedStateOps(ctx.data, ctx.vault.name, spec, obj.name, undefined), result: ok(spec.view(ctx.vault, obj, rec)) };
      });
    },

    async purge(ctx) {
      refusePurgeIfProtected(ctx.vault);
      return ctx.data.update(refOf(ctx, coll), async (current) => {
        if (!current?.value.deleted) throw deletedNotFound(coll, ctx.name);
        refuseManaged(coll, current.value, 'purge');
        const ops = await ctx.data.purgeOps(refOf(ctx, coll));
        for (const linked of spec.linked ?? []) ops.push(...(await ctx.data.purgeOps(refOf(ctx, linked))));
        return { ops, result: { status: 204 } };
      });
    },

    async backup(ctx) {
      const obj = (await liveObject(ctx, coll)).value;
      refuseManaged(coll, obj, 'backup');
      const exportAll = async (c: Collection) => {
        const s = specOf(c);
        return (await ctx.data.versions(refOf(ctx, c, obj.name))).map((rec) => (s.exportVersion ? s.exportVersion(ctx.sealer, ctx.vault.name, obj.name, rec) : { record: rec }));
      };
      const object: ObjectRecord = { ...obj };
      delete object.deleted;
      delete object.pending;
      const linked = spec.linked ? { keys: await exportAll('keys'), secrets: await exportAll('secrets') } : undefined;
      return ok({ value: sealBackup(ctx.sealer, { coll, object, versions: await exportAll(coll), ...(linked ? { linked } : {}) }) });
    },

    async restore(ctx) {
      const payload = openBackup(ctx.sealer, coll, (await jsonBody(ctx.req)).value);
      const name = payload.object.name;
      const vault = ctx.vault.name;
      const importAll = (c: Collection, versions: BackupVersion[]) => {
        const s = specOf(c);
        return versions.map((v) => ctx.data.putVersionOp({ vault, coll: c, name }, s.importVersion ? s.importVersion(ctx.sealer, vault, name, v) : v.record, { mustBeNew: true }));
      };
      return ctx.data.update({ vault, coll, name }, async (current) => {
        if (current?.value.deleted) throw deletedButRecoverable(coll, name);
        if (current) throw new KvError(409, 'Conflict', `${ITEM_LABEL[coll]} ${name} already exists in this vault; restore needs a vault without it.`);
        const latest = payload.versions.find((v) => v.record.version === payload.object.latest)?.record;
        if (!latest) throw badParameter('The backup blob is invalid.');
        const ops = importAll(coll, payload.versions);
        for (const c of spec.linked ?? []) {
          const linkedVersions = payload.linked?.[c as 'keys' | 'secrets'] ?? [];
          if (linkedVersions.length === 0) continue;
          if (await ctx.data.object({ vault, coll: c, name })) throw new KvError(409, 'Conflict', `${ITEM_LABEL[c]} ${name} already exists in this vault; restore needs a vault without it.`);
          ops.push(...importAll(c, linkedVersions));
          ops.push({ op: 'put', kind: KV_OBJECTS, key: objectKey(vault, c, name), value: { name, latest: payload.object.latest, managed: true } satisfies ObjectRecord, ifAbsent: true });
        }
        const obj: ObjectRecord = { ...payload.object };
        return { record: obj, ops, result: ok(spec.view(ctx.vault, obj, latest)) };
      });
    },
  };
}
