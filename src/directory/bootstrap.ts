// First-start setup of the directory: a tenant with one subscription and a bootstrap
// administrator app registration whose clear client secret lives only in an owner-only
// file of the data dir (for `mimic env --admin`).
import { randomUUID } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, type Store } from '../store/types.js';
import { hashSecret, randomSecret } from '../crypto/masterKey.js';
import { META, PRINCIPALS, type ServicePrincipal, type TenantInfo } from './types.js';

export const ADMIN_FILE = 'admin.json';

export interface AdminCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
}

function newSecretCredential(secret: string) {
  return {
    keyId: randomUUID(),
    hash: hashSecret(secret),
    hint: secret.slice(0, 3),
    endDateTime: new Date(Date.now() + 2 * 365 * 24 * 3600 * 1000).toISOString(),
  };
}

async function readAdminFile(dataDir: string): Promise<AdminCredentials | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, ADMIN_FILE), 'utf8')) as AdminCredentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeAdminFile(dataDir: string, creds: AdminCredentials): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(join(dataDir, ADMIN_FILE), JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
}

export async function ensureTenant(store: Store, dataDir: string): Promise<TenantInfo> {
  const existing = await store.get<TenantInfo>(META, 'tenant');
  if (existing) {
    await ensureAdminFile(store, dataDir, existing.value);
    return existing.value;
  }
  const secret = randomSecret();
  const tenant: TenantInfo = {
    tenantId: randomUUID(),
    subscriptionId: randomUUID(),
    subscriptionName: 'Mimic Local Subscription',
    adminObjectId: randomUUID(),
    adminAppId: randomUUID(),
    createdAt: new Date().toISOString(),
  };
  const admin: ServicePrincipal = {
    objectId: tenant.adminObjectId,
    appId: tenant.adminAppId,
    displayName: 'mimic-admin',
    servicePrincipalType: 'Application',
    accountEnabled: true,
    passwordCredentials: [newSecretCredential(secret)],
    createdDateTime: tenant.createdAt,
  };
  try {
    await store.apply([
      { op: 'put', kind: META, key: 'tenant', value: tenant, ifAbsent: true },
      { op: 'put', kind: PRINCIPALS, key: admin.objectId, value: admin, ifAbsent: true },
    ]);
  } catch (err) {
    // Another instance on the same database bootstrapped first: join its tenant.
    if (err instanceof ConflictError) return ensureTenant(store, dataDir);
    throw err;
  }
  await writeAdminFile(dataDir, { tenantId: tenant.tenantId, clientId: tenant.adminAppId, clientSecret: secret, subscriptionId: tenant.subscriptionId });
  return tenant;
}

/** A data dir joining an existing tenant gets a client secret of its own for the administrator. */
async function ensureAdminFile(store: Store, dataDir: string, tenant: TenantInfo): Promise<void> {
  const file = await readAdminFile(dataDir);
  if (file && file.tenantId === tenant.tenantId) return;
  for (;;) {
    const entry = await store.get<ServicePrincipal>(PRINCIPALS, tenant.adminObjectId);
    if (!entry) throw new Error('the administrator service principal is missing from the store');
    const secret = randomSecret();
    const updated: ServicePrincipal = {
      ...entry.value,
      passwordCredentials: [...(entry.value.passwordCredentials ?? []), newSecretCredential(secret)],
    };
    try {
      await store.apply([{ op: 'put', kind: PRINCIPALS, key: tenant.adminObjectId, value: updated, ifVersion: entry.version }]);
    } catch (err) {
      if (err instanceof ConflictError) continue;
      throw err;
    }
    await writeAdminFile(dataDir, { tenantId: tenant.tenantId, clientId: tenant.adminAppId, clientSecret: secret, subscriptionId: tenant.subscriptionId });
    return;
  }
}

export async function readAdminCredentials(dataDir: string): Promise<AdminCredentials> {
  const creds = await readAdminFile(dataDir);
  if (!creds) throw new Error(`no administrator credentials in ${dataDir}: run \`mimic start --data-dir ${dataDir}\` once first`);
  return creds;
}
