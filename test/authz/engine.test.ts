import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthzEngine, ALL_PRINCIPALS_ID } from '../../src/authz/engine.js';
import { ConditionError } from '../../src/authz/conditions.js';
import type { DenyAssignment } from '../../src/authz/types.js';
import {
  A,
  BLOB,
  CONTAINER,
  KV,
  RG,
  ROLE,
  SA,
  SECRET,
  SUB,
  assignment,
  block,
  controlRequest,
  customRole,
  dataRequest,
  engineWithBuiltins,
} from './fixtures.js';

const MI = 'a0f1b2c3-0000-4000-8000-000000000001';
const OTHER = 'a0f1b2c3-0000-4000-8000-000000000002';
const GROUP = 'a0f1b2c3-0000-4000-8000-0000000000f1';

describe('Actions vs DataActions with built-in roles', () => {
  const engine = engineWithBuiltins();
  const owner = 'owner-principal';
  const contributor = 'contributor-principal';
  const reader = 'reader-principal';
  const secretsUser = 'secrets-user-principal';
  const blobReader = 'blob-reader-principal';
  engine.upsertRoleAssignment(assignment(owner, ROLE.owner, SUB));
  engine.upsertRoleAssignment(assignment(contributor, ROLE.contributor, SUB));
  engine.upsertRoleAssignment(assignment(reader, ROLE.reader, SUB));
  engine.upsertRoleAssignment(assignment(secretsUser, ROLE.keyVaultSecretsUser, KV));
  engine.upsertRoleAssignment(assignment(blobReader, ROLE.storageBlobDataReader, SA));

  test("Owner's '*' grants every control action but no data action", () => {
    assert.equal(engine.decide(controlRequest(owner, A.vaultWrite, KV)).allowed, true);
    assert.equal(engine.decide(controlRequest(owner, A.roleAssignmentWrite, RG)).allowed, true);
    const data = engine.decide(dataRequest(owner, A.getSecret, SECRET));
    assert.equal(data.allowed, false);
    assert.equal(data.reason, 'NoMatchingAssignment');
    assert.equal(engine.decide(dataRequest(owner, A.blobRead, BLOB)).allowed, false);
  });

  test('Contributor may write resources but not role assignments, in any letter case', () => {
    assert.equal(engine.decide(controlRequest(contributor, 'Microsoft.Storage/storageAccounts/write', SA)).allowed, true);
    assert.equal(engine.decide(controlRequest(contributor, A.roleAssignmentWrite, RG)).allowed, false);
    assert.equal(engine.decide(controlRequest(contributor, 'MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE', RG)).allowed, false);
    assert.equal(engine.decide(controlRequest(contributor, 'microsoft.authorization/roledefinitions/write', RG)).allowed, false);
    assert.equal(engine.decide(controlRequest(contributor, 'Microsoft.Authorization/roleAssignments/delete', RG)).allowed, false);
    assert.equal(engine.decide(controlRequest(contributor, A.roleAssignmentRead, RG)).allowed, true);
    assert.equal(engine.decide(dataRequest(contributor, A.blobRead, BLOB)).allowed, false);
  });

  test("Reader's '*/read' spans providers and nested types but never data actions", () => {
    assert.equal(engine.decide(controlRequest(reader, A.vmRead, RG)).allowed, true);
    assert.equal(engine.decide(controlRequest(reader, 'Microsoft.Network/virtualNetworks/subnets/read', RG)).allowed, true);
    assert.equal(engine.decide(controlRequest(reader, A.vmWrite, RG)).allowed, false);
    // The blob read action string ends in /read, but as a data action Actions do not apply.
    assert.equal(engine.decide(dataRequest(reader, A.blobRead, BLOB)).allowed, false);
    // The same string flagged as a control action is matched against Actions.
    assert.equal(engine.decide(controlRequest(reader, A.blobRead, BLOB)).allowed, true);
  });

  test('Key Vault Secrets User grants getSecret only as a data action', () => {
    assert.equal(engine.decide(dataRequest(secretsUser, A.getSecret, SECRET)).allowed, true);
    assert.equal(engine.decide(dataRequest(secretsUser, A.getSecret.toUpperCase(), SECRET)).allowed, true);
    assert.equal(engine.decide(controlRequest(secretsUser, A.getSecret, SECRET)).allowed, false);
    assert.equal(engine.decide(dataRequest(secretsUser, A.setSecret, SECRET)).allowed, false);
  });

  test('Storage Blob Data Reader: blob read is data, container read is control', () => {
    assert.equal(engine.decide(dataRequest(blobReader, A.blobRead, BLOB)).allowed, true);
    assert.equal(engine.decide(controlRequest(blobReader, A.containerRead, CONTAINER)).allowed, true);
    assert.equal(engine.decide(controlRequest(blobReader, A.blobRead, BLOB)).allowed, false);
    assert.equal(engine.decide(dataRequest(blobReader, A.containerRead, CONTAINER)).allowed, false);
    assert.equal(engine.decide(dataRequest(blobReader, A.blobWrite, BLOB)).allowed, false);
  });

  test('an allowed decision names the granting assignment and role', () => {
    const d = engine.decide(dataRequest(secretsUser, A.getSecret, SECRET));
    assert.equal(d.reason, 'Allowed');
    assert.equal(d.role?.roleName, 'Key Vault Secrets User');
    assert.equal(d.assignment?.principalId, secretsUser);
    assert.deepEqual(d.nearMisses, []);
  });
});

