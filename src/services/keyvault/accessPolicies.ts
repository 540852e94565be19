// The access-policy permission model of vaults that do not use RBAC: the ARM shape of
// `properties.accessPolicies`, its validation, the accessPolicies/{add|replace|remove}
// merge, and the per-request check (the caller's objectId, and applicationId where the
// entry names one, must hold the operation's permission).
import { ArmError } from '../../arm/errors.js';
import { isGuid } from '../../arm/ids.js';

export type PolicyCategory = 'keys' | 'secrets' | 'certificates' | 'storage';
export const POLICY_CATEGORIES: readonly PolicyCategory[] = ['keys', 'secrets', 'certificates', 'storage'];

/** Permission names Azure accepts per category (compared case-insensitively). */
export const PERMISSION_VALUES: Readonly<Record<PolicyCategory, readonly string[]>> = {
  keys: ['all', 'encrypt', 'decrypt', 'wrapkey', 'unwrapkey', 'sign', 'verify', 'get', 'list', 'create', 'update', 'import', 'delete', 'backup', 'restore', 'recover', 'purge', 'release', 'rotate', 'getrotationpolicy', 'setrotationpolicy'],
  secrets: ['all', 'get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'],
  certificates: ['all', 'get', 'list', 'delete', 'create', 'import', 'update', 'managecontacts', 'getissuers', 'listissuers', 'setissuers', 'deleteissuers', 'manageissuers', 'recover', 'purge', 'backup', 'restore'],
  storage: ['all', 'get', 'list', 'delete', 'set', 'update', 'regeneratekey', 'recover', 'purge', 'backup', 'restore', 'setsas', 'listsas', 'getsas', 'deletesas'],
};

export const MAX_ACCESS_POLICIES = 1024;

export type Permissions = Partial<Record<PolicyCategory, string[]>>;

export interface AccessPolicyEntry {
  tenantId: string;
  objectId: string;
  applicationId?: string;
  permissions: Permissions;
}

export type AccessPolicyOperation = 'add' | 'replace' | 'remove';

const invalid = (message: string) => new ArmError(400, 'BadRequest', message);

/** Validates an accessPolicies array as sent; returns the entries in their stored shape. */
export function validateAccessPolicies(value: unknown, vaultTenantId: string): AccessPolicyEntry[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid("The property 'accessPolicies' must be an array.");
  if (value.length > MAX_ACCESS_POLICIES) {
    throw invalid(`A vault can hold at most ${MAX_ACCESS_POLICIES} access policies; the request has ${value.length}.`);
  }
  return value.map((v, i) => validateEntry(v, i, vaultTenantId));
}

function validateEntry(v: unknown, i: number, vaultTenantId: string): AccessPolicyEntry {
  const at = `accessPolicies[${i}]`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`'${at}' must be an object.`);
  const e = v as Record<string, unknown>;
  if (typeof e.tenantId !== 'string' || !isGuid(e.tenantId)) throw invalid(`'${at}.tenantId' must be a GUID.`);
  if (e.tenantId.toLowerCase() !== vaultTenantId.toLowerCase()) {
    throw invalid(`'${at}.tenantId' is '${e.tenantId}', but every access policy must use the vault's tenant '${vaultTenantId}'.`);
  }
  if (typeof e.objectId !== 'string' || e.objectId.length === 0) throw invalid(`'${at}.objectId' is required.`);
  if (e.applicationId !== undefined && e.applicationId !== null && (typeof e.applicationId !== 'string' || !isGuid(e.applicationId))) {
    throw invalid(`'${at}.applicationId' must be a GUID when given.`);
  }
  const entry: AccessPolicyEntry = { tenantId: e.tenantId, objectId: e.objectId, permissions: validatePermissions(e.permissions, at) };
  if (typeof e.applicationId === 'string') entry.applicationId = e.applicationId;
  return entry;
}

function validatePermissions(p: unknown, at: string): Permissions {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid(`'${at}.permissions' is required and must be an object.`);
  const out: Permissions = {};
  for (const [k, list] of Object.entries(p as Record<string, unknown>)) {
    const category = k as PolicyCategory;
    if (!POLICY_CATEGORIES.includes(category)) throw invalid(`'${at}.permissions.${k}' is not a permission category (keys, secrets, certificates, storage).`);
    if (list === null || list === undefined) continue;
    if (!Array.isArray(list)) throw invalid(`'${at}.permissions.${k}' must be an array.`);
    for (const name of list) {
      if (typeof name !== 'string' || !PERMISSION_VALUES[category].includes(name.toLowerCase())) {
        throw invalid(`'${String(name)}' is not a valid ${k} permission. Allowed: ${PERMISSION_VALUES[category].join(', ')}.`);
      }
    }
    out[category] = [...(list as string[])];
  }
  return out;
}

