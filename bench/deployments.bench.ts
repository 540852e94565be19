// Template deployment benchmark: 200 resources (60 user-assigned identities, 60 sites each using
// one of them, 80 role assignments whose principals come from reference()) deployed as one
// template, as a ratio to the same 200 resources created by direct PUTs from one client (one
// request at a time, reading each principal from the PUT's answer) in the same run. Rounds
// alternate the two and the median ratio is reported. Target: the deployment takes at most 1.2x.
// Run: npm run build && node dist/bench/deployments.bench.js   (BENCH_ROUNDS sets the rounds, default 5;
// BENCH_VERBOSE=1 prints when the PUT answered and the run's own duration)
import { request } from 'node:https';
import { Agent } from 'node:https';
import { randomUUID } from 'node:crypto';
import { adminTokenFor, startMimicProcess } from './lib/processes.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IDENTITIES = 60;
const SITES = 60;
const SITE_ASSIGNMENTS = 60;
const IDENTITY_ASSIGNMENTS = 20;
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function call(method: string, url: string, ca: string, token: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(text ? { 'content-length': String(Buffer.byteLength(text)) } : {}) } }, (res) => {
      let out = '';
      res.on('data', (c: Buffer) => (out += c));
      res.on('end', () => {
        if (res.statusCode! >= 300) return reject(new Error(`${method} ${url}: ${res.statusCode} ${out}`));
        resolve({ status: res.statusCode!, body: out ? JSON.parse(out) : undefined });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

function template(): Record<string, unknown> {
  const idOf = (i: string) => `[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', format('id-{0}', ${i}))]`;
  const siteOf = (i: string) => `[resourceId('Microsoft.Web/sites', format('app-{0}', ${i}))]`;
  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    resources: [
      { type: 'Microsoft.ManagedIdentity/userAssignedIdentities', apiVersion: '2023-01-31', name: "[format('id-{0}', copyIndex())]", location: '[resourceGroup().location]', copy: { name: 'ids', count: IDENTITIES } },
      {
        type: 'Microsoft.Web/sites',
        apiVersion: '2023-12-01',
        name: "[format('app-{0}', copyIndex())]",
        location: '[resourceGroup().location]',
        kind: 'app',
        identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [idOf('copyIndex()')]: {} } },
        properties: {},
        copy: { name: 'sites', count: SITES },
        dependsOn: [idOf('copyIndex()')],
      },
      {
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: "[guid(resourceGroup().id, 'site', string(copyIndex()))]",
        properties: {
          roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${READER}')]`,
          principalId: `[reference(${siteOf('copyIndex()').slice(1, -1)}, '2023-12-01', 'full').identity.principalId]`,
          principalType: 'ServicePrincipal',
        },
        copy: { name: 'siteRoles', count: SITE_ASSIGNMENTS },
      },
      {
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: "[guid(resourceGroup().id, 'identity', string(copyIndex()))]",
        properties: {
          roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${READER}')]`,
          principalId: `[reference(${idOf('copyIndex()').slice(1, -1)}, '2023-01-31').principalId]`,
          principalType: 'ServicePrincipal',
        },
        copy: { name: 'identityRoles', count: IDENTITY_ASSIGNMENTS },
      },
    ],
  };
}

async function direct(base: string, rg: string, ca: string, token: string): Promise<number> {
  const g = `${base}/resourceGroups/${rg}`;
  const t0 = performance.now();
  const principals: string[] = [];
  const sitePrincipals: string[] = [];
  for (let i = 0; i < IDENTITIES; i++) principals.push((await call('PUT', `${g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}?api-version=2023-01-31`, ca, token, { location: 'westeurope' })).body.properties.principalId);
  for (let i = 0; i < SITES; i++) {
    const uai = `${g.slice(g.indexOf('/subscriptions'))}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}`;
    const site = await call('PUT', `${g}/providers/Microsoft.Web/sites/app-${i}?api-version=2023-12-01`, ca, token, { location: 'westeurope', kind: 'app', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai]: {} } }, properties: {} });
    sitePrincipals.push(site.body.identity.principalId);
  }
  const assign = (principalId: string) =>
    call('PUT', `${g}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, ca, token, {
      properties: { roleDefinitionId: `${base.slice(base.indexOf('/subscriptions'))}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId, principalType: 'ServicePrincipal' },
    });
  for (let i = 0; i < SITE_ASSIGNMENTS; i++) await assign(sitePrincipals[i]!);
  for (let i = 0; i < IDENTITY_ASSIGNMENTS; i++) await assign(principals[i]!);
  return performance.now() - t0;
}

async function deployment(base: string, rg: string, ca: string, token: string, body: Record<string, unknown>): Promise<number> {
  const url = `${base}/resourceGroups/${rg}/providers/Microsoft.Resources/deployments/bench?api-version=2024-03-01`;
  const t0 = performance.now();
  await call('PUT', url, ca, token, { properties: { mode: 'Incremental', template: body } });
  if (process.env.BENCH_VERBOSE) process.stdout.write(`  PUT answered after ${(performance.now() - t0).toFixed(0)} ms\n`);
  for (;;) {
    const d = await call('GET', url, ca, token);
    const state = d.body.properties.provisioningState;
    if (state === 'Succeeded') {
      if (process.env.BENCH_VERBOSE) process.stdout.write(`  run took ${d.body.properties.duration}\n`);
      return performance.now() - t0;
    }
    if (state !== 'Running' && state !== 'Accepted') throw new Error(`deployment ended ${state}: ${JSON.stringify(d.body.properties.error)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const mimic = await startMimicProcess();
try {
  const token = await adminTokenFor(mimic);
  const base = `${mimic.endpoints.origin}/subscriptions/${mimic.endpoints.subscriptionId}`;
  const body = template();
  const rounds: Array<{ direct: number; deployment: number; ratio: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const rg of [`rg-direct-${r}`, `rg-deploy-${r}`]) await call('PUT', `${base}/resourceGroups/${rg}?api-version=2021-04-01`, mimic.ca, token, { location: 'westeurope' });
    // Alternate which goes first: each round adds resources and assignments that later work sees.
    let d: number;
    let t: number;
    if (r % 2 === 0) {
      d = await direct(base, `rg-direct-${r}`, mimic.ca, token);
      t = await deployment(base, `rg-deploy-${r}`, mimic.ca, token, body);
    } else {
      t = await deployment(base, `rg-deploy-${r}`, mimic.ca, token, body);
      d = await direct(base, `rg-direct-${r}`, mimic.ca, token);
    }
    rounds.push({ direct: d, deployment: t, ratio: t / d });
    process.stdout.write(`round ${r + 1}: direct ${d.toFixed(0)} ms, deployment ${t.toFixed(0)} ms, ratio ${(t / d).toFixed(2)}\n`);
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  const total = IDENTITIES + SITES + SITE_ASSIGNMENTS + IDENTITY_ASSIGNMENTS;
  process.stdout.write(
    `\n${total} resources: direct PUTs ${median.direct.toFixed(0)} ms, deployment ${median.deployment.toFixed(0)} ms; ratio ${median.ratio.toFixed(2)} (target <= 1.2: ${median.ratio <= 1.2 ? 'met' : 'NOT met'})\n`,
  );
} finally {
  mimic.stop();
}
