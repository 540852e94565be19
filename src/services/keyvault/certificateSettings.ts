// Vault-wide certificate settings: the certificate contacts (one list per vault) and the
// certificate issuers (named issuer records pointing at provider 'Self' or 'Unknown', the two
// Mimic can issue through), plus `POST /rng` (random bytes). Issuer passwords are sealed at
// rest and never returned, as in Key Vault.
import { randomBytes } from 'node:crypto';
import { itemId, jsonBody, ok, type KvContext, type KvHandler } from './context.js';
import { badParameter, KvError } from './errors.js';
import { KV_OBJECTS } from './records.js';
import { nowSeconds } from './vaultData.js';

/** Kept under the vault's prefix in kvObjects, so purging the vault removes them too. */
const contactsKey = (vault: string) => `${vault}/$certcontacts`;
const issuerKey = (vault: string, name: string) => `${vault}/$certissuers/${name.toLowerCase()}`;
const ISSUER_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const PROVIDERS = ['Self', 'Unknown'];
const MAX_RANDOM_BYTES = 128;

interface Contact {
  email?: string;
  name?: string;
  phone?: string;
}

interface StoredIssuer {
  name: string;
  provider: string;
  accountId?: string;
  sealedPassword?: string;
  orgDetails?: Record<string, unknown>;
  enabled: boolean;
  created: number;
  updated: number;
}

function contactsView(ctx: KvContext, contacts: Contact[]): Record<string, unknown> {
  return { id: `${ctx.vault.base}/certificates/contacts`, contacts };
}

function parseContacts(body: Record<string, unknown>): Contact[] {
  const list = body.contacts;
  if (!Array.isArray(list) || list.length === 0) throw badParameter("The property 'contacts' must be a non-empty array.");
  return list.map((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw badParameter(`contacts[${i}] must be an object.`);
    const out: Contact = {};
    for (const f of ['email', 'name', 'phone'] as const) {
      const v = (c as Record<string, unknown>)[f];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw badParameter(`contacts[${i}].${f} must be a string.`);
      out[f] = v;
    }
    if (!out.email) throw badParameter(`contacts[${i}].email is required.`);
    return out;
  });
}

const contactsNotFound = () => new KvError(404, 'ContactsNotFound', 'Contacts not found');

const setContacts: KvHandler = async (ctx) => {
  const contacts = parseContacts(await jsonBody(ctx.req));
  await ctx.data.store.put(KV_OBJECTS, contactsKey(ctx.vault.name), { contacts });
  return ok(contactsView(ctx, contacts));
};

const getContacts: KvHandler = async (ctx) => {
  const e = await ctx.data.store.get<{ contacts: Contact[] }>(KV_OBJECTS, contactsKey(ctx.vault.name));
  if (!e) throw contactsNotFound();
  return ok(contactsView(ctx, e.value.contacts));
};

const deleteContacts: KvHandler = async (ctx) => {
  const e = await ctx.data.store.get<{ contacts: Contact[] }>(KV_OBJECTS, contactsKey(ctx.vault.name));
  if (!e) throw contactsNotFound();
  await ctx.data.store.delete(KV_OBJECTS, contactsKey(ctx.vault.name));
  return ok(contactsView(ctx, e.value.contacts));
};

const issuerNotFound = (name: string) => new KvError(404, 'CertificateIssuerNotFound', `Issuer not found: ${name}`);
const passwordContext = (vault: string, name: string) => `kvissuer/${vault}/${name.toLowerCase()}`;

function issuerView(ctx: KvContext, i: StoredIssuer): Record<string, unknown> {
  const v: Record<string, unknown> = { id: itemId(ctx.vault, 'certificates', `issuers/${i.name}`), provider: i.provider };
  if (i.accountId !== undefined) v.credentials = { account_id: i.accountId };
  if (i.orgDetails) v.org_details = i.orgDetails;
  v.attributes = { enabled: i.enabled, created: i.created, updated: i.updated };
  return v;
}

