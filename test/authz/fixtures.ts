// Shared builders for the authz tests: scopes, built-in role ids and request shapes.
import { randomUUID } from 'node:crypto';
import { loadBuiltinRoles } from '../../src/authz/builtinRoles.js';
import { AuthzEngine } from '../../src/authz/engine.js';
import type { AccessRequest, RoleAssignment, RoleDefinition } from '../../src/authz/types.js';

export const ROLE = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  keyVaultDataAccessAdministrator: '8b54135c-b56d-4d72-a534-26097cfdc8d8',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
} as const;

export const SUB = '/subscriptions/6f1c2d3e-0000-4000-8000-0000000000a1';
export const RG = `${SUB}/resourceGroups/rg-app`;
export const KV = `${RG}/providers/Microsoft.KeyVault/vaults/kv-app`;
export const SECRET = `${KV}/secrets/db-password`;
export const SA = `${RG}/providers/Microsoft.Storage/storageAccounts/saapp`;
export const CONTAINER = `${SA}/blobServices/default/containers/logs`;
export const BLOB = `${CONTAINER}/blobs/logs/2024/app.log`;

export const A = {
  getSecret: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  setSecret: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
  blobRead: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
  blobWrite: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
  containerRead: 'Microsoft.Storage/storageAccounts/blobServices/containers/read',
  roleAssignmentWrite: 'Microsoft.Authorization/roleAssignments/write',
  roleAssignmentRead: 'Microsoft.Authorization/roleAssignments/read',
  vaultWrite: 'Microsoft.KeyVault/vaults/write',
  vmRead: 'Microsoft.Compute/virtualMachines/read',
  vmWrite: 'Microsoft.Compute/virtualMachines/write',
} as const;

let builtins: RoleDefinition[] | undefined;

/** An engine holding every built-in role. */
export function engineWithBuiltins(): AuthzEngine {
  builtins ??= loadBuiltinRoles();
  const engine = new AuthzEngine();
  for (const r of builtins) engine.upsertRoleDefinition(r);
  return engine;
}

export function assignment(
  principalId: string,
  roleGuid: string,
  scope: string,
  extra: Partial<RoleAssignment> = {},
): RoleAssignment {
  const name = randomUUID();
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    scope,
    roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
    principalId,
    principalType: 'ServicePrincipal',
    ...extra,
  };
}

export function dataRequest(principalId: string, action: string, scope: string, extra: Partial<AccessRequest> = {}): AccessRequest {
  return { principalId, action, isDataAction: true, scope, ...extra };
}

export function controlRequest(principalId: string, action: string, scope: string, extra: Partial<AccessRequest> = {}): AccessRequest {
  return { principalId, action, isDataAction: false, scope, ...extra };
}

export function customRole(name: string, permissions: RoleDefinition['permissions']): RoleDefinition {
  const guid = randomUUID();
  return {
    id: `/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
    name: guid,
    roleName: name,
    description: `test role ${name}`,
    roleType: 'CustomRole',
    permissions,
    assignableScopes: [SUB],
  };
}

export function block(p: Partial<RoleDefinition['permissions'][number]>): RoleDefinition['permissions'][number] {
  return { actions: [], notActions: [], dataActions: [], notDataActions: [], ...p };
}