describe('NotActions are subtracted per block, roles add up', () => {
  test('a NotActions entry only removes from its own block', () => {
    const engine = new AuthzEngine();
    const twoBlocks = customRole('two blocks', [
      block({ actions: ['Microsoft.Storage/*'], notActions: ['Microsoft.Storage/storageAccounts/delete'] }),
      block({ actions: ['Microsoft.Storage/storageAccounts/delete'] }),
    ]);
    const oneBlock = customRole('one block', [
      block({ actions: ['Microsoft.Storage/*'], notActions: ['Microsoft.Storage/storageAccounts/delete'] }),
    ]);
    engine.upsertRoleDefinition(twoBlocks);
    engine.upsertRoleDefinition(oneBlock);
    engine.upsertRoleAssignment(assignment(MI, twoBlocks.name, RG));
    engine.upsertRoleAssignment(assignment(OTHER, oneBlock.name, RG));
    assert.equal(engine.decide(controlRequest(MI, 'Microsoft.Storage/storageAccounts/delete', SA)).allowed, true);
    assert.equal(engine.decide(controlRequest(OTHER, 'Microsoft.Storage/storageAccounts/delete', SA)).allowed, false);
    assert.equal(engine.decide(controlRequest(OTHER, 'Microsoft.Storage/storageAccounts/write', SA)).allowed, true);
  });

  test("a second role re-grants what the first role's NotActions excluded", () => {
    const engine = engineWithBuiltins();
    engine.upsertRoleAssignment(assignment(MI, ROLE.contributor, SUB));
    assert.equal(engine.decide(controlRequest(MI, A.roleAssignmentWrite, RG)).allowed, false);
    engine.upsertRoleAssignment(assignment(MI, ROLE.userAccessAdministrator, RG));
    const d = engine.decide(controlRequest(MI, A.roleAssignmentWrite, RG));
    assert.equal(d.allowed, true);
    assert.equal(d.role?.roleName, 'User Access Administrator');
  });

  test('NotDataActions subtract from DataActions of the same block', () => {
    const engine = new AuthzEngine();
    const role = customRole('kv data minus purge', [
      block({ dataActions: ['Microsoft.KeyVault/vaults/secrets/*'], notDataActions: ['Microsoft.KeyVault/vaults/secrets/purge/action'] }),
    ]);
    engine.upsertRoleDefinition(role);
    engine.upsertRoleAssignment(assignment(MI, role.name, KV));
    assert.equal(engine.decide(dataRequest(MI, A.setSecret, SECRET)).allowed, true);
    assert.equal(engine.decide(dataRequest(MI, 'Microsoft.KeyVault/vaults/secrets/purge/action', SECRET)).allowed, false);
  });
});

