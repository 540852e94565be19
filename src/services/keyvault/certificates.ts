// Certificates: create with a policy (issuer 'Self' signs at once; 'Unknown' leaves a pending
// operation with a signing request until a certificate is merged), import (PEM), get, list,
// versions, update, policy, the pending operation, and the shared lifecycle. Each version has a
// key and a secret of the same name and version that belong to it (managed): the key holds the
// private key, the secret the PKCS#12 or PEM bundle (without the private key when the policy
// says it is not exportable).
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Entry, Op } from '../../store/types.js';
import { attributesView, itemId, jsonBody, ok, parseAttributes, parseTags, type KvContext, type KvHandler, type KvResult } from './context.js';
import { badParameter, deletedButRecoverable, itemNotFound, KvError } from './errors.js';
import { normalizePolicy, PEM, type CertificatePolicy } from './certificatePolicy.js';
import { EC_KEY_OPS, familyOf, generateKey, pkcs8Of, privateKeyFromPkcs8, RSA_KEY_OPS, type KeyFamily } from './keyCrypto.js';
import { openPrivateKey, storedKey } from './keys.js';
import { lifecycleHandlers, liveObject, refOf, versionOf, type CollectionSpec, type SpecLookup, type ViewOptions } from './lifecycle.js';
import { buildPfx } from '../../crypto/pkcs12.js';
import { KV_OBJECTS, objectKey, sealContext, type Attributes, type ObjectRecord, type PendingOperation, type VersionRecord } from './records.js';
import { sealSecret } from './secrets.js';
import { newVersionId, nowSeconds } from './vaultData.js';
import type { VaultInfo } from './vaultModel.js';
import { certificateRequest, selfSignedCertificate } from './x509.js';

const ref = (ctx: KvContext) => refOf(ctx, 'certificates');
const MONTH_MS = 30.4375 * 24 * 3600 * 1000;

function policyOf(obj: ObjectRecord): CertificatePolicy {
  return obj.policy as unknown as CertificatePolicy;
}

export function policyView(vault: VaultInfo, name: string, policy: CertificatePolicy): Record<string, unknown> {
  return { id: `${itemId(vault, 'certificates', name)}/policy`, ...policy };
}

/** CertificateBundle, or CertificateItem in lists. */
export function certificateView(vault: VaultInfo, obj: ObjectRecord, rec: VersionRecord, opts: ViewOptions = {}): Record<string, unknown> {
  const c = rec.cert!;
  if (opts.item) {
    const v: Record<string, unknown> = { id: itemId(vault, 'certificates', obj.name, opts.versioned ? rec.version : undefined), attributes: attributesView(rec.attributes, vault) };
    if (rec.tags) v.tags = rec.tags;
    v.x5t = c.x5t;
    return v;
  }
  const policy = policyOf(obj);
  const v: Record<string, unknown> = {
    id: itemId(vault, 'certificates', obj.name, rec.version),
    kid: itemId(vault, 'keys', obj.name, rec.version),
    sid: itemId(vault, 'secrets', obj.name, rec.version),
    x5t: c.x5t,
    cer: c.cer,
    contentType: policy?.secret_props.contentType,
    attributes: attributesView(rec.attributes, vault),
  };
  if (policy) v.policy = policyView(vault, obj.name, policy);
  if (rec.tags) v.tags = rec.tags;
  return v;
}

export function operationView(vault: VaultInfo, obj: ObjectRecord, p: PendingOperation): Record<string, unknown> {
  const v: Record<string, unknown> = {
    id: `${itemId(vault, 'certificates', obj.name)}/pending`,
    issuer: { name: p.issuerName },
    csr: p.csr,
    cancellation_requested: p.cancellationRequested,
    status: p.status,
    request_id: p.requestId,
  };
  if (p.statusDetails) v.status_details = p.statusDetails;
  if (p.status === 'completed') v.target = itemId(vault, 'certificates', obj.name);
  if (p.error) v.error = p.error;
  return v;
}

function pendingNotFound(name: string): KvError {
  return new KvError(404, 'PendingCertificateNotFound', `Pending certificate not found: ${name}`);
}

