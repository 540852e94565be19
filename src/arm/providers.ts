// The resource providers and types Mimic's Resource Manager accepts. Azure answers an
// unregistered namespace or type with 400 before anything else, so this catalog decides
// what is an "unknown type". Types with their own behaviour (identities, vaults, storage)
// also list the api-versions their SDKs send.

/** Microsoft.KeyVault/vaults api-versions (Resource Manager side). */
const KEY_VAULT_API_VERSIONS = [
  '2015-06-01', '2016-10-01', '2018-02-14', '2018-02-14-preview', '2019-09-01', '2020-04-01-preview', '2021-04-01-preview',
  '2021-06-01-preview', '2021-10-01', '2021-11-01-preview', '2022-02-01-preview', '2022-07-01', '2022-11-01', '2023-02-01',
  '2023-07-01', '2023-08-01-preview', '2024-04-01-preview', '2024-11-01', '2024-12-01-preview', '2025-05-01', '2026-02-01',
  '2026-03-01-preview', '2026-04-01', '2026-04-01-preview', '2026-05-15-preview',
] as const;

/** A type without a version list accepts any well-formed api-version. */
const CATALOG: Record<string, Record<string, readonly string[] | null>> = {
  'Microsoft.ManagedIdentity': {
    userAssignedIdentities: ['2015-08-31-preview', '2018-11-30', '2021-09-30-preview', '2022-01-31-preview', '2023-01-31', '2023-07-31-preview', '2024-11-30', '2025-01-31-preview', '2025-05-31-preview'],
    'userAssignedIdentities/federatedIdentityCredentials': ['2022-01-31-preview', '2023-01-31', '2023-07-31-preview', '2024-11-30', '2025-01-31-preview', '2025-05-31-preview'],
    identities: null,
  },
  'Microsoft.Web': { sites: null, 'sites/slots': null, 'sites/functions': null, serverfarms: null, staticSites: null, connections: null, 'connections/accessPolicies': null },
  'Microsoft.Logic': { workflows: null, integrationAccounts: null },
  'Microsoft.Compute': { virtualMachines: null, virtualMachineScaleSets: null, disks: null, availabilitySets: null, 'virtualMachines/extensions': null },
  'Microsoft.App': { containerApps: null, managedEnvironments: null, jobs: null },
  'Microsoft.ContainerInstance': { containerGroups: null },
  'Microsoft.ContainerService': { managedClusters: null },
  'Microsoft.ContainerRegistry': { registries: null },
  'Microsoft.DataFactory': { factories: null },
  'Microsoft.ApiManagement': { service: null },
  'Microsoft.AppPlatform': { Spring: null, 'Spring/apps': null },
  'Microsoft.MachineLearningServices': { workspaces: null, 'workspaces/computes': null },
  'Microsoft.ServiceFabric': { managedClusters: null, 'managedClusters/applications': null },
  'Microsoft.HybridCompute': { machines: null },
  // Cloud Shell consoles: the host of the Cloud Shell token flavour.
  'Microsoft.Portal': { consoles: null },
  'Microsoft.KeyVault': {
    vaults: KEY_VAULT_API_VERSIONS,
    'vaults/accessPolicies': KEY_VAULT_API_VERSIONS,
    'vaults/secrets': null,
    'vaults/keys': null,
    'vaults/keys/versions': null,
    managedHSMs: null,
  },
  'Microsoft.Storage': {
    storageAccounts: null,
    'storageAccounts/blobServices': null,
    'storageAccounts/blobServices/containers': null,
    'storageAccounts/queueServices': null,
    'storageAccounts/queueServices/queues': null,
    'storageAccounts/tableServices': null,
    'storageAccounts/tableServices/tables': null,
    'storageAccounts/fileServices': null,
    'storageAccounts/fileServices/shares': null,
  },
  'Microsoft.Sql': { servers: null, 'servers/databases': null },
  'Microsoft.DocumentDB': { databaseAccounts: null },
  'Microsoft.EventHub': { namespaces: null, 'namespaces/eventhubs': null },
  'Microsoft.ServiceBus': { namespaces: null, 'namespaces/queues': null, 'namespaces/topics': null },
  'Microsoft.Network': { virtualNetworks: null, 'virtualNetworks/subnets': null, networkSecurityGroups: null, publicIPAddresses: null, networkInterfaces: null, privateEndpoints: null },
  'Microsoft.Insights': { components: null },
  'Microsoft.OperationalInsights': { workspaces: null },
  'Microsoft.AppConfiguration': { configurationStores: null },
  'Microsoft.CognitiveServices': { accounts: null },
  'Microsoft.Cache': { redis: null },
  'Microsoft.DBforPostgreSQL': { flexibleServers: null },
};

/**
 * The api-versions a provider GET lists (newest first) for types that accept any well-formed
 * version: clients such as `az resource create` pick the newest stable one from this list.
 */
const PUBLISHED_API_VERSIONS: Record<string, readonly string[]> = {
  'Microsoft.ManagedIdentity': ['2024-11-30', '2023-01-31', '2018-11-30'],
  'Microsoft.KeyVault': ['2024-11-01', '2023-07-01', '2023-02-01', '2022-07-01', '2021-10-01', '2019-09-01'],
  'Microsoft.Storage': ['2025-01-01', '2024-01-01', '2023-05-01', '2023-01-01', '2022-09-01', '2021-09-01', '2021-04-01', '2019-06-01'],
  'Microsoft.Web': ['2024-04-01', '2023-12-01', '2022-09-01', '2022-03-01', '2021-02-01'],
  'Microsoft.Logic': ['2019-05-01', '2016-06-01'],
  'Microsoft.Compute': ['2024-07-01', '2024-03-01', '2023-09-01', '2023-03-01', '2022-11-01'],
  'Microsoft.App': ['2024-03-01', '2023-05-01', '2022-10-01'],
};
const DEFAULT_API_VERSIONS = ['2024-01-01', '2023-01-01', '2022-01-01', '2021-04-01'];

/** The api-versions a type lists, newest first. */
export function apiVersionsOf(namespace: string, type: string): string[] {
  const found = lookupType(namespace, type.split('/'));
  const list = found.versions ?? PUBLISHED_API_VERSIONS[found.namespace ?? ''] ?? DEFAULT_API_VERSIONS;
  return [...list].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}

export const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha|-privatepreview)?$/;

interface Lookup {
  namespace?: string;
  type?: string;
  versions?: readonly string[] | null;
}

const byNamespace = new Map<string, { name: string; types: Map<string, { name: string; versions: readonly string[] | null }> }>();
for (const [ns, types] of Object.entries(CATALOG)) {
  const m = new Map<string, { name: string; versions: readonly string[] | null }>();
  for (const [t, v] of Object.entries(types)) m.set(t.toLowerCase(), { name: t, versions: v });
  byNamespace.set(ns.toLowerCase(), { name: ns, types: m });
}

/** Canonical spelling of a namespace and type path, or which part is unknown. */
export function lookupType(namespace: string, types: string[]): Lookup {
  const ns = byNamespace.get(namespace.toLowerCase());
  if (!ns) return {};
  const t = ns.types.get(types.join('/').toLowerCase());
  if (!t) return { namespace: ns.name };
  return { namespace: ns.name, type: t.name, versions: t.versions };
}

export function namespaces(): string[] {
  return [...byNamespace.values()].map((n) => n.name);
}

export function typesOf(namespace: string): string[] {
  return [...(byNamespace.get(namespace.toLowerCase())?.types.values() ?? [])].map((t) => t.name);
}