describe('wildcards and letter case', () => {
  const engine = new AuthzEngine();
  const role = customRole('wildcards', [
    block({
      actions: ['Microsoft.Storage/storageAccounts/*', 'Microsoft.Network/*/read', 'microsoft.compute/VIRTUALMACHINES/start/ACTION'],
      notActions: ['Microsoft.Authorization/*/Write'],
    }),
  ]);
  engine.upsertRoleDefinition(role);
  engine.upsertRoleAssignment(assignment(MI, role.name, SUB));
  const allowed = (action: string) => engine.decide(controlRequest(MI, action, RG)).allowed;

  test("'*' matches across '/' inside a pattern", () => {
    assert.equal(allowed('Microsoft.Storage/storageAccounts/blobServices/containers/write'), true);
    assert.equal(allowed('Microsoft.Network/virtualNetworks/subnets/read'), true);
    assert.equal(allowed('Microsoft.Network/virtualNetworks/write'), false);
    assert.equal(allowed('Microsoft.Storage/register/action'), false);
  });

  test('patterns and actions compare case-insensitively', () => {
    assert.equal(allowed('Microsoft.Compute/virtualMachines/start/action'), true);
    assert.equal(allowed('MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE'), true);
  });

  test("'Microsoft.Authorization/*/Write' excludes lower-case writes", () => {
    const e = engineWithBuiltins();
    e.upsertRoleAssignment(assignment(MI, ROLE.contributor, SUB));
    for (const action of ['microsoft.authorization/roleassignments/write', 'Microsoft.Authorization/policyAssignments/write', 'Microsoft.Authorization/locks/WRITE']) {
      assert.equal(e.decide(controlRequest(MI, action, RG)).allowed, false, action);
    }
    assert.equal(e.decide(controlRequest(MI, 'Microsoft.Authorization/locks/read', RG)).allowed, true);
  });
});

