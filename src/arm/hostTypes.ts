// One table of the Azure compute resources that carry managed identities: which identity
// combinations each allows, and which token endpoint flavour code running on it uses.
// Later work (token endpoints, `mimic run --as`) reads the flavour from here.

export type TokenFlavour = 'imds' | 'appService' | 'cloudShell' | 'machineLearning' | 'serviceFabric' | 'azureArc' | 'none';

export interface HostType {
  /** Human name, as Azure's docs use it. */
  name: string;
  /** Full ARM type, lower-case. */
  type: string;
  /** Matches the resource `kind` (lower-cased); absent = any kind. */
  kind?: (kind: string) => boolean;
  systemAssigned: boolean;
  /** How many user-assigned identities the host accepts. */
  userAssigned: 'none' | 'one' | 'many';
  /** Whether system-assigned and user-assigned may be enabled together. */
  both: boolean;
  flavour: TokenFlavour;
}

const has = (word: string) => (kind: string) => kind.split(',').map((k) => k.trim()).includes(word);

/** First match wins, so kind-specific rows come before the generic row of the same type. */
export const HOST_TYPES: readonly HostType[] = [
  { name: 'Logic App (Standard)', type: 'microsoft.web/sites', kind: has('workflowapp'), systemAssigned: true, userAssigned: 'many', both: true, flavour: 'appService' },
  { name: 'Azure Functions', type: 'microsoft.web/sites', kind: has('functionapp'), systemAssigned: true, userAssigned: 'many', both: true, flavour: 'appService' },
  { name: 'App Service', type: 'microsoft.web/sites', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'appService' },
  { name: 'App Service slot', type: 'microsoft.web/sites/slots', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'appService' },
  // Consumption logic apps: the system-assigned identity or a single user-assigned one, never both.
  { name: 'Logic App (Consumption)', type: 'microsoft.logic/workflows', systemAssigned: true, userAssigned: 'one', both: false, flavour: 'none' },
  { name: 'Virtual Machine', type: 'microsoft.compute/virtualmachines', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'imds' },
  { name: 'Virtual Machine Scale Set', type: 'microsoft.compute/virtualmachinescalesets', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'imds' },
  { name: 'Container Apps', type: 'microsoft.app/containerapps', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'appService' },
  { name: 'Container Apps job', type: 'microsoft.app/jobs', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'appService' },
  { name: 'Container Instances', type: 'microsoft.containerinstance/containergroups', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'imds' },
  // AKS cluster identity: system-assigned or exactly one user-assigned control-plane identity.
  { name: 'Azure Kubernetes Service', type: 'microsoft.containerservice/managedclusters', systemAssigned: true, userAssigned: 'one', both: false, flavour: 'imds' },
  { name: 'Data Factory', type: 'microsoft.datafactory/factories', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'none' },
  { name: 'API Management', type: 'microsoft.apimanagement/service', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'none' },
  { name: 'Spring Apps', type: 'microsoft.appplatform/spring/apps', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'appService' },
  { name: 'Azure Machine Learning compute', type: 'microsoft.machinelearningservices/workspaces/computes', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'machineLearning' },
  { name: 'Service Fabric managed application', type: 'microsoft.servicefabric/managedclusters/applications', systemAssigned: false, userAssigned: 'many', both: false, flavour: 'serviceFabric' },
  { name: 'Azure Arc-enabled server', type: 'microsoft.hybridcompute/machines', systemAssigned: true, userAssigned: 'none', both: false, flavour: 'azureArc' },
  // Cloud Shell has no ARM resource of its own in a resource group (its console is a per-user
  // tenant-level object); Mimic models a shell as this pseudo type whose system-assigned
  // identity stands in for the signed-in user.
  { name: 'Cloud Shell', type: 'microsoft.portal/consoles', systemAssigned: true, userAssigned: 'none', both: false, flavour: 'cloudShell' },
];

/** Any other resource type: Azure's common managed-identity contract without special limits. */
export const GENERIC_HOST: HostType = { name: 'Azure resource', type: '*', systemAssigned: true, userAssigned: 'many', both: true, flavour: 'imds' };

export function hostTypeOf(type: string, kind?: string): HostType {
  const t = type.toLowerCase();
  const k = (kind ?? '').toLowerCase();
  return HOST_TYPES.find((h) => h.type === t && (!h.kind || h.kind(k))) ?? GENERIC_HOST;
}