interface Issued {
  version: string;
  privateKey: KeyObject;
  kty: string;
  /** DER certificates, leaf first. */
  chain: Buffer[];
  policy: CertificatePolicy;
  attributes: Partial<Attributes>;
  tags?: Record<string, string>;
}

/** The secret value of a certificate version in the policy's content type. */
function secretValue(i: Issued): string {
  const withKey = i.policy.key_props.exportable;
  if (i.policy.secret_props.contentType === PEM) {
    const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
    return (withKey ? pem('PRIVATE KEY', pkcs8Of(i.privateKey)) : '') + i.chain.map((c) => pem('CERTIFICATE', c)).join('');
  }
  return buildPfx(withKey ? pkcs8Of(i.privateKey) : undefined, i.chain).toString('base64');
}

/**
 * Ops writing a new certificate version with its key and secret (same name and version), the
 * key's and secret's object records (with version preconditions), and the certificate's record.
 */
async function issueOps(ctx: KvContext, i: Issued): Promise<{ cert: VersionRecord; ops: Op[] }> {
  const leaf = new X509Certificate(i.chain[0]!);
  const now = nowSeconds();
  const validity = { nbf: Math.floor(Date.parse(leaf.validFrom) / 1000), exp: Math.floor(Date.parse(leaf.validTo) / 1000) };
  const base: Attributes = { enabled: i.attributes.enabled ?? i.policy.attributes.enabled, ...validity, created: now, updated: now };
  const name = ctx.name;
  const vault = ctx.vault.name;
  const family = familyOf(i.kty)!;
  const cert: VersionRecord = { version: i.version, attributes: base, cert: { cer: i.chain[0]!.toString('base64'), x5t: createHash('sha1').update(i.chain[0]!).digest('base64url') } };
  if (i.tags) cert.tags = i.tags;
  const key: VersionRecord = {
    version: i.version,
    attributes: { ...base, exportable: i.policy.key_props.exportable },
    key: storedKey(ctx.sealer, vault, name, i.version, i.kty, family === 'RSA' ? RSA_KEY_OPS : EC_KEY_OPS, i.privateKey),
  };
  const secret: VersionRecord = {
    version: i.version,
    attributes: base,
    contentType: i.policy.secret_props.contentType,
    sealedValue: sealSecret(ctx.sealer, vault, name, i.version, secretValue(i)),
    kid: itemId(ctx.vault, 'keys', name, i.version),
  };
  if (i.tags) {
    key.tags = i.tags;
    secret.tags = i.tags;
  }
  const ops: Op[] = [
    ctx.data.putVersionOp(refOf(ctx, 'certificates'), cert, { mustBeNew: true }),
    ctx.data.putVersionOp(refOf(ctx, 'keys'), key, { mustBeNew: true }),
    ctx.data.putVersionOp(refOf(ctx, 'secrets'), secret, { mustBeNew: true }),
  ];
  for (const coll of ['keys', 'secrets'] as const) {
    const e = await ctx.data.object(refOf(ctx, coll));
    if (e && !e.value.managed) throw new KvError(409, 'Conflict', `A ${coll === 'keys' ? 'key' : 'secret'} named ${name} already exists and does not belong to a certificate.`);
    const value: ObjectRecord = { name: e?.value.name ?? name, latest: i.version, managed: true };
    ops.push({ op: 'put', kind: KV_OBJECTS, key: objectKey(vault, coll, name), value, ifVersion: e?.version ?? 0 });
  }
  return { cert, ops };
}

function checkNotDeleted(ctx: KvContext, current: Entry<ObjectRecord> | undefined): void {
  if (current?.value.deleted) throw deletedButRecoverable('certificates', ctx.name);
}