describe('scope inheritance', () => {
  const engine = engineWithBuiltins();
  engine.upsertRoleAssignment(assignment(MI, ROLE.keyVaultSecretsUser, RG));
  const at = (scope: string) => engine.decide(dataRequest(MI, A.getSecret, scope)).allowed;

  test('an assignment covers its scope and everything below, case-insensitively', () => {
    assert.equal(at(RG), true);
    assert.equal(at(SECRET), true);
    assert.equal(at(SECRET.toUpperCase()), true);
    assert.equal(at(`${SUB}/resourcegroups/RG-APP/providers/microsoft.keyvault/vaults/kv-app/secrets/x`), true);
    assert.equal(at(`${RG}/`), true);
  });

  test('siblings, name prefixes and parents are not covered', () => {
    assert.equal(at(`${SUB}/resourceGroups/rg-app2/providers/Microsoft.KeyVault/vaults/kv/secrets/x`), false);
    assert.equal(at(`${SUB}/resourceGroups/rg-ap`), false);
    assert.equal(at(SUB), false);
    assert.equal(at('/'), false);
  });

  test('a resource-level assignment does not reach its parent or siblings', () => {
    const e = engineWithBuiltins();
    e.upsertRoleAssignment(assignment(MI, ROLE.keyVaultSecretsUser, SECRET));
    assert.equal(e.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    assert.equal(e.decide(dataRequest(MI, A.getSecret, `${KV}/secrets/other`)).allowed, false);
    assert.equal(e.decide(dataRequest(MI, A.getSecret, KV)).allowed, false);
  });

  test('the tenant root covers every scope', () => {
    const e = engineWithBuiltins();
    e.upsertRoleAssignment(assignment(MI, ROLE.reader, '/'));
    assert.equal(e.decide(controlRequest(MI, A.vmRead, '/subscriptions/any/resourceGroups/x')).allowed, true);
    assert.equal(e.decide(controlRequest(MI, A.vmRead, '/providers/Microsoft.Management/managementGroups/mg')).allowed, true);
  });

  test('management-group assignments follow the group tree', () => {
    const e = engineWithBuiltins();
    const mg = '/providers/Microsoft.Management/managementGroups/Corp';
    e.upsertRoleAssignment(assignment(MI, ROLE.reader, mg));
    const sub = '/subscriptions/11111111-2222-3333-4444-555555555555';
    const target = `${sub}/resourceGroups/rg`;
    assert.equal(e.decide(controlRequest(MI, A.vmRead, target)).allowed, false);
    e.setManagementGroupParent('online', 'corp');
    e.setSubscriptionManagementGroup('11111111-2222-3333-4444-555555555555', 'Online');
    assert.equal(e.decide(controlRequest(MI, A.vmRead, target)).allowed, true);
    assert.equal(e.decide(controlRequest(MI, A.vmRead, '/providers/Microsoft.Management/managementGroups/online')).allowed, true);
    e.setSubscriptionManagementGroup('11111111-2222-3333-4444-555555555555', undefined);
    assert.equal(e.decide(controlRequest(MI, A.vmRead, target)).allowed, false);
  });
});

describe('deny assignments', () => {
  function deny(extra: Partial<DenyAssignment>): DenyAssignment {
    return {
      id: `${RG}/providers/Microsoft.Authorization/denyAssignments/d1`,
      name: 'd1',
      scope: RG,
      permissions: [block({ dataActions: ['Microsoft.KeyVault/vaults/secrets/*'] })],
      principals: [{ id: ALL_PRINCIPALS_ID, type: 'SystemDefined' }],
      excludePrincipals: [],
      doNotApplyToChildScopes: false,
      ...extra,
    };
  }

  function setup(d: DenyAssignment) {
    const engine = engineWithBuiltins();
    engine.upsertRoleAssignment(assignment(MI, ROLE.keyVaultSecretsUser, SUB));
    engine.upsertRoleAssignment(assignment(OTHER, ROLE.keyVaultSecretsUser, SUB));
    engine.upsertDenyAssignment(d);
    return engine;
  }

  test('a deny for all principals overrides a role assignment below its scope', () => {
    const engine = setup(deny({}));
    const d = engine.decide(dataRequest(MI, A.getSecret, SECRET));
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'DeniedByDenyAssignment');
    assert.equal(d.denyAssignment?.name, 'd1');
    // Outside the deny's scope the assignment still grants.
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, `${SUB}/resourceGroups/other/providers/Microsoft.KeyVault/vaults/v/secrets/s`)).allowed, true);
    // Actions the deny does not list are untouched.
    assert.equal(engine.decide(dataRequest(MI, 'Microsoft.KeyVault/vaults/keys/read', SECRET)).reason, 'NoMatchingAssignment');
  });

  test('excluded principals, directly or through a group, are not denied', () => {
    const engine = setup(deny({ excludePrincipals: [{ id: MI.toUpperCase(), type: 'ServicePrincipal' }, { id: GROUP, type: 'Group' }] }));
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    assert.equal(engine.decide(dataRequest(OTHER, A.getSecret, SECRET)).reason, 'DeniedByDenyAssignment');
    assert.equal(engine.decide(dataRequest(OTHER, A.getSecret, SECRET, { groupIds: [GROUP] })).allowed, true);
  });

  test('doNotApplyToChildScopes limits the deny to its own scope', () => {
    const engine = setup(deny({ doNotApplyToChildScopes: true }));
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, RG.toLowerCase())).reason, 'DeniedByDenyAssignment');
  });

  test('a deny for named principals applies to them and to members of named groups only', () => {
    const engine = setup(deny({ principals: [{ id: GROUP, type: 'Group' }] }));
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET, { groupIds: [GROUP] })).reason, 'DeniedByDenyAssignment');
  });

  test('NotDataActions of a deny carve out what it does not block', () => {
    const engine = setup(deny({ permissions: [block({ dataActions: ['*'], notDataActions: ['*/getSecret/action'] })] }));
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    assert.equal(engine.decide(dataRequest(MI, 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', SECRET)).reason, 'DeniedByDenyAssignment');
  });

  test('removing the deny restores access', () => {
    const engine = setup(deny({}));
    assert.equal(engine.removeDenyAssignment(`${RG}/providers/Microsoft.Authorization/denyAssignments/D1`), true);
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    assert.equal(engine.removeDenyAssignment('nope'), false);
  });
});

describe('role definitions, assignments and principals', () => {
  test('an assignment to an unknown role grants nothing until the role appears', () => {
    const engine = new AuthzEngine();
    const role = customRole('late', [block({ dataActions: [A.getSecret] })]);
    engine.upsertRoleAssignment(assignment(MI, role.name, RG));
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).reason, 'NoMatchingAssignment');
    engine.upsertRoleDefinition(role);
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    assert.equal(engine.removeRoleDefinition(role.id), true);
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, false);
  });

  test('updating a role definition changes the decisions of existing assignments', () => {
    const engine = new AuthzEngine();
    const role = customRole('mutable', [block({ dataActions: [A.getSecret] })]);
    engine.upsertRoleDefinition(role);
    engine.upsertRoleAssignment(assignment(MI, role.name, RG));
    assert.equal(engine.decide(dataRequest(MI, A.setSecret, SECRET)).allowed, false);
    engine.upsertRoleDefinition({ ...role, roleName: 'mutable v2', permissions: [block({ dataActions: ['Microsoft.KeyVault/vaults/secrets/*'] })] });
    const d = engine.decide(dataRequest(MI, A.setSecret, SECRET));
    assert.equal(d.allowed, true);
    assert.equal(d.role?.roleName, 'mutable v2');
    assert.equal(engine.roleByName('MUTABLE'), undefined);
    assert.equal(engine.roleByName('Mutable V2')?.name, role.name);
  });

  test('group assignments grant to members named in the request', () => {
    const engine = engineWithBuiltins();
    engine.upsertRoleAssignment(assignment(GROUP, ROLE.storageBlobDataReader, SA, { principalType: 'Group' }));
    assert.equal(engine.decide(dataRequest(MI, A.blobRead, BLOB)).allowed, false);
    assert.equal(engine.decide(dataRequest(MI, A.blobRead, BLOB, { groupIds: ['other-group', GROUP.toUpperCase()] })).allowed, true);
  });

  test('principal and assignment ids are case-insensitive; upsert replaces by id', () => {
    const engine = engineWithBuiltins();
    const a = assignment(MI.toUpperCase(), ROLE.keyVaultSecretsUser, RG);
    engine.upsertRoleAssignment(a);
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, true);
    engine.upsertRoleAssignment({ ...a, id: a.id.toLowerCase(), scope: `${SUB}/resourceGroups/elsewhere` });
    assert.equal(engine.assignmentsFor(MI).length, 1);
    assert.equal(engine.decide(dataRequest(MI, A.getSecret, SECRET)).allowed, false);
    assert.equal(engine.removeRoleAssignment(a.id.toUpperCase()), true);
    assert.deepEqual(engine.assignmentsFor(MI), []);
    assert.equal(engine.removeRoleAssignment(a.id), false);
  });

  test('role lookups by full id, subscription-scoped id, GUID and name', () => {
    const engine = engineWithBuiltins();
    assert.equal(engine.roleDefinition(ROLE.owner)?.roleName, 'Owner');
    assert.equal(engine.roleDefinition(`/providers/Microsoft.Authorization/roleDefinitions/${ROLE.owner}`)?.roleName, 'Owner');
    assert.equal(engine.roleDefinition(`${SUB}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.owner.toUpperCase()}`)?.roleName, 'Owner');
    assert.equal(engine.roleByName('storage blob data READER')?.name, ROLE.storageBlobDataReader);
    assert.equal(engine.roleByName('no such role'), undefined);
    assert.equal(engine.counts().roleDefinitions, 928);
  });

  test('stored documents are frozen copies', () => {
    const engine = new AuthzEngine();
    const role = customRole('copy', [block({ dataActions: [A.getSecret] })]);
    engine.upsertRoleDefinition(role);
    role.permissions[0]!.dataActions.push('*');
    engine.upsertRoleAssignment(assignment(MI, role.name, RG));
    assert.equal(engine.decide(dataRequest(MI, A.setSecret, SECRET)).allowed, false);
    assert.equal(Object.isFrozen(engine.roleDefinition(role.name)), true);
  });
});

