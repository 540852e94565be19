// What the Resource Manager stores: resource groups and resources as Azure returns them,
// plus the identity block in its stored form. Kinds: `resourceGroups`, `resources`.
import type { PrincipalState } from '../sts/tokens.js';

export const RESOURCE_GROUPS = 'resourceGroups';
export const RESOURCES = 'resources';

export interface SystemData {
  createdBy: string;
  createdByType: 'Application' | 'User' | 'ManagedIdentity' | 'Key';
  createdAt: string;
  lastModifiedBy: string;
  lastModifiedByType: 'Application' | 'User' | 'ManagedIdentity' | 'Key';
  lastModifiedAt: string;
}

export interface UserAssignedRef {
  principalId: string;
  clientId: string;
}

export interface StoredIdentity {
  /** As returned: 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned' or 'SystemAssigned,UserAssigned'. */
  type: string;
  principalId?: string;
  tenantId?: string;
  /** Keyed by the identity's ARM id as Azure spells it; the refs stay after the identity is deleted (orphaned, as in Azure). */
  userAssignedIdentities?: Record<string, UserAssignedRef>;
}

export interface StoredResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  kind?: string;
  tags?: Record<string, string>;
  sku?: unknown;
  plan?: unknown;
  zones?: unknown;
  managedBy?: string;
  properties?: Record<string, unknown>;
  identity?: StoredIdentity;
  systemData: SystemData;
}

export interface StoredResourceGroup {
  id: string;
  name: string;
  type: 'Microsoft.Resources/resourceGroups';
  location: string;
  tags?: Record<string, string>;
  managedBy?: string;
  properties: { provisioningState: 'Succeeded' | 'Deleting' };
}

/** The authenticated caller of an ARM request, from its verified token. */
export interface Caller {
  objectId: string;
  appId: string;
  tenantId: string;
  /** Principals of managed identities are 'ManagedIdentity', app registrations 'Application'. */
  type: 'Application' | 'ManagedIdentity';
  /** Set when the token's principal was deleted or disabled since it was issued (noted in the audit log). */
  principalState?: PrincipalState;
}
