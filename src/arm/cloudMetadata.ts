// Azure's cloud metadata document, `GET {resourceManager}/metadata/endpoints?api-version=...`:
// what `az cloud register --endpoint-resource-manager` and the SDKs' custom-cloud helpers read
// to learn the login endpoint, the audiences and the DNS suffixes. Asked on Mimic's origin
// (https://localhost:PORT) it names that origin for Resource Manager and login; asked under
// Azure's own name (through the proxy or the preload) it answers as Azure's public cloud does.
import type { ServerResponse } from 'node:http';
import { sendJson, type Request } from '../server/http.js';
import type { ModuleSetup } from '../server/context.js';

/** api-versions up to this one answer the original single-cloud shape (az 2.45 asks for 2015-01-01). */
const LEGACY_SHAPE_UNTIL = '2019-05-01';
const ARM_AUDIENCES = ['https://management.core.windows.net/', 'https://management.azure.com/'];

const SUFFIXES = {
  acrLoginServer: 'azurecr.io',
  attestationEndpoint: 'attest.azure.net',
  azureDataLakeAnalyticsCatalogAndJob: 'azuredatalakeanalytics.net',
  azureDataLakeStoreFileSystem: 'azuredatalakestore.net',
  keyVaultDns: 'vault.azure.net',
  mariadbServerEndpoint: 'mariadb.database.azure.com',
  mhsmDns: 'managedhsm.azure.net',
  mysqlServerEndpoint: 'mysql.database.azure.com',
  postgresqlServerEndpoint: 'postgres.database.azure.com',
  sqlServerHostname: 'database.windows.net',
  storage: 'core.windows.net',
  storageSyncEndpointSuffix: 'afs.azure.net',
  synapseAnalytics: 'dev.azuresynapse.net',
};

/** Resource Manager and login base URLs (with trailing slash) for the name the client used. */
function bases(req: Request, origin: string | undefined): { resourceManager: string; login: string } {
  const host = (req.header('host') ?? '').toLowerCase();
  const hostname = host.replace(/:\d+$/, '');
  if (hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]' || hostname === '') {
    const base = `https://${host || new URL(origin ?? 'https://localhost').host}/`;
    return { resourceManager: base, login: base };
  }
  return { resourceManager: 'https://management.azure.com/', login: 'https://login.microsoftonline.com/' };
}

export function cloudMetadata(req: Request, origin: string | undefined): unknown {
  const { resourceManager, login } = bases(req, origin);
  const apiVersion = req.query.get('api-version') ?? '';
  if (apiVersion < LEGACY_SHAPE_UNTIL) {
    return {
      galleryEndpoint: 'https://gallery.azure.com/',
      graphEndpoint: 'https://graph.windows.net/',
      portalEndpoint: 'https://portal.azure.com/',
      authentication: { loginEndpoint: login, audiences: ARM_AUDIENCES },
    };
  }
  return [
    {
      name: 'AzureCloud',
      portal: 'https://portal.azure.com',
      resourceManager,
      authentication: { loginEndpoint: login, audiences: ARM_AUDIENCES, tenant: 'common', identityProvider: 'AAD' },
      graph: 'https://graph.windows.net/',
      graphAudience: 'https://graph.windows.net/',
      microsoftGraphResourceId: 'https://graph.microsoft.com/',
      activeDirectoryDataLake: 'https://datalake.azure.net/',
      batch: 'https://batch.core.windows.net/',
      gallery: 'https://gallery.azure.com/',
      media: 'https://rest.media.azure.net',
      sqlManagement: 'https://management.core.windows.net:8443/',
      appInsightsResourceId: 'https://api.applicationinsights.io',
      appInsightsTelemetryChannelResourceId: 'https://dc.applicationinsights.azure.com/v2/track',
      attestationResourceId: 'https://attest.azure.net',
      logAnalyticsResourceId: 'https://api.loganalytics.io',
      ossrdbmsResourceId: 'https://ossrdbms-aad.database.windows.net',
      synapseAnalyticsResourceId: 'https://dev.azuresynapse.net',
      suffixes: SUFFIXES,
    },
  ];
}

export function sendCloudMetadata(req: Request, res: ServerResponse, origin: string | undefined): void {
  if (req.method !== 'GET') {
    return sendJson(res, 405, { error: { code: 'MethodNotAllowed', message: `The requested resource does not support http method '${req.method}'.` } });
  }
  sendJson(res, 200, cloudMetadata(req, origin));
}

/** Serves the document on the main origin (no token: Azure serves it anonymously). */
export const setupCloudMetadata: ModuleSetup = (ctx) => {
  ctx.originRoutes.push({
    matches: (req) => req.path.toLowerCase() === '/metadata/endpoints',
    handle: (req, res) => sendCloudMetadata(req, res, ctx.origin),
  });
};
