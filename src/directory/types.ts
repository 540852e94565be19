// Entra ID objects Mimic keeps: the tenant, its subscription, and service principals
// (managed identities and app registrations). Stored in the `meta` and `principals` kinds.

export interface TenantInfo {
  tenantId: string;
  subscriptionId: string;
  subscriptionName: string;
  /** objectId of the bootstrap administrator's service principal. */
  adminObjectId: string;
  adminAppId: string;
  createdAt: string;
}

export interface ClientSecretCredential {
  keyId: string;
  /** SHA-256 of the clear secret; the clear value is never stored. */
  hash: string;
  hint: string;
  endDateTime: string;
}

export type ServicePrincipalType = 'ManagedIdentity' | 'Application';

export interface ServicePrincipal {
  /** The object id, which Azure calls principalId on identities and role assignments. */
  objectId: string;
  /** The application (client) id. */
  appId: string;
  displayName: string;
  servicePrincipalType: ServicePrincipalType;
  /**
   * For managed identities, the ARM id the identity belongs to: the user-assigned identity
   * resource, or the host resource of a system-assigned identity. Becomes `xms_mirid`.
   */
  managedIdentityResourceId?: string;
  /** True for a system-assigned identity (deleted with its resource). */
  isSystemAssigned?: boolean;
  accountEnabled: boolean;
  passwordCredentials?: ClientSecretCredential[];
  createdDateTime: string;
}

export const PRINCIPALS = 'principals';
export const META = 'meta';
