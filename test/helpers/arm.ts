// Resource Manager calls from tests, as the administrator (or with a given token), through the
// CLI's own REST client: the body comes back parsed.
import { MimicClient, type HttpResult } from '../../src/cli/client.js';

export type ArmResponse = HttpResult & { body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ArmCaller {
  client: MimicClient;
  sub: string;
  /** Sends a request with a bearer token (the administrator's unless given); `api-version` is added when missing. */
  call(method: string, path: string, body?: unknown, apiVersion?: string, token?: string): Promise<ArmResponse>;
}

export async function armCaller(dataDir: string, defaultApiVersion: string): Promise<ArmCaller> {
  const client = await MimicClient.open(dataDir);
  return {
    client,
    sub: `/subscriptions/${client.endpoints.subscriptionId}`,
    async call(method, path, body, apiVersion = defaultApiVersion, token) {
      const url = new URL(client.endpoints.armEndpoint + path);
      if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', apiVersion);
      const res = await client.send(method, url.toString(), body === undefined ? undefined : JSON.stringify(body), {
        authorization: `Bearer ${token ?? (await client.adminToken())}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      });
      let parsed: unknown;
      try {
        parsed = res.text ? JSON.parse(res.text) : undefined;
      } catch {
        parsed = res.text;
      }
      return Object.assign(res, { body: parsed });
    },
  };
}
