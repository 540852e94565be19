// What the data plane needs to know about a vault, derived from its Resource Manager
// document: where it lives, which permission model it uses, and its deletion settings.
import type { StoredResource } from '../../arm/model.js';
import { CompiledAccessPolicies, type AccessPolicyEntry } from './accessPolicies.js';

export const VAULT_TYPE = 'microsoft.keyvault/vaults';
export const ACCESS_POLICIES_TYPE = 'microsoft.keyvault/vaults/accesspolicies';

/** The DNS suffix of vault endpoints, and the audience their tokens must carry. */
export const VAULT_DNS_SUFFIX = '.vault.azure.net';
export const VAULT_AUDIENCE = 'https://vault.azure.net';

export interface VaultProperties {
  tenantId: string;
  sku: { family: string; name: string };
  accessPolicies: AccessPolicyEntry[];
  vaultUri: string;
  enabledForDeployment: boolean;
  enabledForDiskEncryption: boolean;
  enabledForTemplateDeployment: boolean;
  enableSoftDelete: boolean;
  softDeleteRetentionInDays: number;
  enableRbacAuthorization: boolean;
  enablePurgeProtection?: boolean;
  publicNetworkAccess: string;
  provisioningState: string;
  [k: string]: unknown;
}

export interface VaultInfo {
  /** Lower-case vault name (the DNS label). */
  name: string;
  /** The ARM id as stored (canonical spelling). */
  resourceId: string;
  location: string;
  tenantId: string;
  rbac: boolean;
  policies: CompiledAccessPolicies;
  retentionDays: number;
  purgeProtection: boolean;
  premium: boolean;
  /** `recoveryLevel` Key Vault reports in item attributes. */
  recoveryLevel: string;
  /** `https://{name}.vault.azure.net` (no trailing slash), the base of item ids. */
  base: string;
}

export function vaultHost(name: string): string {
  return `${name.toLowerCase()}${VAULT_DNS_SUFFIX}`;
}

export function vaultUri(name: string): string {
  return `https://${vaultHost(name)}/`;
}

/** The recovery level follows from soft delete (always on), retention and purge protection. */
export function recoveryLevelOf(retentionDays: number, purgeProtection: boolean): string {
  const customized = retentionDays < 90 ? 'Customized' : '';
  return purgeProtection ? `${customized}Recoverable` : `${customized}Recoverable+Purgeable`;
}

export function vaultInfoOf(doc: StoredResource): VaultInfo {
  const p = (doc.properties ?? {}) as Partial<VaultProperties>;
  const retentionDays = typeof p.softDeleteRetentionInDays === 'number' ? p.softDeleteRetentionInDays : 90;
  const purgeProtection = p.enablePurgeProtection === true;
  const name = doc.name.toLowerCase();
  return {
    name,
    resourceId: doc.id,
    location: doc.location ?? '',
    tenantId: p.tenantId ?? '',
    rbac: p.enableRbacAuthorization === true,
    policies: new CompiledAccessPolicies(p.accessPolicies ?? []),
    retentionDays,
    purgeProtection,
    premium: (p.sku?.name ?? '').toLowerCase() === 'premium',
    recoveryLevel: recoveryLevelOf(retentionDays, purgeProtection),
    base: `https://${vaultHost(name)}`,
  };
}