const create: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  const existing = await ctx.data.object(ref(ctx));
  if (body.policy === undefined && !existing?.value.policy) throw badParameter("The property 'policy' is required.");
  const now = nowSeconds();
  const policy = normalizePolicy(body.policy ?? {}, now, existing?.value.policy ? policyOf(existing.value) : undefined);
  const attributes = parseAttributes(body.attributes);
  const tags = parseTags(body.tags);
  const family = familyOf(policy.key_props.kty)!;
  const version = newVersionId();
  let privateKey: KeyObject | undefined;
  if (policy.key_props.reuse_key && existing && !existing.value.deleted && existing.value.latest) {
    const keyRec = await ctx.data.version(refOf(ctx, 'keys'), existing.value.latest);
    if (keyRec?.key) privateKey = openPrivateKey(ctx.sealer, ctx.vault.name, ctx.name, keyRec);
  }
  privateKey ??= await generateKey(family, { size: policy.key_props.key_size, crv: policy.key_props.crv });
  const csr = (await certificateRequest(privateKey, family, policy.key_props.crv, policy.x509_props)).toString('base64');
  const selfSigned = policy.issuer.name.toLowerCase() === 'self';
  let issued: { cert: VersionRecord; ops: Op[] } | undefined;
  if (selfSigned) {
    const notBefore = new Date(now * 1000);
    const notAfter = new Date(now * 1000 + policy.x509_props.validity_months * MONTH_MS);
    const der = await selfSignedCertificate(privateKey, family, policy.key_props.crv, policy.x509_props, notBefore, notAfter);
    issued = await issueOps(ctx, { version, privateKey, kty: policy.key_props.kty, chain: [der], policy, attributes, tags });
  }
  const pending: PendingOperation = {
    requestId: newVersionId(),
    status: selfSigned ? 'completed' : 'inProgress',
    csr,
    issuerName: policy.issuer.name,
    cancellationRequested: false,
    version,
    ...(selfSigned ? {} : { sealedPrivateKey: ctx.sealer.seal(pkcs8Of(privateKey), sealContext('kvpending', ctx.vault.name, ctx.name, version)), attributes, ...(tags ? { tags } : {}) }),
    ...(selfSigned ? {} : { statusDetails: 'Pending certificate created. Merge the certificate issued for the signing request to complete it.' }),
  };
  return ctx.data.update(ref(ctx), async (current) => {
    checkNotDeleted(ctx, current);
    if (current?.value.pending?.status === 'inProgress') throw new KvError(409, 'Conflict', `Certificate ${ctx.name} has a pending operation; merge, cancel or delete it first.`);
    const obj: ObjectRecord = { name: current?.value.name ?? ctx.name, latest: issued ? version : (current?.value.latest ?? ''), policy: policy as unknown as Record<string, unknown>, pending };
    // 202 as Azure answers (issuance is asynchronous there); the operation already reflects the outcome.
    return { record: obj, ops: issued?.ops ?? [], result: { status: 202, body: operationView(ctx.vault, obj, pending) } };
  });
};

/** Completes a pending 'Unknown'-issuer operation with the certificate(s) its CA issued. */
const merge: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  if (!Array.isArray(body.x5c) || body.x5c.length === 0 || body.x5c.some((c) => typeof c !== 'string')) throw badParameter("The property 'x5c' (base64 DER certificates, leaf first) is required.");
  const chain = (body.x5c as string[]).map((c) => Buffer.from(c, 'base64'));
  const current = await ctx.data.object(ref(ctx));
  const pending = current?.value.pending;
  if (!current || current.value.deleted || !pending || pending.status !== 'inProgress' || !pending.sealedPrivateKey) throw pendingNotFound(ctx.name);
  const privateKey = privateKeyFromPkcs8(ctx.sealer.open(pending.sealedPrivateKey, sealContext('kvpending', ctx.vault.name, ctx.name, pending.version)));
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chain[0]!);
  } catch {
    throw badParameter('The first x5c entry is not a DER certificate.');
  }
  const spki = (k: KeyObject) => (k.type === 'public' ? k : createPublicKey(k)).export({ format: 'der', type: 'spki' });
  if (!spki(leaf.publicKey).equals(spki(privateKey))) throw badParameter("The merged certificate's public key does not match the pending certificate's key.");
  const policy = policyOf(current.value);
  const attributes = { ...pending.attributes, ...parseAttributes(body.attributes, pending.attributes as Attributes | undefined) };
  const tags = parseTags(body.tags, pending.tags);
  const issued = await issueOps(ctx, { version: pending.version, privateKey, kty: policy.key_props.kty, chain, policy, attributes, tags });
  const done: PendingOperation = { ...pending, status: 'completed' };
  delete done.sealedPrivateKey;
  delete done.statusDetails;
  return ctx.data.update(ref(ctx), async (latest): Promise<{ record: ObjectRecord; ops: Op[]; result: KvResult }> => {
    if (latest?.value.pending?.requestId !== pending.requestId) throw pendingNotFound(ctx.name);
    const obj: ObjectRecord = { ...latest.value, latest: pending.version, pending: done };
    return { record: obj, ops: issued.ops, result: { status: 201, body: certificateView(ctx.vault, obj, issued.cert) } };
  });
};

