// Keys: create (RSA 2048/3072/4096, EC P-256/P-384/P-521/P-256K), import, get, update, rotate,
// rotation policy, and the operations the SDK's CryptographyClient performs remotely: sign,
// verify, encrypt, decrypt, wrapKey, unwrapKey. Private keys are sealed at rest and never
// returned; responses carry the public JWK only.
import type { KeyObject } from 'node:crypto';
import type { Sealer } from '../../crypto/masterKey.js';
import { attributesView, itemId, jsonBody, ok, parseAttributes, parseTags, type KvContext, type KvHandler } from './context.js';
import { badParameter, deletedButRecoverable, itemNotFound, KvError } from './errors.js';
import {
  decryptWith,
  EC_CURVE_NAMES,
  EC_KEY_OPS,
  encryptWith,
  familyOf,
  generateKey,
  pkcs8Of,
  privateKeyFromJwk,
  privateKeyFromPkcs8,
  publicMembers,
  RSA_KEY_OPS,
  RSA_KEY_SIZES,
  signWith,
  verifyWith,
  type KeyFamily,
} from './keyCrypto.js';
import { lifecycleHandlers, liveObject, refOf, refuseManaged, versionOf, type CollectionSpec, type SpecLookup, type ViewOptions } from './lifecycle.js';
import { sealContext, type Attributes, type ObjectRecord, type StoredKey, type VersionRecord } from './records.js';
import { newVersionId, nowSeconds } from './vaultData.js';
import type { VaultInfo } from './vaultModel.js';

const ref = (ctx: KvContext) => refOf(ctx, 'keys');

export function sealPrivateKey(sealer: Sealer, vault: string, name: string, version: string, pkcs8: Buffer): string {
  return sealer.seal(pkcs8, sealContext('kvkey', vault, name, version));
}

export function openPrivateKey(sealer: Sealer, vault: string, name: string, rec: VersionRecord): KeyObject {
  return privateKeyFromPkcs8(sealer.open(rec.key!.sealedPrivateKey, sealContext('kvkey', vault, name, rec.version)));
}

/** The stored form of a key version's material. */
export function storedKey(sealer: Sealer, vault: string, name: string, version: string, kty: string, keyOps: string[], privateKey: KeyObject): StoredKey {
  return { kty, keyOps, ...publicMembers(privateKey), sealedPrivateKey: sealPrivateKey(sealer, vault, name, version, pkcs8Of(privateKey)) };
}

/** The public JWK as Key Vault returns it. */
function jwkView(vault: VaultInfo, name: string, rec: VersionRecord): Record<string, unknown> {
  const k = rec.key!;
  const jwk: Record<string, unknown> = { kid: itemId(vault, 'keys', name, rec.version), kty: k.kty, key_ops: k.keyOps };
  if (k.n) Object.assign(jwk, { n: k.n, e: k.e });
  if (k.crv) Object.assign(jwk, { crv: k.crv, x: k.x, y: k.y });
  return jwk;
}

/** KeyBundle, or KeyItem (`kid` without version in a keys list). */
export function keyView(vault: VaultInfo, obj: ObjectRecord, rec: VersionRecord, opts: ViewOptions = {}): Record<string, unknown> {
  const v: Record<string, unknown> = opts.item ? { kid: itemId(vault, 'keys', obj.name, opts.versioned ? rec.version : undefined) } : { key: jwkView(vault, obj.name, rec) };
  v.attributes = attributesView(rec.attributes, vault);
  if (rec.tags) v.tags = rec.tags;
  if (obj.managed) v.managed = true;
  return v;
}

function allowedOps(family: KeyFamily): string[] {
  return family === 'RSA' ? RSA_KEY_OPS : EC_KEY_OPS;
}

function parseKeyOps(raw: unknown, family: KeyFamily, fallback?: string[]): string[] {
  if (raw === undefined || raw === null) return fallback ?? allowedOps(family);
  if (!Array.isArray(raw)) throw badParameter("'key_ops' must be an array.");
  for (const op of raw) {
    if (typeof op !== 'string' || !allowedOps(family).includes(op)) throw badParameter(`The key operation '${String(op)}' is not valid for ${family} keys; use ${allowedOps(family).join(', ')}.`);
  }
  return [...(raw as string[])];
}

function checkProtection(vault: Pick<VaultInfo, 'premium'>, kty: string): void {
  if (kty.endsWith('-HSM') && !vault.premium) throw badParameter(`Keys of type ${kty} need a premium vault.`);
}

function refuseRelease(body: Record<string, unknown>, attrs: Partial<Attributes>): void {
  if (body.release_policy !== undefined && body.release_policy !== null) throw badParameter('Key release policies (secure key release) are not supported by Mimic.');
  if (attrs.exportable) throw badParameter('An exportable key needs a release policy.');
}

