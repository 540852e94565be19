// REST helpers for the authorization tests: calls to a running Mimic as the administrator or as
// an app registration whose token comes from the token endpoint.
import type { MimicClient, HttpResult } from '../../src/cli/client.js';
import { armCaller } from '../helpers/arm.js';

export const API = '2022-04-01';
export const DIRECTORY_API = '2024-01-01';

export const ROLE = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  managedIdentityContributor: 'e40ec5ca-96e0-45a2-b4ff-59039f2c2b59',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
} as const;

export interface Rest {
  client: MimicClient;
  subscriptionId: string;
  /** Sends a Resource Manager request with a bearer token; `api-version` is added when missing. */
  call(method: string, path: string, body?: unknown, token?: string): Promise<HttpResult & { body: any }>;
  adminToken(): Promise<string>;
  /** A management token for an app registration from the token endpoint (client credentials). */
  appToken(appId: string, secret: string): Promise<string>;
  createApp(displayName: string): Promise<{ appId: string; objectId: string; password: string }>;
}

export async function rest(dataDir: string): Promise<Rest> {
  const caller = await armCaller(dataDir, API);
  const client = caller.client;
  const r: Rest = {
    client,
    subscriptionId: client.endpoints.subscriptionId,
    call: (method, path, body, token) => caller.call(method, path, body, API, token),
    adminToken: () => client.adminToken(),
    async appToken(appId, secret) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope: 'https://management.azure.com/.default' });
      const res = await client.send('POST', `${client.endpoints.authorityHost}/${client.endpoints.tenantId}/oauth2/v2.0/token`, form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
      return res.json<{ access_token: string }>().access_token;
    },
    async createApp(displayName) {
      const res = await r.call('POST', `/providers/Mimic.Directory/applications?api-version=${DIRECTORY_API}`, { displayName });
      if (res.status !== 201) throw new Error(`app create failed: ${res.status} ${res.text}`);
      return res.body;
    },
  };
  return r;
}

export function roleId(subscriptionId: string, guid: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
}

export function assignmentPath(scope: string, name: string): string {
  return `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
}
