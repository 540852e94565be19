// Every token endpoint flavour against the real SDKs, one child process per identity
// configuration: ManagedIdentityCredential (system-assigned, and user-assigned by client
// id, object id and resource id where the SDK allows it), DefaultAzureCredential from the
// `mimic env --as` environment, and msal-node's ManagedIdentityApplication. Every token
// must verify against the JWKS of Mimic's discovery document and carry a managed
// identity's v1 claims.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runFixture, startTestMimic, type TestMimic } from '../helpers/mimic.js';
import { createGroup, createUai, envAs, identityBody, mirid, pool, putHost, verifyToken, type Uai } from './helpers.js';
import { MANAGED_IDENTITY_TOKEN_LIFETIME } from '../../src/sts/tokens.js';

interface FixtureResult {
  ok: boolean;
  token?: string;
  expiresOnTimestamp?: number;
  source?: string;
  name?: string;
  message?: string;
}

interface Expected {
  principalId: string;
  clientId: string;
  /** xms_mirid: the user-assigned identity, or the host for system-assigned. */
  resourceId: string;
}

interface Case {
  name: string;
  host: string;
  args: string[];
  expect: Expected | { error: RegExp };
  source?: string;
}

const AUDIENCE = 'https://management.azure.com';

describe('managed identity flavours with the real SDKs', () => {
  let m: TestMimic;
  let uai1: Uai;
  let uai2: Uai;
  const hosts: Record<string, { id: string; principalId?: string }> = {};
  const envs: Record<string, Record<string, string>> = {};

  before(async () => {
    m = await startTestMimic();
    await createGroup(m, 'Rg-Flavours');
    uai1 = await createUai(m, 'Rg-Flavours', 'uai-one');
    uai2 = await createUai(m, 'Rg-Flavours', 'uai-two');
    const both = identityBody(true, [uai1, uai2]);
    hosts.vm = await putHost(m, 'Rg-Flavours', 'Microsoft.Compute', ['virtualMachines', 'vm1'], { identity: both });
    hosts.site = await putHost(m, 'Rg-Flavours', 'Microsoft.Web', ['sites', 'site1'], { kind: 'app', identity: both });
    hosts.shell = await putHost(m, 'Rg-Flavours', 'Microsoft.Portal', ['consoles', 'shell1'], { identity: identityBody(true) });
    await putHost(m, 'Rg-Flavours', 'Microsoft.MachineLearningServices', ['workspaces', 'ws1'], {});
    hosts.compute = await putHost(m, 'Rg-Flavours', 'Microsoft.MachineLearningServices', ['workspaces', 'ws1', 'computes', 'cpu1'], { identity: identityBody(true, [uai1]) });
    await putHost(m, 'Rg-Flavours', 'Microsoft.ServiceFabric', ['managedClusters', 'sf1'], {});
    hosts.sfApp = await putHost(m, 'Rg-Flavours', 'Microsoft.ServiceFabric', ['managedClusters', 'sf1', 'applications', 'app1'], { identity: identityBody(false, [uai1]) });
    hosts.sfApp2 = await putHost(m, 'Rg-Flavours', 'Microsoft.ServiceFabric', ['managedClusters', 'sf1', 'applications', 'app2'], { identity: identityBody(false, [uai1, uai2]) });
    for (const [k, h] of Object.entries(hosts)) envs[k] = await envAs(m, h.id);
  });
  after(async () => {
    await m.dispose();
  });

  test('each host type gets the variables of its flavour', () => {
    assert.match(envs.vm!.AZURE_POD_IDENTITY_AUTHORITY_HOST!, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{64}$/);
    assert.equal(envs.vm!.IDENTITY_ENDPOINT, undefined);
    assert.match(envs.site!.IDENTITY_ENDPOINT!, /^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);
    assert.match(envs.site!.IDENTITY_HEADER!, /^[0-9a-f]{64}$/);
    assert.match(envs.shell!.MSI_ENDPOINT!, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{64}\/oauth2\/token$/);
    assert.equal(envs.shell!.MSI_SECRET, undefined);
    assert.match(envs.compute!.MSI_ENDPOINT!, /\/msi\/auth$/);
    assert.match(envs.compute!.MSI_SECRET!, /^[0-9a-f]{64}$/);
    assert.match(envs.sfApp!.IDENTITY_ENDPOINT!, /^https:\/\/localhost:\d+\/metadata\/identity\/oauth2\/token$/);
    assert.match(envs.sfApp!.IDENTITY_SERVER_THUMBPRINT!, /^[0-9A-F]{40}$/);
    assert.equal(envs.sfApp!.IDENTITY_API_VERSION, '2019-07-01-preview');
    for (const e of Object.values(envs)) {
      assert.equal(e.AZURE_AUTHORITY_HOST, m.endpoints.authorityHost);
      assert.equal(e.NODE_EXTRA_CA_CERTS, m.endpoints.caCertFile);
      assert.equal(e.MIMIC_ARM_ENDPOINT, m.endpoints.armEndpoint);
    }
    // Each resource has its own secret.
    assert.notEqual(envs.sfApp!.IDENTITY_HEADER, envs.sfApp2!.IDENTITY_HEADER);
  });

  test('every credential gets a verifiable token of the identity it names', async () => {
    const system = (host: string): Expected => ({ principalId: hosts[host]!.principalId!, clientId: m.directory.byObject(hosts[host]!.principalId!)!.appId, resourceId: hosts[host]!.id });
    const user = (u: Uai): Expected => ({ principalId: u.principalId, clientId: u.clientId, resourceId: u.id });
    const cases: Case[] = [];
    // IMDS and App Service: every way of naming an identity.
    for (const host of ['vm', 'site']) {
      cases.push(
        { name: `${host} system-assigned`, host, args: ['mic'], expect: system(host) },
        { name: `${host} by client id`, host, args: ['mic', '--client-id', uai1.clientId], expect: user(uai1) },
        { name: `${host} by object id`, host, args: ['mic', '--object-id', uai2.principalId], expect: user(uai2) },
        { name: `${host} by resource id`, host, args: ['mic', '--resource-id', uai1.id], expect: user(uai1) },
        { name: `${host} DefaultAzureCredential`, host, args: ['dac'], expect: system(host) },
        { name: `${host} msal-node`, host, args: ['msal', '--object-id', uai2.principalId], expect: user(uai2), source: host === 'vm' ? 'DefaultToImds' : 'AppService' },
      );
    }
    // Cloud Shell: the shell's own identity only (the SDKs refuse user-assigned ids there).
    cases.push(
      { name: 'shell system-assigned', host: 'shell', args: ['mic'], expect: system('shell') },
      { name: 'shell DefaultAzureCredential', host: 'shell', args: ['dac'], expect: system('shell') },
      { name: 'shell msal-node', host: 'shell', args: ['msal'], expect: system('shell'), source: 'CloudShell' },
      { name: 'shell refuses a user-assigned id in the SDK', host: 'shell', args: ['mic', '--client-id', uai1.clientId], expect: { error: /not supported for CloudShell/ } },
    );
    // Machine Learning: the default identity via DEFAULT_IDENTITY_CLIENT_ID, or a client id.
    cases.push(
      { name: 'compute system-assigned', host: 'compute', args: ['mic'], expect: system('compute') },
      { name: 'compute by client id', host: 'compute', args: ['mic', '--client-id', uai1.clientId], expect: user(uai1) },
      { name: 'compute DefaultAzureCredential', host: 'compute', args: ['dac'], expect: system('compute') },
      { name: 'compute msal-node by client id', host: 'compute', args: ['msal', '--client-id', uai1.clientId], expect: user(uai1), source: 'MachineLearning' },
      { name: 'compute refuses an object id in the SDK', host: 'compute', args: ['mic', '--object-id', uai1.principalId], expect: { error: /Only client id is supported/ } },
    );
    // Service Fabric: the identity bound to the application; msal-node can name one.
    cases.push(
      { name: 'sf application identity', host: 'sfApp', args: ['mic'], expect: user(uai1) },
      { name: 'sf DefaultAzureCredential', host: 'sfApp', args: ['dac'], expect: user(uai1) },
      { name: 'sf msal-node', host: 'sfApp', args: ['msal'], expect: user(uai1), source: 'ServiceFabric' },
      { name: 'sf msal-node by client id', host: 'sfApp2', args: ['msal', '--client-id', uai2.clientId], expect: user(uai2) },
      { name: 'sf msal-node by object id', host: 'sfApp2', args: ['msal', '--object-id', uai1.principalId], expect: user(uai1) },
      { name: 'sf msal-node by resource id', host: 'sfApp2', args: ['msal', '--resource-id', uai2.id], expect: user(uai2) },
      { name: 'sf with two identities and none named', host: 'sfApp2', args: ['mic'], expect: { error: /Multiple user assigned identities exist/ } },
    );

    const results = await pool(cases, 4, (c) => runFixture<FixtureResult>('mi/credential.mjs', c.args, envs[c.host]!));
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      const r = results[i]!;
      try {
        if ('error' in c.expect) {
          assert.equal(r.ok, false, `expected an error, got a token`);
          assert.match(r.message!, c.expect.error);
          continue;
        }
        assert.equal(r.ok, true, r.message);
        if (c.source) assert.equal(r.source, c.source);
        const claims = await verifyToken(m, r.token!, AUDIENCE);
        assert.equal(claims.oid, c.expect.principalId);
        assert.equal(claims.sub, c.expect.principalId);
        assert.equal(claims.appid, c.expect.clientId);
        assert.equal(claims.xms_mirid, mirid(c.expect.resourceId));
        assert.equal(claims.idtyp, 'app');
        assert.equal(claims.appidacr, '2');
        assert.equal(claims.ver, '1.0');
        assert.equal(claims.tid, m.context.tenant.tenantId);
        assert.equal(claims.exp! - claims.iat!, MANAGED_IDENTITY_TOKEN_LIFETIME + 300);
        // The SDK learned the expiry from expires_on: about a day ahead.
        assert.ok(Math.abs(r.expiresOnTimestamp! / 1000 - claims.exp!) <= 1);
      } catch (err) {
        failures.push(`${c.name}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
