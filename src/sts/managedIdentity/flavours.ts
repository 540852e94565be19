// The token endpoint flavours Mimic serves, each as the Azure SDKs speak it: where the
// endpoint lives, the method, api-versions, the secret header, the query names that pick a
// user-assigned identity, and the environment variables a host of that kind sets.
import type { TokenFlavour } from '../../arm/hostTypes.js';

export type ServedFlavour = 'imds' | 'appService' | 'cloudShell' | 'machineLearning' | 'serviceFabric';
export const SERVED_FLAVOURS: readonly ServedFlavour[] = ['imds', 'appService', 'cloudShell', 'machineLearning', 'serviceFabric'];

export function isServedFlavour(f: string): f is ServedFlavour {
  return (SERVED_FLAVOURS as readonly string[]).includes(f);
}

export interface FlavourSpec {
  flavour: ServedFlavour;
  method: 'GET' | 'POST';
  /** Accepted api-versions; undefined = the protocol has none. */
  apiVersions?: ReadonlySet<string>;
  /** Header carrying the per-resource secret (lower-case); undefined = the secret is the path prefix. */
  secretHeader?: string;
  /** `Metadata: true` must be present. */
  requiresMetadata: boolean;
  /** Requests that went through a proxy are refused (an SSRF guard of IMDS). */
  refusesForwarded: boolean;
  /** Query names selecting a user-assigned identity; empty = selection is not supported. */
  clientIdParams: readonly string[];
  objectIdParams: readonly string[];
  resourceIdParams: readonly string[];
  /** `expires_on` is a date string ("MM/DD/YYYY HH:MM:SS +00:00"), as App Service's 2017-09-01 protocol sends it. */
  expiresOnAsDate?: boolean;
}

/** api-versions of the IMDS identity endpoint (2018-02-01 is what the SDKs send). */
const IMDS_API_VERSIONS = new Set([
  '2018-02-01', '2018-04-02', '2018-10-01', '2019-02-01', '2019-03-11', '2019-04-30', '2019-06-01', '2019-06-04', '2019-08-01', '2019-08-15',
  '2019-11-01', '2020-06-01', '2020-07-15', '2020-09-01', '2020-10-01', '2020-12-01', '2021-01-01', '2021-02-01', '2021-03-01', '2021-05-01',
  '2021-08-01', '2021-10-01', '2021-11-01', '2021-11-15', '2021-12-13', '2023-07-01', '2023-11-15', '2024-03-15', '2025-04-07',
]);

export const FLAVOURS: Record<ServedFlavour, FlavourSpec> = {
  imds: {
    flavour: 'imds', method: 'GET', apiVersions: IMDS_API_VERSIONS, requiresMetadata: true, refusesForwarded: true,
    clientIdParams: ['client_id'], objectIdParams: ['object_id'], resourceIdParams: ['msi_res_id'],
  },
  // App Service documents principal_id as an alias of object_id on this version.
  appService: {
    flavour: 'appService', method: 'GET', apiVersions: new Set(['2019-08-01']), secretHeader: 'x-identity-header', requiresMetadata: false, refusesForwarded: false,
    clientIdParams: ['client_id'], objectIdParams: ['object_id', 'principal_id'], resourceIdParams: ['mi_res_id'],
  },
  // Only the caller (here: the shell's identity); no user-assigned selection.
  cloudShell: {
    flavour: 'cloudShell', method: 'POST', requiresMetadata: true, refusesForwarded: false,
    clientIdParams: [], objectIdParams: [], resourceIdParams: [],
  },
  // The 2017-09-01 protocol names the client id `clientid`; the SDKs send the host's default identity there.
  machineLearning: {
    flavour: 'machineLearning', method: 'GET', apiVersions: new Set(['2017-09-01']), secretHeader: 'secret', requiresMetadata: false, refusesForwarded: false,
    clientIdParams: ['clientid'], objectIdParams: [], resourceIdParams: [],
  },
  serviceFabric: {
    flavour: 'serviceFabric', method: 'GET', apiVersions: new Set(['2019-07-01-preview']), secretHeader: 'secret', requiresMetadata: false, refusesForwarded: false,
    clientIdParams: ['client_id'], objectIdParams: ['object_id'], resourceIdParams: ['mi_res_id'],
  },
};

/**
 * App Service's older protocol on the same path and secret: what MSI_ENDPOINT/MSI_SECRET name and
 * what az 2.45 (msrestazure) speaks there: `secret` header, api-version 2017-09-01, `clientid`.
 */
