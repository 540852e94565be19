// Secrets: set (a new version each time), get, list, versions, update, soft delete, deleted
// views, recover, purge, backup and restore. Values are sealed at rest; a disabled version's
// value is refused, while not-yet-valid or expired ones are still returned, as Key Vault does.
import type { Sealer } from '../../crypto/masterKey.js';
import { attributesView, itemId, jsonBody, ok, parseAttributes, parseTags, type KvContext, type KvHandler } from './context.js';
import { badParameter, deletedButRecoverable, itemNotFound, KvError } from './errors.js';
import { lifecycleHandlers, liveObject, refOf, refuseManaged, versionOf, type CollectionSpec, type SpecLookup, type ViewOptions } from './lifecycle.js';
import { sealContext, type ObjectRecord, type VersionRecord } from './records.js';
import { newVersionId, nowSeconds } from './vaultData.js';
import type { VaultInfo } from './vaultModel.js';
import { ownedUtf8 } from '../../server/http.js';

/** Key Vault's limit on a secret value. */
export const MAX_SECRET_BYTES = 25 * 1024;

const ref = (ctx: KvContext) => refOf(ctx, 'secrets');

export function sealSecret(sealer: Sealer, vault: string, name: string, version: string, value: string): string {
  return sealer.seal(value, sealContext('kvsecret', vault, name, version));
}

export function openSecret(sealer: Sealer, vault: string, name: string, rec: VersionRecord): string {
  return sealer.openText(rec.sealedValue ?? '', sealContext('kvsecret', vault, name, rec.version));
}

/** SecretBundle (with `value` when given) or SecretItem. */
export function secretView(vault: VaultInfo, obj: ObjectRecord, rec: VersionRecord, opts: ViewOptions & { value?: string } = {}): Record<string, unknown> {
  const v: Record<string, unknown> = {};
  if (opts.value !== undefined) v.value = opts.value;
  v.id = itemId(vault, 'secrets', obj.name, opts.item && !opts.versioned ? undefined : rec.version);
  if (rec.contentType !== undefined) v.contentType = rec.contentType;
  v.attributes = attributesView(rec.attributes, vault);
  if (rec.tags) v.tags = rec.tags;
  if (rec.kid) v.kid = rec.kid;
  if (obj.managed) v.managed = true;
  return v;
}

const set: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  if (typeof body.value !== 'string') throw badParameter("The property 'value' is required and must be a string.");
  const value = body.value;
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) throw badParameter(`A secret value can be at most ${MAX_SECRET_BYTES} bytes.`);
  if (body.contentType !== undefined && body.contentType !== null && typeof body.contentType !== 'string') throw badParameter("'contentType' must be a string.");
  const tags = parseTags(body.tags);
  const attrs = parseAttributes(body.attributes);
  return ctx.data.update(ref(ctx), async (current) => {
    if (current?.value.deleted) throw deletedButRecoverable('secrets', ctx.name);
    refuseManaged('secrets', current?.value, 'set');
    const now = nowSeconds();
    const version = newVersionId();
    const obj: ObjectRecord = { ...(current?.value ?? {}), name: current?.value.name ?? ctx.name, latest: version };
    const rec: VersionRecord = { version, attributes: { ...attrs, created: now, updated: now }, sealedValue: sealSecret(ctx.sealer, ctx.vault.name, ctx.name, version, value) };
    if (typeof body.contentType === 'string') rec.contentType = body.contentType;
    if (tags) rec.tags = tags;
    return { record: obj, ops: [ctx.data.putVersionOp(ref(ctx), rec, { mustBeNew: true })], result: ok(secretView(ctx.vault, obj, rec, { value })) };
  });
};

/**
 * getSecret's response bytes per version record, while that record, its object record and the
 * vault are the very objects they were made from (all three are replaced, never changed): a
 * secret read over and over is then neither opened nor serialised again.
 */
const bundles = new WeakMap<VersionRecord, { obj: ObjectRecord; vault: VaultInfo; body: Buffer }>();

const get: KvHandler = async (ctx) => {
  const obj = (await liveObject(ctx, 'secrets')).value;
  const rec = await versionOf(ctx, 'secrets', obj, ctx.version);
  if (!rec.attributes.enabled) throw new KvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
  const kept = bundles.get(rec);
  if (kept !== undefined && kept.obj === obj && kept.vault === ctx.vault) return ok(kept.body);
  const body = ownedUtf8(JSON.stringify(secretView(ctx.vault, obj, rec, { value: openSecret(ctx.sealer, ctx.vault.name, ctx.name, rec) })));
  bundles.set(rec, { obj, vault: ctx.vault, body });
  return ok(body);
};

const update: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  if (body.contentType !== undefined && body.contentType !== null && typeof body.contentType !== 'string') throw badParameter("'contentType' must be a string.");
  return ctx.data.update(ref(ctx), async (current) => {
    if (!current || current.value.deleted) throw itemNotFound('secrets', ctx.name);
    refuseManaged('secrets', current.value, 'update');
    const rec = await versionOf(ctx, 'secrets', current.value, ctx.version);
    const next: VersionRecord = { ...rec, attributes: { ...parseAttributes(body.attributes, rec.attributes), created: rec.attributes.created, updated: nowSeconds() } };
    const tags = parseTags(body.tags, rec.tags);
    if (tags) next.tags = tags;
    else delete next.tags;
    if (typeof body.contentType === 'string') next.contentType = body.contentType;
    return { record: current.value, ops: [ctx.data.putVersionOp(ref(ctx), next)], result: ok(secretView(ctx.vault, current.value, next)) };
  });
};

export const SECRETS: CollectionSpec = {
  coll: 'secrets',
  view: (vault, obj, rec, opts) => secretView(vault, obj, rec, opts),
  exportVersion(sealer, vault, name, rec) {
    const { sealedValue: _sealed, ...record } = rec;
    return { record, material: openSecret(sealer, vault, name, rec) };
  },
  importVersion: (sealer, vault, name, v) => ({ ...v.record, sealedValue: sealSecret(sealer, vault, name, v.record.version, v.material ?? '') }),
};

export function secretHandlers(specOf: SpecLookup) {
  const common = lifecycleHandlers(SECRETS, specOf);
  return {
    'secret.set': set,
    'secret.get': get,
    'secret.update': update,
    'secret.delete': common.delete,
    'secret.list': common.list,
    'secret.versions': common.versions,
    'secret.backup': common.backup,
    'secret.restore': common.restore,
    'secret.deletedList': common.deletedList,
    'secret.deletedGet': common.deletedGet,
    'secret.recover': common.recover,
    'secret.purge': common.purge,
  } satisfies Record<string, KvHandler>;
}
