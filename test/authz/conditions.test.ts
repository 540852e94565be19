import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConditionError,
  MAX_CONDITION_BYTES,
  compileCondition,
  parseCondition,
  validateCondition,
  type ConditionContext,
} from '../../src/authz/conditions.js';
import { loadBuiltinRoles } from '../../src/authz/builtinRoles.js';
import type { RequestAttributes } from '../../src/authz/types.js';

const BLOB_READ = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';
const CONTAINER = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]';
const PATH = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]';

function ctx(attributes: RequestAttributes = {}, action = BLOB_READ, subOperation?: string): ConditionContext {
  return subOperation === undefined ? { action, attributes } : { action, attributes, subOperation };
}

function holds(text: string, attributes: RequestAttributes = {}, action = BLOB_READ): boolean {
  return parseCondition(text).evaluate(ctx(attributes, action));
}

describe('condition evaluation', () => {
  test("'!(ActionMatches) OR attribute' only restricts the targeted action", () => {
    const c = parseCondition(`!(ActionMatches{'${BLOB_READ}'}) OR ${CONTAINER} StringEquals 'x'`);
    assert.equal(c.evaluate(ctx({ [CONTAINER]: 'x' })), true);
    assert.equal(c.evaluate(ctx({ [CONTAINER]: 'y' })), false);
    assert.equal(c.evaluate(ctx({}, 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write')), true);
    // Missing attribute on the targeted action: cannot be evaluated, so it does not hold.
    assert.equal(c.outcome(ctx({})), 'indeterminate');
    assert.equal(c.evaluate(ctx({})), false);
    assert.deepEqual(c.missingAttributes(ctx({})), [CONTAINER]);
  });

  test('a missing attribute cannot be turned into true by NOT', () => {
    assert.equal(holds(`NOT ${CONTAINER} StringEquals 'x'`), false);
    assert.equal(holds(`NOT ${CONTAINER} StringEquals 'x'`, { [CONTAINER]: 'y' }), true);
  });

  test('ActionMatches: wildcards and letter case', () => {
    assert.equal(holds("ActionMatches{'Microsoft.Authorization/roleAssignments/*'}", {}, 'Microsoft.Authorization/roleAssignments/write'), true);
    assert.equal(holds("ActionMatches{'Microsoft.Authorization/roleDefinitions/*'}", {}, 'Microsoft.Authorization/roleAssignments/write'), false);
    assert.equal(holds(`ActionMatches{'${BLOB_READ.toUpperCase()}'}`), true);
  });

  test('SubOperationMatches needs the suboperation on the request', () => {
    const c = parseCondition(`!(ActionMatches{'${BLOB_READ}'} AND NOT SubOperationMatches{'Blob.List'})`);
    assert.equal(c.evaluate(ctx({}, BLOB_READ, 'Blob.List')), true);
    assert.equal(c.evaluate(ctx({}, BLOB_READ)), false);
    assert.equal(c.evaluate(ctx({}, BLOB_READ, 'Blob.Read')), false);
  });

  test('StringLike with *, ? and escapes; case variants', () => {
    assert.equal(holds(`${PATH} StringLike 'logs/*'`, { [PATH]: 'logs/2024/a.log' }), true);
    assert.equal(holds(`${PATH} StringLike 'logs/*'`, { [PATH]: 'Logs/a' }), false);
    assert.equal(holds(`${PATH} StringLikeIgnoreCase 'logs/*'`, { [PATH]: 'Logs/a' }), true);
    assert.equal(holds(`${PATH} StringLike 'a*c?'`, { [PATH]: 'abcd' }), true);
    assert.equal(holds(`${PATH} StringLike 'a*c'`, { [PATH]: 'abcd' }), false);
    assert.equal(holds(`${PATH} StringLike 'a\\*'`, { [PATH]: 'a*' }), true);
    assert.equal(holds(`${PATH} StringLike 'a\\*'`, { [PATH]: 'ab' }), false);
    assert.equal(holds(`${PATH} StringNotLike 'tmp/*'`, { [PATH]: 'logs/x' }), true);
  });

  test('string equality is case-sensitive unless IgnoreCase; StartsWith variants', () => {
    assert.equal(holds(`${CONTAINER} StringEquals 'Logs'`, { [CONTAINER]: 'logs' }), false);
    assert.equal(holds(`${CONTAINER} StringEqualsIgnoreCase 'Logs'`, { [CONTAINER]: 'logs' }), true);
    assert.equal(holds(`${CONTAINER} StringNotEquals 'a'`, { [CONTAINER]: 'b' }), true);
    assert.equal(holds(`${CONTAINER} StringNotEqualsIgnoreCase 'A'`, { [CONTAINER]: 'a' }), false);
    assert.equal(holds(`${CONTAINER} StringStartsWith 'lo'`, { [CONTAINER]: 'logs' }), true);
    assert.equal(holds(`${CONTAINER} StringStartsWithIgnoreCase 'LO'`, { [CONTAINER]: 'logs' }), true);
    assert.equal(holds(`${CONTAINER} StringNotStartsWith 'lo'`, { [CONTAINER]: 'logs' }), false);
    assert.equal(holds(`${CONTAINER} StringEquals 'it\\'s'`, { [CONTAINER]: "it's" }), true);
  });

  test('attribute keys match case-insensitively', () => {
    assert.equal(holds(`${CONTAINER} StringEquals 'x'`, { [CONTAINER.toLowerCase()]: 'x' }), true);
  });

  test('numeric, boolean, GUID and date-time operators', () => {
    const n = '@Request[Contoso/things:count]';
    assert.equal(holds(`${n} NumericGreaterThan 5`, { [n]: 6 }), true);
    assert.equal(holds(`${n} NumericGreaterThan 5`, { [n]: 5 }), false);
    assert.equal(holds(`${n} NumericLessThanEquals 5`, { [n]: '5' }), true);
    assert.equal(holds(`${n} NumericNotEquals -3`, { [n]: -3 }), false);
    assert.equal(holds(`${n} NumericEquals 5`, { [n]: 'five' }), false);

    const b = '@Resource[Microsoft.Storage/storageAccounts:isHnsEnabled]';
    assert.equal(holds(`${b} BoolEquals true`, { [b]: true }), true);
    assert.equal(holds(`${b} boolequals TRUE`, { [b]: 'true' }), true);
    assert.equal(holds(`${b} BoolNotEquals true`, { [b]: false }), true);

    const g = '@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId]';
    assert.equal(holds(`${g} GuidEquals 4633458b17de408ab8740445c86b69e6`, { [g]: '4633458B-17DE-408A-B874-0445C86B69E6' }), true);
    assert.equal(
      holds(`${g} GuidEquals 4633458b-17de-408a-b874-0445c86b69e6`, { [g]: '/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6' }),
      true,
    );
    assert.equal(holds(`${g} GuidNotEquals 4633458b-17de-408a-b874-0445c86b69e6`, { [g]: '00000000-0000-0000-0000-000000000000' }), true);

    const v = '@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId]';
    assert.equal(holds(`${v} DateTimeEquals '2022-06-01T00:00:00.0Z'`, { [v]: '2022-06-01T00:00:00.0000000Z' }), true);
    assert.equal(holds(`${v} DateTimeGreaterThan '2022-06-01T00:00:00.0000000Z'`, { [v]: '2022-06-01T00:00:00.0000001Z' }), true);
    assert.equal(holds(`${v} DateTimeLessThan '2022-06-01T00:00:00Z'`, { [v]: new Date('2022-05-31T23:59:59.999Z') }), true);
    const now = '@Environment[UtcNow]';
    assert.equal(holds(`${now} DateTimeGreaterThanEquals '2020-01-01T00:00:00.0Z'`, { [now]: new Date('2024-01-01T00:00:00Z') }), true);
  });

  test('cross-product operators follow the documented examples', () => {
    assert.equal(holds("{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'blue', 'green'}"), true);
    assert.equal(holds("{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'orange', 'green'}"), false);
    assert.equal(holds("{'red', 'blue'} ForAllOfAnyValues:StringEquals {'orange', 'red', 'blue'}"), true);
    assert.equal(holds("{'red', 'blue'} ForAllOfAnyValues:StringEquals {'red', 'green'}"), false);
    assert.equal(holds('{10, 20} ForAnyOfAllValues:NumericLessThan {15, 18}'), true);
    assert.equal(holds('{10, 20} ForAllOfAllValues:NumericLessThan {5, 15, 18}'), false);
    assert.equal(holds('{10, 20} ForAllOfAllValues:NumericLessThan {25, 30}'), true);
    assert.equal(holds('{10, 20} ForAllOfAllValues:NumericLessThan {15, 25, 30}'), false);
    const tags = '@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]';
    assert.equal(holds(`${tags} ForAllOfAnyValues:StringEquals {'Cascade', 'Baker'}`, { [tags]: ['Baker', 'Cascade'] }), true);
    assert.equal(holds(`${tags} ForAllOfAnyValues:StringEquals {'Cascade', 'Baker'}`, { [tags]: ['Baker', 'Skagit'] }), false);
  });

  test('an attribute can be compared with another attribute', () => {
    const principal = '@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project]';
    const tag = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]';
    const text = `${principal} ForAnyOfAnyValues:StringEquals ${tag}`;
    assert.equal(holds(text, { [principal]: ['Alpine', 'Baker'], [tag]: 'Baker' }), true);
    assert.equal(holds(text, { [principal]: ['Alpine'], [tag]: 'Baker' }), false);
    assert.equal(holds(text, { [principal]: ['Alpine'] }), false);
  });

  test('Exists and the symbolic logical operators', () => {
    const snap = '@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]';
    assert.equal(holds(`Exists ${snap}`, { [snap]: '2022-01-01T00:00:00Z' }), true);
    assert.equal(holds(`NOT Exists ${snap}`), true);
    assert.equal(holds(`!(Exists ${snap}) && ${CONTAINER} StringEquals 'a'`, { [CONTAINER]: 'a' }), true);
    assert.equal(holds(`${CONTAINER} StringEquals 'a' || ${CONTAINER} StringEquals 'b'`, { [CONTAINER]: 'b' }), true);
  });

  test('every condition in the built-in roles parses', () => {
    const texts = new Set<string>();
    for (const role of loadBuiltinRoles()) for (const p of role.permissions) if (p.condition) texts.add(p.condition);
    assert.ok(texts.size >= 20);
    for (const text of texts) assert.doesNotThrow(() => parseCondition(text), text);
  });

  test('identical texts share one compiled condition', () => {
    const text = `${CONTAINER} StringEquals 'shared'`;
    assert.equal(parseCondition(text), parseCondition(text));
  });
});

describe('condition errors', () => {
  function errorOf(text: string): ConditionError {
    try {
      parseCondition(text);
    } catch (e) {
      assert.ok(e instanceof ConditionError);
      return e;
    }
    assert.fail(`expected a ConditionError for ${text}`);
  }

  test('mixing AND and OR without parentheses is refused with its position', () => {
    const text = `${CONTAINER} StringEquals 'a' AND ${CONTAINER} StringEquals 'b' OR ${CONTAINER} StringEquals 'c'`;
    const e = errorOf(text);
    assert.equal(e.code, 'ParseError');
    assert.equal(e.position, text.indexOf(' OR ') + 1);
    assert.match(e.message, /parentheses/);
    assert.match(e.message, /line 1, column/);
  });

  test('syntax errors carry a message and a position', () => {
    assert.equal(errorOf("@Resource[x] StringEquals 'abc").position, 26);
    assert.match(errorOf("@Resource[x] StringEquals 'abc").message, /unterminated/);
    assert.match(errorOf("@Resource[x] StringEqualz 'a'").message, /unknown operator 'StringEqualz'/);
    assert.match(errorOf("@Resource[x] NumericEquals 1.5").message, /not a valid integer/);
    assert.match(errorOf("@Resource[x] StringEquals abc").message, /single quotes/);
    assert.match(errorOf("(@Resource[x] StringEquals 'a'").message, /expected '\)'/);
    assert.match(errorOf("@Resource[x] StringEquals 'a')").message, /unbalanced/);
    assert.match(errorOf("@Resource[x] ForAnyOfAnyValues:BoolEquals true").message, /cannot be used/);
    assert.match(errorOf("@Resource[x] GuidEquals not-a-guid").message, /GUID/);
    assert.equal(errorOf('   ').code, 'Empty');
  });

  test('nesting beyond 256 levels is a ParseError, not a stack overflow (found by fuzzing)', () => {
    const leaf = `${CONTAINER} StringEquals 'a'`;
    assert.doesNotThrow(() => parseCondition(`${'('.repeat(200)}${leaf}${')'.repeat(200)}`));
    assert.match(errorOf(`${'('.repeat(4000)}${leaf}${')'.repeat(4000)}`).message, /deeper than 256 levels/);
    assert.equal(errorOf(`${'!'.repeat(8000)}(${leaf})`).code, 'ParseError');
    assert.deepEqual(validateCondition(`${'NOT '.repeat(300)}(${leaf})`, '2.0').map((p) => p.code), ['ParseError']);
  });

  test('unknown attribute sources have their own code', () => {
    const e = errorOf("@Tenant[x] StringEquals 'a'");
    assert.equal(e.code, 'UnknownAttributeSource');
    assert.equal(e.position, 0);
  });

  test('validateCondition lists every problem', () => {
    assert.deepEqual(validateCondition(`${CONTAINER} StringEquals 'a'`, '2.0'), []);
    assert.deepEqual(validateCondition(`${CONTAINER} StringEquals 'a'`, undefined), []);
    const long = `${CONTAINER} StringEquals '${'x'.repeat(MAX_CONDITION_BYTES)}'`;
    const problems = validateCondition(`${long} AND`, '1.0');
    assert.deepEqual(problems.map((p) => p.code), ['UnsupportedVersion', 'TooLong', 'ParseError']);
    assert.equal(typeof problems[2]!.position, 'number');
    assert.deepEqual(validateCondition("@Foo[x] StringEquals 'a'", '2.0').map((p) => p.code), ['UnknownAttributeSource']);
  });

  test('compileCondition refuses what validateCondition reports', () => {
    assert.throws(() => compileCondition(`${CONTAINER} StringEquals 'a'`, '3.0'), /only accepted value is '2.0'/);
    assert.equal(compileCondition(`${CONTAINER} StringEquals 'a'`, '2.0').evaluate(ctx({ [CONTAINER]: 'a' })), true);
  });
});

describe('case-sensitive attribute keys', () => {
  test('a blob index tag key marked <$key_case_sensitive$> matches only its exact spelling', async () => {
    const { parseCondition } = await import('../../src/authz/conditions.js');
    const tag = (k: string) => `@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:${k}<$key_case_sensitive$>]`;
    const c = parseCondition(`${tag('Project')} StringEquals 'cascade'`);
    const action = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';
    assert.equal(c.evaluate({ action, attributes: { [tag('Project')]: 'cascade' } }), true);
    assert.equal(c.evaluate({ action, attributes: { [tag('project')]: 'cascade' } }), false, 'another spelling of the key is another tag');
    // The attribute path itself stays case-insensitive.
    assert.equal(c.evaluate({ action, attributes: { [tag('Project').replace('Microsoft.Storage', 'microsoft.storage')]: 'cascade' } }), true);
  });
});
