import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { A, BLOB, KV, RG, ROLE, SA, SECRET, SUB, assignment, controlRequest, dataRequest, engineWithBuiltins } from './fixtures.js';

const MI = 'b1f1b2c3-0000-4000-8000-000000000001';
const GROUP = 'b1f1b2c3-0000-4000-8000-0000000000f1';

describe('explain()', () => {
  const engine = engineWithBuiltins();
  const reader = assignment(MI, ROLE.keyVaultReader, KV);
  const sibling = assignment(MI, ROLE.keyVaultSecretsUser, `${RG}/providers/Microsoft.KeyVault/vaults/kv-other`);
  const contributor = assignment(MI, ROLE.contributor, SUB);
  const ghost = assignment(MI, '99999999-9999-9999-9999-999999999999', RG);
  const viaGroup = assignment(GROUP, ROLE.storageBlobDataReader, SA, { principalType: 'Group' });
  for (const a of [reader, sibling, contributor, ghost, viaGroup]) engine.upsertRoleAssignment(a);

  test('lists every assignment of the principal and why it does not grant', () => {
    const req = dataRequest(MI, A.getSecret, SECRET);
    const d = engine.explain(req);
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'NoMatchingAssignment');
    const why = new Map(d.nearMisses.map((m) => [m.assignment.id, m.why]));
    assert.equal(why.size, 4);
    assert.equal(why.get(reader.id), `Key Vault Reader at '${KV}' grants no data action matching '${A.getSecret}'`);
    assert.match(why.get(sibling.id)!, /^Key Vault Secrets User is assigned at '.*kv-other', which does not contain/);
    assert.match(why.get(contributor.id)!, /Contributor at .* grants no data action matching .*Actions never grant data actions/);
    assert.match(why.get(ghost.id)!, /does not exist, so it grants nothing/);
    assert.equal(d.nearMisses.find((m) => m.assignment.id === ghost.id)?.role, undefined);
    assert.equal(d.nearMisses.find((m) => m.assignment.id === reader.id)?.role?.roleName, 'Key Vault Reader');
  });

  test('names the NotActions entry that removed the action', () => {
    const d = engine.explain(controlRequest(MI, A.roleAssignmentWrite, RG));
    const m = d.nearMisses.find((x) => x.assignment.id === contributor.id);
    assert.match(m!.why, /excludes it with NotActions 'Microsoft.Authorization\/\*\/Write'/);
  });

  test('leaves out the granting assignment and agrees with decide()', () => {
    const req = controlRequest(MI, 'Microsoft.KeyVault/vaults/read', KV);
    const d = engine.explain(req);
    const fast = engine.decide(req);
    assert.equal(d.allowed, true);
    assert.equal(d.reason, fast.reason);
    assert.equal(d.assignment, fast.assignment);
    assert.ok(!d.nearMisses.some((m) => m.assignment.id === d.assignment!.id));
    assert.deepEqual(fast.nearMisses, []);
  });

  test('includes group assignments and explains unmet conditions with the missing attribute', () => {
    const e = engineWithBuiltins();
    const name = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]';
    const conditional = assignment(MI, ROLE.storageBlobDataReader, SA, {
      condition: `(!(ActionMatches{'${A.blobRead}'})) OR (${name} StringEquals 'logs')`,
      conditionVersion: '2.0',
    });
    e.upsertRoleAssignment(conditional);
    e.upsertRoleAssignment(viaGroup);
    const d = e.explain(dataRequest(MI, A.blobRead, `${SUB}/resourceGroups/other/x`, { groupIds: [GROUP] }));
    assert.equal(d.nearMisses.length, 2);
    const c = e.explain(dataRequest(MI, A.blobRead, BLOB));
    assert.equal(c.reason, 'ConditionNotMet');
    assert.match(c.nearMisses[0]!.why, /assignment's condition is not met \(the request does not provide @Resource\[.*containers:name\]\)/);
  });
});