export const APP_SERVICE_2017: FlavourSpec = {
  flavour: 'appService', method: 'GET', apiVersions: new Set(['2017-09-01']), secretHeader: 'secret', requiresMetadata: false, refusesForwarded: false,
  clientIdParams: ['clientid'], objectIdParams: [], resourceIdParams: [], expiresOnAsDate: true,
};

/** Query names that would pick an identity on some flavour: refused where the flavour has no selection. */
export const ALL_SELECTOR_PARAMS = ['client_id', 'clientid', 'object_id', 'principal_id', 'msi_res_id', 'mi_res_id'];

/** Paths on the managed-identity listener (IMDS and Cloud Shell sit under the resource's secret prefix). */
export const PATHS = {
  imds: '/metadata/identity/oauth2/token',
  cloudShell: '/oauth2/token',
  appService: '/msi/token',
  machineLearning: '/msi/auth',
  serviceFabric: '/metadata/identity/oauth2/token',
} as const;

export interface EndpointUrls {
  /** http://127.0.0.1:PORT of the managed-identity listener. */
  http: string;
  /** https://localhost:PORT of the Service Fabric token service listener. */
  serviceFabric: string;
  /** SHA-1 thumbprint of the Service Fabric listener's certificate (hex, upper-case). */
  serviceFabricThumbprint: string;
}

/** The variables a host of this flavour sets for its code, pointing at Mimic. */
export function flavourEnvironment(flavour: ServedFlavour, urls: EndpointUrls, secret: string, defaultClientId?: string, hostName?: string): Record<string, string> {
  switch (flavour) {
    case 'imds':
      // The SDKs append /metadata/identity/oauth2/token/ to this host.
      return { AZURE_POD_IDENTITY_AUTHORITY_HOST: `${urls.http}/${secret}` };
    case 'appService':
      // App Service sets both generations (older clients such as az 2.45 read MSI_*, and take the
      // App Service path only when APPSETTING_WEBSITE_SITE_NAME is present).
      return {
        IDENTITY_ENDPOINT: `${urls.http}${PATHS.appService}`,
        IDENTITY_HEADER: secret,
        MSI_ENDPOINT: `${urls.http}${PATHS.appService}`,
        MSI_SECRET: secret,
        ...(hostName ? { APPSETTING_WEBSITE_SITE_NAME: hostName } : {}),
      };
    case 'cloudShell':
      return { MSI_ENDPOINT: `${urls.http}/${secret}${PATHS.cloudShell}` };
    case 'machineLearning':
      return {
        MSI_ENDPOINT: `${urls.http}${PATHS.machineLearning}`,
        MSI_SECRET: secret,
        ...(defaultClientId ? { DEFAULT_IDENTITY_CLIENT_ID: defaultClientId } : {}),
      };
    case 'serviceFabric':
      return {
        IDENTITY_ENDPOINT: `${urls.serviceFabric}${PATHS.serviceFabric}`,
        IDENTITY_HEADER: secret,
        IDENTITY_SERVER_THUMBPRINT: urls.serviceFabricThumbprint,
        IDENTITY_API_VERSION: '2019-07-01-preview',
      };
  }
}

export type FlavourDecision = { flavour: ServedFlavour; note?: string } | { flavour: undefined; reason: string };

/**
 * The flavour a host's code speaks. Azure Arc's challenge needs a root-owned directory
 * (see docs), so Arc machines are served through IMDS; hosts that run no user code have
 * no endpoint unless the caller names a flavour explicitly.
 */
export function decideFlavour(hostFlavour: TokenFlavour, hostName: string, override?: ServedFlavour): FlavourDecision {
  if (override) return { flavour: override, note: override === hostFlavour ? undefined : `serving the ${override} flavour although a ${hostName} uses ${hostFlavour}` };
  if (isServedFlavour(hostFlavour)) return { flavour: hostFlavour };
  if (hostFlavour === 'azureArc') {
    return {
      flavour: 'imds',
      note: "Azure Arc's token endpoint proves the caller can read a file under /var/opt/azcmagent/tokens (root-owned, and the SDKs accept no other path), which Mimic cannot provide without root; this machine is served through the IMDS flavour instead.",
    };
  }
  return {
    flavour: undefined,
    reason: `A ${hostName} runs no code of yours: Azure uses its managed identity inside the service itself, so it has no token endpoint. Use \`mimic token --as\` to see the token it would get, or name a flavour (--flavour imds) to run a program as its identity anyway.`,
  };
}
