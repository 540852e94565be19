// Azure RBAC vocabulary shared by the authorization engine and its callers.
// Shapes follow the ARM resources (roleDefinitions, roleAssignments, denyAssignments)
// so documents from the API layer can be handed to the engine unchanged.

/** One permission block of a role definition or deny assignment. */
export interface Permission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
  /** ABAC condition limiting this block (built-in roles carry these; ARM returns null when absent). */
  condition?: string | null;
  conditionVersion?: string | null;
}

export type RoleType = 'BuiltInRole' | 'CustomRole';

export interface RoleDefinition {
  /** `/providers/Microsoft.Authorization/roleDefinitions/{name}` (or a subscription-scoped form). */
  id: string;
  /** The role's GUID. */
  name: string;
  roleName: string;
  description: string;
  roleType: RoleType;
  permissions: Permission[];
  assignableScopes: string[];
}

export type PrincipalType = 'User' | 'Group' | 'ServicePrincipal' | 'ForeignGroup' | 'Device';

export interface RoleAssignment {
  /** `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}` */
  id: string;
  name: string;
  scope: string;
  /** Full role definition id; only its trailing GUID is used to find the role. */
  roleDefinitionId: string;
  principalId: string;
  principalType: PrincipalType | string;
  condition?: string | null;
  conditionVersion?: string | null;
  description?: string | null;
}

export interface DenyPrincipal {
  id: string;
  /** `SystemDefined` for the all-principals entry (zero GUID). */
  type: string;
}

export interface DenyAssignment {
  id: string;
  name: string;
  scope: string;
  permissions: Permission[];
  principals: DenyPrincipal[];
  excludePrincipals: DenyPrincipal[];
  doNotApplyToChildScopes: boolean;
  denyAssignmentName?: string;
  description?: string;
  isSystemProtected?: boolean;
}

/** A single attribute value as a caller supplies it for condition evaluation. */
export type AttributeScalar = string | number | boolean | Date;
export type AttributeValue = AttributeScalar | readonly AttributeScalar[];

/**
 * Attributes of one request, keyed by the attribute exactly as conditions write it,
 * e.g. `@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]`.
 * Lookups fall back to a case-insensitive match on the key.
 */
export type RequestAttributes = Readonly<Record<string, AttributeValue>>;

export interface AccessRequest {
  principalId: string;
  /** Transitive group memberships of the principal (object ids). */
  groupIds?: readonly string[];
  action: string;
  /** Only when true is `action` matched against DataActions. */
  isDataAction: boolean;
  scope: string;
  /** Suboperation for `SubOperationMatches` (e.g. `Blob.List`). */
  subOperation?: string;
  attributes?: RequestAttributes;
}

export type DecisionReason = 'Allowed' | 'DeniedByDenyAssignment' | 'NoMatchingAssignment' | 'ConditionNotMet';

export interface NearMiss {
  assignment: RoleAssignment;
  /** Undefined when the assignment names a role definition the engine does not know. */
  role: RoleDefinition | undefined;
  why: string;
}

export interface Decision {
  allowed: boolean;
  reason: DecisionReason;
  /** The granting assignment (Allowed) or the first one whose condition failed (ConditionNotMet). */
  assignment?: RoleAssignment;
  role?: RoleDefinition;
  denyAssignment?: DenyAssignment;
  /** Filled only by `explain()`; `decide()` leaves it empty. */
  nearMisses: readonly NearMiss[];
}