/** Creates a new version of a key (new name, or a new version of an existing one). */
async function writeNewVersion(ctx: KvContext, make: (version: string) => Promise<{ kty: string; keyOps: string[]; privateKey: KeyObject }>, meta: { attributes: Partial<Attributes>; tags?: Record<string, string> }, opts: { mustExist?: boolean } = {}) {
  const now = nowSeconds();
  const version = newVersionId();
  const material = await make(version);
  const rec: VersionRecord = {
    version,
    attributes: { enabled: meta.attributes.enabled ?? true, ...meta.attributes, created: now, updated: now },
    key: storedKey(ctx.sealer, ctx.vault.name, ctx.name, version, material.kty, material.keyOps, material.privateKey),
  };
  if (meta.tags) rec.tags = meta.tags;
  return ctx.data.update(ref(ctx), async (current) => {
    if (current?.value.deleted) throw deletedButRecoverable('keys', ctx.name);
    if (opts.mustExist && !current) throw itemNotFound('keys', ctx.name);
    refuseManaged('keys', current?.value, 'create');
    const obj: ObjectRecord = { ...(current?.value ?? {}), name: current?.value.name ?? ctx.name, latest: version };
    return { record: obj, ops: [ctx.data.putVersionOp(ref(ctx), rec, { mustBeNew: true })], result: ok(keyView(ctx.vault, obj, rec)) };
  });
}

/** What a new key is to be (from a create request in the data plane's wire names), validated. */
export interface KeySpec {
  kty: string;
  family: KeyFamily;
  size?: number;
  exponent?: number;
  crv?: string;
  keyOps: string[];
}

export function parseKeySpec(body: Record<string, unknown>, vault: Pick<VaultInfo, 'premium'>): KeySpec {
  const kty = body.kty;
  if (typeof kty !== 'string') throw badParameter("The property 'kty' is required.");
  const family = familyOf(kty);
  if (!family) throw badParameter(`The key type '${kty}' is not supported by a vault; use RSA, RSA-HSM, EC or EC-HSM.`);
  checkProtection(vault, kty);
  let size: number | undefined;
  let exponent: number | undefined;
  let crv: string | undefined;
  if (family === 'RSA') {
    size = body.key_size === undefined || body.key_size === null ? 2048 : Number(body.key_size);
    if (!RSA_KEY_SIZES.includes(size)) throw badParameter(`The RSA key size ${String(body.key_size)} is not supported; use ${RSA_KEY_SIZES.join(', ')}.`);
    exponent = body.public_exponent === undefined || body.public_exponent === null ? 65537 : Number(body.public_exponent);
    if (exponent !== 65537 && exponent !== 3) throw badParameter('The public exponent must be 65537 or 3.');
  } else {
    crv = body.crv === undefined || body.crv === null ? 'P-256' : String(body.crv);
    if (!EC_CURVE_NAMES.includes(crv)) throw badParameter(`The curve '${crv}' is not supported; use ${EC_CURVE_NAMES.join(', ')}.`);
  }
  return { kty, family, size, exponent, crv, keyOps: parseKeyOps(body.key_ops, family) };
}

/** A key version record for a new key (its private key generated and sealed). */
export async function newKeyVersion(sealer: Sealer, vault: string, name: string, spec: KeySpec, attributes: Partial<Attributes>, tags?: Record<string, string>): Promise<VersionRecord> {
  const now = nowSeconds();
  const version = newVersionId();
  const privateKey = await generateKey(spec.family, { size: spec.size, exponent: spec.exponent, crv: spec.crv });
  const rec: VersionRecord = {
    version,
    attributes: { enabled: attributes.enabled ?? true, ...attributes, created: now, updated: now },
    key: storedKey(sealer, vault, name, version, spec.kty, spec.keyOps, privateKey),
  };
  if (tags) rec.tags = tags;
  return rec;
}

const create: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  const spec = parseKeySpec(body, ctx.vault);
  const attributes = parseAttributes(body.attributes);
  refuseRelease(body, attributes);
  const tags = parseTags(body.tags);
  return writeNewVersion(ctx, async () => ({ kty: spec.kty, keyOps: spec.keyOps, privateKey: await generateKey(spec.family, { size: spec.size, exponent: spec.exponent, crv: spec.crv }) }), { attributes, tags });
};

const importKey: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  const jwk = body.key;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw badParameter("The property 'key' (a JSON web key) is required.");
  const { key, family } = privateKeyFromJwk(jwk as Record<string, unknown>);
  const hsm = body.Hsm === true || String((jwk as Record<string, unknown>).kty).endsWith('-HSM');
  const kty = hsm ? `${family}-HSM` : family;
  checkProtection(ctx.vault, kty);
  const attributes = parseAttributes(body.attributes);
  refuseRelease(body, attributes);
  const keyOps = parseKeyOps((jwk as Record<string, unknown>).key_ops, family);
  return writeNewVersion(ctx, async () => ({ kty, keyOps, privateKey: key }), { attributes, tags: parseTags(body.tags) });
};