describe('conditions in decisions', () => {
  const containerName = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]';
  const blobPath = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]';

  function engineWith(condition: string) {
    const engine = engineWithBuiltins();
    engine.upsertRoleAssignment(assignment(MI, ROLE.storageBlobDataReader, SA, { condition, conditionVersion: '2.0' }));
    return engine;
  }

  test("'!(ActionMatches{...}) OR @Resource[...:name] StringEquals' limits only the targeted action", () => {
    const engine = engineWith(`((!(ActionMatches{'${A.blobRead}'})) OR (${containerName} StringEquals 'logs'))`);
    assert.equal(engine.decide(dataRequest(MI, A.blobRead, BLOB, { attributes: { [containerName]: 'logs' } })).allowed, true);
    const other = engine.decide(dataRequest(MI, A.blobRead, BLOB, { attributes: { [containerName]: 'other' } }));
    assert.equal(other.allowed, false);
    assert.equal(other.reason, 'ConditionNotMet');
    assert.equal(other.assignment?.principalId, MI);
    // A missing attribute fails the condition for the targeted action.
    assert.equal(engine.decide(dataRequest(MI, A.blobRead, BLOB)).reason, 'ConditionNotMet');
    // Other actions of the role pass without the attribute.
    assert.equal(engine.decide(controlRequest(MI, A.containerRead, CONTAINER)).allowed, true);
  });

  test("blob path StringLike 'logs/*'", () => {
    const engine = engineWith(`(!(ActionMatches{'${A.blobRead}'})) OR (${blobPath} StringLike 'logs/*')`);
    const read = (path: string) => engine.decide(dataRequest(MI, A.blobRead, BLOB, { attributes: { [blobPath]: path } })).allowed;
    assert.equal(read('logs/2024/app.log'), true);
    assert.equal(read('logs/'), true);
    assert.equal(read('data/logs/app.log'), false);
    assert.equal(read('LOGS/app.log'), false);
  });

  test('one passing grant is enough: conditions OR across assignments', () => {
    const engine = engineWith(`${containerName} StringEquals 'logs'`);
    const req = dataRequest(MI, A.blobRead, BLOB, { attributes: { [containerName]: 'other' } });
    assert.equal(engine.decide(req).reason, 'ConditionNotMet');
    engine.upsertRoleAssignment(assignment(MI, ROLE.storageBlobDataContributor, CONTAINER));
    const d = engine.decide(req);
    assert.equal(d.allowed, true);
    assert.equal(d.role?.roleName, 'Storage Blob Data Contributor');
  });

  test('suboperations: List is exempt from a read condition that excludes Blob.List', () => {
    const engine = engineWith(
      `(!(ActionMatches{'${A.blobRead}'} AND NOT SubOperationMatches{'Blob.List'})) OR (${containerName} StringEquals 'logs')`,
    );
    assert.equal(engine.decide(dataRequest(MI, A.blobRead, CONTAINER, { subOperation: 'Blob.List' })).allowed, true);
    assert.equal(engine.decide(dataRequest(MI, A.blobRead, BLOB)).reason, 'ConditionNotMet');
  });

  test("role-definition conditions hold per block (Key Vault Data Access Administrator)", () => {
    const engine = engineWithBuiltins();
    engine.upsertRoleAssignment(assignment(MI, ROLE.keyVaultDataAccessAdministrator, KV));
    const requestedRole = '@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId]';
    const write = (roleId: string) =>
      engine.decide(controlRequest(MI, A.roleAssignmentWrite, KV, { attributes: { [requestedRole]: roleId } }));
    assert.equal(write(`/providers/Microsoft.Authorization/roleDefinitions/${ROLE.keyVaultSecretsUser}`).allowed, true);
    assert.equal(write(ROLE.keyVaultSecretsUser.toUpperCase()).allowed, true);
    assert.equal(write(ROLE.owner).reason, 'ConditionNotMet');
    assert.equal(engine.decide(controlRequest(MI, A.roleAssignmentWrite, KV)).reason, 'ConditionNotMet');
    assert.equal(engine.decide(controlRequest(MI, A.roleAssignmentRead, KV)).allowed, true);
  });

  test('invalid assignment conditions are refused at upsert', () => {
    const engine = engineWithBuiltins();
    assert.throws(() => engine.upsertRoleAssignment(assignment(MI, ROLE.reader, RG, { condition: "@Resource[x] StringEquals 'a' AND" })), ConditionError);
    assert.throws(
      () => engine.upsertRoleAssignment(assignment(MI, ROLE.reader, RG, { condition: "@Resource[x] StringEquals 'a'", conditionVersion: '1.0' })),
      (e: unknown) => e instanceof ConditionError && e.code === 'UnsupportedVersion',
    );
    assert.deepEqual(engine.assignmentsFor(MI), []);
  });
});