/** An issuer record from a set (PUT: everything from the body) or update (PATCH: over `previous`). */
function parseIssuer(ctx: KvContext, body: Record<string, unknown>, previous?: StoredIssuer): StoredIssuer {
  const provider = body.provider ?? previous?.provider;
  if (typeof provider !== 'string') throw badParameter("The property 'provider' is required.");
  const canonical = PROVIDERS.find((p) => p.toLowerCase() === provider.toLowerCase());
  if (!canonical) throw badParameter(`The issuer provider '${provider}' is not supported: Mimic issues certificates through 'Self' or 'Unknown' only.`);
  const now = nowSeconds();
  const out: StoredIssuer = { name: previous?.name ?? ctx.name, provider: canonical, enabled: previous?.enabled ?? true, created: previous?.created ?? now, updated: now };
  const creds = body.credentials;
  if (creds !== undefined && creds !== null) {
    if (typeof creds !== 'object' || Array.isArray(creds)) throw badParameter("'credentials' must be an object.");
    const c = creds as Record<string, unknown>;
    if (c.account_id !== undefined && typeof c.account_id !== 'string') throw badParameter("'credentials.account_id' must be a string.");
    if (c.pwd !== undefined && typeof c.pwd !== 'string') throw badParameter("'credentials.pwd' must be a string.");
    if (typeof c.account_id === 'string') out.accountId = c.account_id;
    if (typeof c.pwd === 'string') out.sealedPassword = ctx.sealer.seal(Buffer.from(c.pwd, 'utf8'), passwordContext(ctx.vault.name, ctx.name));
  } else if (previous) {
    if (previous.accountId !== undefined) out.accountId = previous.accountId;
    if (previous.sealedPassword !== undefined) out.sealedPassword = previous.sealedPassword;
  }
  const org = body.org_details ?? previous?.orgDetails;
  if (org !== undefined && org !== null) {
    if (typeof org !== 'object' || Array.isArray(org)) throw badParameter("'org_details' must be an object.");
    out.orgDetails = org as Record<string, unknown>;
  }
  const attrs = body.attributes;
  if (attrs !== undefined && attrs !== null) {
    const enabled = (attrs as Record<string, unknown>).enabled;
    if (enabled !== undefined && typeof enabled !== 'boolean') throw badParameter("'attributes.enabled' must be a boolean.");
    if (typeof enabled === 'boolean') out.enabled = enabled;
  }
  return out;
}

function checkIssuerName(name: string): void {
  if (!ISSUER_NAME.test(name)) throw badParameter(`The issuer name '${name}' is invalid: use 1 to 127 letters, digits and hyphens.`);
}

const setIssuer: KvHandler = async (ctx) => {
  checkIssuerName(ctx.name);
  const key = issuerKey(ctx.vault.name, ctx.name);
  const previous = (await ctx.data.store.get<StoredIssuer>(KV_OBJECTS, key))?.value;
  const issuer = parseIssuer(ctx, await jsonBody(ctx.req));
  if (previous) issuer.created = previous.created;
  await ctx.data.store.put(KV_OBJECTS, key, issuer);
  return ok(issuerView(ctx, issuer));
};

const updateIssuer: KvHandler = async (ctx) => {
  const key = issuerKey(ctx.vault.name, ctx.name);
  const previous = (await ctx.data.store.get<StoredIssuer>(KV_OBJECTS, key))?.value;
  if (!previous) throw issuerNotFound(ctx.name);
  const issuer = parseIssuer(ctx, await jsonBody(ctx.req), previous);
  await ctx.data.store.put(KV_OBJECTS, key, issuer);
  return ok(issuerView(ctx, issuer));
};

const getIssuer: KvHandler = async (ctx) => {
  const e = await ctx.data.store.get<StoredIssuer>(KV_OBJECTS, issuerKey(ctx.vault.name, ctx.name));
  if (!e) throw issuerNotFound(ctx.name);
  return ok(issuerView(ctx, e.value));
};

const deleteIssuer: KvHandler = async (ctx) => {
  const key = issuerKey(ctx.vault.name, ctx.name);
  const e = await ctx.data.store.get<StoredIssuer>(KV_OBJECTS, key);
  if (!e) throw issuerNotFound(ctx.name);
  await ctx.data.store.delete(KV_OBJECTS, key);
  return ok(issuerView(ctx, e.value));
};

const listIssuers: KvHandler = async (ctx) => {
  const list = await ctx.data.store.list<StoredIssuer>(KV_OBJECTS, { prefix: `${ctx.vault.name}/$certissuers/` });
  return ok({ value: list.map((e) => ({ id: itemId(ctx.vault, 'certificates', `issuers/${e.value.name}`), provider: e.value.provider })), nextLink: null });
};

/** `POST /rng`: `count` (1 to 128) random bytes, base64url. */
const randomBytesHandler: KvHandler = async (ctx) => {
  const count = (await jsonBody(ctx.req)).count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_RANDOM_BYTES) {
    throw badParameter(`'count' must be an integer from 1 to ${MAX_RANDOM_BYTES}.`);
  }
  return ok({ value: randomBytes(count).toString('base64url') });
};

export function certificateSettingsHandlers() {
  return {
    'certificate.setContacts': setContacts,
    'certificate.getContacts': getContacts,
    'certificate.deleteContacts': deleteContacts,
    'certificate.setIssuer': setIssuer,
    'certificate.updateIssuer': updateIssuer,
    'certificate.getIssuer': getIssuer,
    'certificate.deleteIssuer': deleteIssuer,
    'certificate.listIssuers': listIssuers,
    'key.randomBytes': randomBytesHandler,
  } satisfies Record<string, KvHandler>;
}