const get: KvHandler = async (ctx) => {
  const obj = (await liveObject(ctx, 'keys')).value;
  return ok(keyView(ctx.vault, obj, await versionOf(ctx, 'keys', obj, ctx.version)));
};

const update: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  return ctx.data.update(ref(ctx), async (current) => {
    if (!current || current.value.deleted) throw itemNotFound('keys', ctx.name);
    refuseManaged('keys', current.value, 'update');
    const rec = await versionOf(ctx, 'keys', current.value, ctx.version);
    const attributes = parseAttributes(body.attributes, rec.attributes);
    refuseRelease(body, body.attributes ? attributes : {});
    const family = familyOf(rec.key!.kty)!;
    const next: VersionRecord = { ...rec, attributes: { ...attributes, created: rec.attributes.created, updated: nowSeconds() }, key: { ...rec.key!, keyOps: parseKeyOps(body.key_ops, family, rec.key!.keyOps) } };
    const tags = parseTags(body.tags, rec.tags);
    if (tags) next.tags = tags;
    else delete next.tags;
    return { record: current.value, ops: [ctx.data.putVersionOp(ref(ctx), next)], result: ok(keyView(ctx.vault, current.value, next)) };
  });
};

/** A new version with the current version's type, size or curve, and operations. */
const rotate: KvHandler = async (ctx) => {
  const obj = (await liveObject(ctx, 'keys')).value;
  refuseManaged('keys', obj, 'rotate');
  const current = await versionOf(ctx, 'keys', obj);
  const k = current.key!;
  const family = familyOf(k.kty)!;
  const expiry = (obj.rotationPolicy?.attributes as { expiryTime?: string } | undefined)?.expiryTime;
  const attributes: Partial<Attributes> = { enabled: true };
  const seconds = expiry ? durationSeconds(expiry) : undefined;
  if (seconds) attributes.exp = nowSeconds() + seconds;
  const size = family === 'RSA' ? Buffer.from(k.n!, 'base64url').length * 8 : undefined;
  const exponent = family === 'RSA' ? Number(BigInt('0x' + Buffer.from(k.e!, 'base64url').toString('hex'))) : undefined;
  return writeNewVersion(ctx, async () => ({ kty: k.kty, keyOps: k.keyOps, privateKey: await generateKey(family, { size, exponent, crv: k.crv }) }), { attributes, tags: current.tags }, { mustExist: true });
};

/** Seconds of an ISO 8601 duration such as P90D or P1Y2M (months and years approximated). */
function durationSeconds(iso: string): number | undefined {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  return (((y! * 365 + mo! * 30 + d!) * 24 + h!) * 60 + mi!) * 60 + s!;
}

const DEFAULT_ROTATION_POLICY = { lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }], attributes: {} };

const getRotationPolicy: KvHandler = async (ctx) => {
  const obj = (await liveObject(ctx, 'keys')).value;
  return ok({ id: `${itemId(ctx.vault, 'keys', obj.name)}/rotationpolicy`, ...(obj.rotationPolicy ?? DEFAULT_ROTATION_POLICY) });
};

const setRotationPolicy: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  const actions = body.lifetimeActions ?? [];
  if (!Array.isArray(actions)) throw badParameter("'lifetimeActions' must be an array.");
  for (const a of actions as Array<Record<string, unknown>>) {
    const type = String((a?.action as Record<string, unknown> | undefined)?.type ?? '').toLowerCase();
    if (type !== 'rotate' && type !== 'notify') throw badParameter("Each lifetime action needs an action type of 'Rotate' or 'Notify'.");
    const t = (a.trigger ?? {}) as Record<string, unknown>;
    for (const d of [t.timeAfterCreate, t.timeBeforeExpiry]) if (d !== undefined && (typeof d !== 'string' || durationSeconds(d) === undefined)) throw badParameter(`'${String(d)}' is not an ISO 8601 duration.`);
  }
  const attrsIn = (body.attributes ?? {}) as Record<string, unknown>;
  if (attrsIn.expiryTime !== undefined && (typeof attrsIn.expiryTime !== 'string' || durationSeconds(attrsIn.expiryTime) === undefined)) throw badParameter("'attributes.expiryTime' must be an ISO 8601 duration.");
  return ctx.data.update(ref(ctx), async (current) => {
    if (!current || current.value.deleted) throw itemNotFound('keys', ctx.name);
    const now = nowSeconds();
    const created = (current.value.rotationPolicy?.attributes as { created?: number } | undefined)?.created ?? now;
    const policy = { lifetimeActions: actions, attributes: { ...(attrsIn.expiryTime ? { expiryTime: attrsIn.expiryTime } : {}), created, updated: now } };
    const obj: ObjectRecord = { ...current.value, rotationPolicy: policy };
    return { record: obj, result: ok({ id: `${itemId(ctx.vault, 'keys', obj.name)}/rotationpolicy`, ...policy }) };
  });
};

