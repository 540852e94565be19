// What the REST-spec alignment means for the real SDKs: @azure/arm-storage's beginCreateAndWait
// (storage accounts answer 200), @azure/arm-keyvault's keys.createIfNotExist followed by
// @azure/keyvault-keys getKey (an ARM-created key is a real data-plane key), key versions through
// the Resource Manager, certificate contacts and issuers, and the User Delegation Key headers.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';

describe('Azure SDKs against the spec-aligned Resource Manager and data planes', () => {
  let mimic: TestMimic;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let out: any;
  before(async () => {
    mimic = await startTestMimic('sqlite');
    out = await runFixture('arm/specSdks.mjs', [mimic.context.tenant.adminObjectId, randomUUID().slice(0, 6)], mimic.adminEnv);
  });
  after(() => mimic.dispose());

  test('arm-storage beginCreateAndWait creates the account; RA-GRS has a secondary with endpoints', () => {
    assert.match(out.account.name, /^stsdk/);
    for (const s of ['blob', 'queue', 'table', 'file', 'web', 'dfs']) assert.equal(typeof out.account.endpoints[s], 'string', s);
    assert.equal(out.account.secondaryLocation, 'westus');
    assert.equal(out.account.statusOfSecondary, 'available');
    assert.match(out.account.secondaryEndpoints.blob, /-secondary\.blob\.core\.windows\.net\/$/);
    assert.deepEqual(out.keys, ['Full', 'Full']);
  });

  test('Get User Delegation Key answers with x-ms-request-id and x-ms-version', () => {
    assert.match(out.udk.requestId, /^[0-9a-f-]{36}$/);
    assert.match(out.udk.version, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(out.udk.signedObjectId, mimic.context.tenant.adminObjectId);
  });

  test('a vault without tags answers tags {}', () => {
    assert.deepEqual(out.vaultTags, {});
  });

  test('keys.createIfNotExist makes a data-plane key that keyvault-keys reads', () => {
    assert.equal(out.armKey.keySize, 3072);
    assert.equal(out.dataKey.kty, 'RSA');
    assert.equal(out.dataKey.id.replace(':443', ''), out.armKey.keyUriWithVersion.replace(':443', ''));
    assert.ok(out.armKey.keyOps.includes('sign'));
    assert.equal(typeof out.armKey.attributes.created, 'number');
    assert.equal(out.armKey.attributes.recoveryLevel, 'Recoverable+Purgeable');
    assert.deepEqual(out.armVersions.length, 1);
    assert.equal(out.armVersion, out.armKey.keyUriWithVersion);
  });

  test('certificate contacts: set, get, delete', () => {
    assert.deepEqual(out.contactsSet, ['ops@contoso.example']);
    assert.deepEqual(out.contactsGot, ['ops@contoso.example']);
    assert.equal(out.contactsAfterDelete, 404, 'deleted contacts are gone');
    const [sent, answered] = out.rawContacts.map((t: string) => JSON.parse(t));
    assert.deepEqual(answered.contacts, sent.contacts);
    assert.match(answered.id, /\/certificates\/contacts$/);
  });

  test('certificate issuers: create, update, list, delete (Self/Unknown only; the password never returned)', () => {
    const [sent, answered] = out.rawIssuer.map((t: string) => JSON.parse(t));
    assert.equal(sent.credentials.pwd, 'p@ss');
    assert.deepEqual(answered.credentials, { account_id: 'acct-1' }, 'the password is sealed and never returned');
    assert.match(answered.id, /\/certificates\/issuers\/issuer-self$/);
    assert.equal(out.issuer.provider, 'Self');
    assert.deepEqual(out.issuers.map((i: { provider: string }) => i.provider), ['Self']);
    assert.equal(out.issuerAfterDelete, 404);
    assert.deepEqual(out.issuerUpdated, { account_id: 'acct-2' }, 'an update changes what it names and keeps the rest');
    assert.equal(out.digicert, 400);
  });
});