function sameIdentity(a: AccessPolicyEntry, b: AccessPolicyEntry): boolean {
  return a.objectId.toLowerCase() === b.objectId.toLowerCase() && (a.applicationId ?? '').toLowerCase() === (b.applicationId ?? '').toLowerCase();
}

function union(a: string[] = [], b: string[] = []): string[] {
  const seen = new Set(a.map((x) => x.toLowerCase()));
  return [...a, ...b.filter((x) => !seen.has(x.toLowerCase()) && (seen.add(x.toLowerCase()), true))];
}

function minus(a: string[] = [], b: string[] = []): string[] {
  const drop = new Set(b.map((x) => x.toLowerCase()));
  return a.filter((x) => !drop.has(x.toLowerCase()));
}

/**
 * `add` merges permissions into the entry of the same identity (or appends it), `replace`
 * sets that entry's permissions, `remove` takes the listed permissions away (the entry goes
 * when nothing is left, or when the request lists no permissions at all for it).
 */
export function applyAccessPolicyOperation(current: readonly AccessPolicyEntry[], op: AccessPolicyOperation, changes: readonly AccessPolicyEntry[]): AccessPolicyEntry[] {
  let out = current.map((e) => ({ ...e, permissions: { ...e.permissions } }));
  for (const c of changes) {
    const i = out.findIndex((e) => sameIdentity(e, c));
    if (op === 'remove') {
      if (i < 0) continue;
      const listed = POLICY_CATEGORIES.some((k) => (c.permissions[k]?.length ?? 0) > 0);
      if (!listed) {
        out = out.filter((_, j) => j !== i);
        continue;
      }
      const kept: Permissions = {};
      for (const k of POLICY_CATEGORIES) {
        const left = minus(out[i]!.permissions[k], c.permissions[k]);
        if (left.length > 0) kept[k] = left;
      }
      if (Object.keys(kept).length === 0) out = out.filter((_, j) => j !== i);
      else out[i] = { ...out[i]!, permissions: kept };
      continue;
    }
    if (i < 0) {
      out.push({ ...c, permissions: { ...c.permissions } });
      continue;
    }
    if (op === 'replace') {
      out[i] = { ...out[i]!, permissions: { ...c.permissions } };
      continue;
    }
    const merged: Permissions = { ...out[i]!.permissions };
    for (const k of POLICY_CATEGORIES) if (c.permissions[k]) merged[k] = union(merged[k], c.permissions[k]);
    out[i] = { ...out[i]!, permissions: merged };
  }
  if (out.length > MAX_ACCESS_POLICIES) throw invalid(`A vault can hold at most ${MAX_ACCESS_POLICIES} access policies.`);
  return out;
}

interface CompiledEntry {
  applicationId: string | undefined;
  granted: Record<PolicyCategory, ReadonlySet<string>>;
}

/** The access policies of one vault, indexed by objectId for the per-request check. */
export class CompiledAccessPolicies {
  private readonly byObject = new Map<string, CompiledEntry[]>();

  constructor(entries: readonly AccessPolicyEntry[]) {
    for (const e of entries) {
      const granted = {} as Record<PolicyCategory, ReadonlySet<string>>;
      for (const k of POLICY_CATEGORIES) granted[k] = new Set((e.permissions[k] ?? []).map((p) => p.toLowerCase()));
      const key = e.objectId.toLowerCase();
      const list = this.byObject.get(key) ?? [];
      list.push({ applicationId: e.applicationId?.toLowerCase(), granted });
      this.byObject.set(key, list);
    }
  }

  /** Whether a caller (token oid + appid) holds `permission` in `category`. */
  permits(objectId: string, appId: string, category: PolicyCategory, permission: string): boolean {
    const list = this.byObject.get(objectId.toLowerCase());
    if (!list) return false;
    const app = appId.toLowerCase();
    for (const e of list) {
      if (e.applicationId !== undefined && e.applicationId !== app) continue;
      const set = e.granted[category];
      if (set.has(permission) || set.has('all')) return true;
    }
    return false;
  }
}