const release: KvHandler = async () => {
  throw badParameter('Key release (secure key release with attestation) is not supported by Mimic.');
};

type CryptoOperation = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'wrapKey' | 'unwrapKey';
/** Operations refused outside a key's nbf/exp window (decrypt, unwrap and verify keep working). */
const TIME_BOUND: ReadonlySet<CryptoOperation> = new Set(['encrypt', 'sign', 'wrapKey']);

function bytes(v: unknown, field: string): Buffer {
  if (typeof v !== 'string') throw badParameter(`The property '${field}' is required (base64url).`);
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(v)) throw badParameter(`The property '${field}' is not base64url.`);
  return Buffer.from(v, 'base64url');
}

function cryptoOperation(op: CryptoOperation): KvHandler {
  return async (ctx) => {
    const body = await jsonBody(ctx.req);
    const obj = (await liveObject(ctx, 'keys')).value;
    const rec = await versionOf(ctx, 'keys', obj, ctx.version);
    const k = rec.key!;
    const a = rec.attributes;
    if (!a.enabled) throw new KvError(403, 'Forbidden', `Operation ${op} is not allowed on a disabled key.`, 'KeyDisabled');
    const now = nowSeconds();
    if (TIME_BOUND.has(op) && ((a.nbf !== undefined && now < a.nbf) || (a.exp !== undefined && now >= a.exp))) {
      throw new KvError(403, 'Forbidden', `Operation ${op} is not allowed on a key outside its validity period (nbf/exp).`);
    }
    if (!k.keyOps.includes(op)) throw new KvError(403, 'Forbidden', `Operation ${op} is not permitted on this key; its key_ops are ${k.keyOps.join(', ')}.`);
    const kid = itemId(ctx.vault, 'keys', obj.name, rec.version);
    const privateKey = openPrivateKey(ctx.sealer, ctx.vault.name, obj.name, rec);
    switch (op) {
      case 'sign':
        return ok({ kid, value: signWith(k, privateKey, body.alg, bytes(body.value, 'value')).toString('base64url') });
      case 'verify':
        return ok({ value: verifyWith(k, privateKey, body.alg, bytes(body.digest, 'digest'), bytes(body.value, 'value')) });
      case 'encrypt':
      case 'wrapKey':
        return ok({ kid, value: encryptWith(k, privateKey, body.alg, bytes(body.value, 'value')).toString('base64url') });
      case 'decrypt':
      case 'unwrapKey':
        return ok({ kid, value: decryptWith(k, privateKey, body.alg, bytes(body.value, 'value')).toString('base64url') });
    }
  };
}

export const KEYS: CollectionSpec = {
  coll: 'keys',
  view: keyView,
  exportVersion(sealer, vault, name, rec) {
    const { sealedPrivateKey: _sealed, ...key } = rec.key!;
    return { record: { ...rec, key: { ...key, sealedPrivateKey: '' } }, material: pkcs8Of(openPrivateKey(sealer, vault, name, rec)).toString('base64') };
  },
  importVersion: (sealer, vault, name, v) => ({ ...v.record, key: { ...v.record.key!, sealedPrivateKey: sealPrivateKey(sealer, vault, name, v.record.version, Buffer.from(v.material ?? '', 'base64')) } }),
};

export function keyHandlers(specOf: SpecLookup) {
  const common = lifecycleHandlers(KEYS, specOf);
  return {
    'key.create': create,
    'key.import': importKey,
    'key.get': get,
    'key.update': update,
    'key.delete': common.delete,
    'key.list': common.list,
    'key.versions': common.versions,
    'key.backup': common.backup,
    'key.restore': common.restore,
    'key.rotate': rotate,
    'key.release': release,
    'key.getRotationPolicy': getRotationPolicy,
    'key.setRotationPolicy': setRotationPolicy,
    'key.encrypt': cryptoOperation('encrypt'),
    'key.decrypt': cryptoOperation('decrypt'),
    'key.sign': cryptoOperation('sign'),
    'key.verify': cryptoOperation('verify'),
    'key.wrapKey': cryptoOperation('wrapKey'),
    'key.unwrapKey': cryptoOperation('unwrapKey'),
    'key.deletedList': common.deletedList,
    'key.deletedGet': common.deletedGet,
    'key.recover': common.recover,
    'key.purge': common.purge,
  } satisfies Record<string, KvHandler>;
}