function pemBlocks(text: string, label: RegExp): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) if (label.test(m[1]!)) out.push(Buffer.from(m[0]!, 'utf8'));
  return out;
}

/** Imports a PEM bundle (private key and certificate chain). */
const importCertificate: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  if (typeof body.value !== 'string') throw badParameter("The property 'value' is required.");
  const text = body.value.includes('-----BEGIN') ? body.value : Buffer.from(body.value, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN')) throw badParameter('Mimic imports certificates as PEM (private key and certificates); PKCS#12 import is not supported.');
  const keys = pemBlocks(text, /PRIVATE KEY$/);
  const certs = pemBlocks(text, /^CERTIFICATE$/).map((b) => new X509Certificate(b));
  if (keys.length !== 1 || certs.length === 0) throw badParameter('The PEM must hold one private key and at least one certificate.');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: keys[0]!, passphrase: typeof body.pwd === 'string' ? body.pwd : undefined });
  } catch {
    throw badParameter('The private key could not be read (wrong password?).');
  }
  if (!certs[0]!.checkPrivateKey(privateKey)) throw badParameter("The certificate's public key does not match the private key.");
  const now = nowSeconds();
  const existing = await ctx.data.object(ref(ctx));
  const family: KeyFamily = privateKey.asymmetricKeyType === 'rsa' ? 'RSA' : 'EC';
  const crv = family === 'EC' ? ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[privateKey.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  const leaf = certs[0]!;
  const derived = {
    key_props: { kty: family, ...(family === 'RSA' ? { key_size: privateKey.asymmetricKeyDetails?.modulusLength } : { crv }) },
    secret_props: { contentType: PEM },
    x509_props: { subject: leaf.subject.replace(/\n/g, ', '), validity_months: Math.max(1, Math.round((Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / MONTH_MS)) },
    issuer: { name: 'Unknown' },
  };
  const policy = normalizePolicy(body.policy ?? derived, now, existing?.value.policy ? policyOf(existing.value) : undefined);
  const version = newVersionId();
  const issued = await issueOps(ctx, { version, privateKey, kty: policy.key_props.kty, chain: certs.map((c) => c.raw), policy, attributes: parseAttributes(body.attributes), tags: parseTags(body.tags) });
  return ctx.data.update(ref(ctx), async (current) => {
    checkNotDeleted(ctx, current);
    const obj: ObjectRecord = { name: current?.value.name ?? ctx.name, latest: version, policy: policy as unknown as Record<string, unknown> };
    return { record: obj, ops: issued.ops, result: ok(certificateView(ctx.vault, obj, issued.cert)) };
  });
};

async function issuedObject(ctx: KvContext): Promise<Entry<ObjectRecord>> {
  const obj = await liveObject(ctx, 'certificates');
  if (!obj.value.latest) throw itemNotFound('certificates', ctx.name);
  return obj;
}

const get: KvHandler = async (ctx) => {
  const obj = (await issuedObject(ctx)).value;
  return ok(certificateView(ctx.vault, obj, await versionOf(ctx, 'certificates', obj, ctx.version)));
};

/** Updates a version's attributes and tags (mirrored on its key and secret) and optionally the policy. */
const update: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  return ctx.data.update(ref(ctx), async (current) => {
    if (!current || current.value.deleted || !current.value.latest) throw itemNotFound('certificates', ctx.name);
    const rec = await versionOf(ctx, 'certificates', current.value, ctx.version);
    const now = nowSeconds();
    const enabled = parseAttributes(body.attributes, rec.attributes).enabled;
    const tags = parseTags(body.tags, rec.tags);
    const ops: Op[] = [];
    let next: VersionRecord = rec;
    for (const coll of ['certificates', 'keys', 'secrets'] as const) {
      const r = coll === 'certificates' ? rec : await ctx.data.version(refOf(ctx, coll), rec.version);
      if (!r) continue;
      const changed: VersionRecord = { ...r, attributes: { ...r.attributes, enabled, updated: now } };
      if (tags) changed.tags = tags;
      else delete changed.tags;
      if (coll === 'certificates') next = changed;
      ops.push(ctx.data.putVersionOp(refOf(ctx, coll), changed));
    }
    const obj: ObjectRecord = body.policy ? { ...current.value, policy: normalizePolicy(body.policy, now, policyOf(current.value)) as unknown as Record<string, unknown> } : current.value;
    return { record: obj, ops, result: ok(certificateView(ctx.vault, obj, next)) };
  });
};

