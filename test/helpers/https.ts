// Plain HTTPS calls to a test Mimic, trusting its CA, for tests that check raw status codes and bodies.
import { request } from 'node:https';
import type { Mimic } from '../../src/server/app.js';

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function call(mimic: Mimic, method: string, url: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Response> {
  const full = url.startsWith('https://') ? url : mimic.endpoints.origin + url;
  return new Promise((resolve, reject) => {
    const req = request(full, { method, ca: mimic.context.tls.caCertPem, headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A management token for the administrator, from the token endpoint. */
export async function adminToken(mimic: Mimic & { adminEnv: Record<string, string> }, resource = 'https://management.azure.com/'): Promise<string> {
  const env = mimic.adminEnv;
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: env.AZURE_CLIENT_ID!, client_secret: env.AZURE_CLIENT_SECRET!, scope: `${resource.replace(/\/$/, '')}/.default` });
  const r = await call(mimic, 'POST', `/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`, { body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (r.status !== 200) throw new Error(`token request failed: ${r.status} ${r.text}`);
  return r.json.access_token as string;
}