const getPolicy: KvHandler = async (ctx) => {
  const obj = (await liveObject(ctx, 'certificates')).value;
  return ok(policyView(ctx.vault, obj.name, policyOf(obj)));
};

const updatePolicy: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  return ctx.data.update(ref(ctx), async (current) => {
    if (!current || current.value.deleted) throw itemNotFound('certificates', ctx.name);
    const policy = normalizePolicy(body, nowSeconds(), policyOf(current.value));
    const obj: ObjectRecord = { ...current.value, policy: policy as unknown as Record<string, unknown> };
    return { record: obj, result: ok(policyView(ctx.vault, obj.name, policy)) };
  });
};

const getPending: KvHandler = async (ctx) => {
  const obj = await ctx.data.object(ref(ctx));
  if (!obj || obj.value.deleted || !obj.value.pending) throw pendingNotFound(ctx.name);
  return ok(operationView(ctx.vault, obj.value, obj.value.pending));
};

const updatePending: KvHandler = async (ctx) => {
  const body = await jsonBody(ctx.req);
  return ctx.data.update(ref(ctx), async (current) => {
    const p = current?.value.pending;
    if (!current || current.value.deleted || !p) throw pendingNotFound(ctx.name);
    if (body.cancellation_requested !== true || p.status !== 'inProgress') return { record: current.value, result: ok(operationView(ctx.vault, current.value, p)) };
    const cancelled: PendingOperation = { ...p, cancellationRequested: true, status: 'cancelled', statusDetails: 'The operation was cancelled.' };
    delete cancelled.sealedPrivateKey;
    const obj: ObjectRecord = { ...current.value, pending: cancelled };
    return { record: obj, result: ok(operationView(ctx.vault, obj, cancelled)) };
  });
};

const deletePending: KvHandler = async (ctx) => {
  return ctx.data.update(ref(ctx), async (current) => {
    const p = current?.value.pending;
    if (!current || current.value.deleted || !p) throw pendingNotFound(ctx.name);
    const view = operationView(ctx.vault, current.value, p);
    if (!current.value.latest) return { remove: true, result: ok(view) };
    const obj: ObjectRecord = { ...current.value };
    delete obj.pending;
    return { record: obj, result: ok(view) };
  });
};

export const CERTIFICATES: CollectionSpec = { coll: 'certificates', view: certificateView, linked: ['keys', 'secrets'] };

export function certificateHandlers(specOf: SpecLookup) {
  const common = lifecycleHandlers(CERTIFICATES, specOf);
  return {
    'certificate.create': create,
    'certificate.import': importCertificate,
    'certificate.get': get,
    'certificate.update': update,
    'certificate.delete': common.delete,
    'certificate.list': common.list,
    'certificate.versions': common.versions,
    'certificate.getPolicy': getPolicy,
    'certificate.updatePolicy': updatePolicy,
    'certificate.getPending': getPending,
    'certificate.updatePending': updatePending,
    'certificate.deletePending': deletePending,
    'certificate.merge': merge,
    'certificate.backup': common.backup,
    'certificate.restore': common.restore,
    'certificate.deletedList': common.deletedList,
    'certificate.deletedGet': common.deletedGet,
    'certificate.recover': common.recover,
    'certificate.purge': common.purge,
  } satisfies Record<string, KvHandler>;
}
