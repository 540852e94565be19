// Shared pieces of the managed-identity tests: resources created through the Resource
// Manager service, raw HTTP requests to the token endpoints, and token verification against
// the JWKS that Mimic's discovery document names (with jose, as a resource server would).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { TestMimic } from '../helpers/mimic.js';
import type { Caller } from '../../src/arm/model.js';
import type { ResourceId } from '../../src/arm/ids.js';
import { asEnvironment } from '../../src/cli/commands/identityRuntime.js';

export function adminCaller(m: TestMimic): Caller {
  const t = m.context.tenant;
  return { objectId: t.adminObjectId, appId: t.adminAppId, tenantId: t.tenantId, type: 'Application' };
}

export function rid(m: TestMimic, rg: string, namespace: string, types: string[], names: string[]): ResourceId {
  return { subscriptionId: m.context.tenant.subscriptionId, resourceGroup: rg, namespace, types, names };
}

export async function createGroup(m: TestMimic, rg: string): Promise<void> {
  await m.arm.putResourceGroup(adminCaller(m), m.context.tenant.subscriptionId, rg, { location: 'eastus' });
}

export interface Uai {
  id: string;
  principalId: string;
  clientId: string;
}

export async function createUai(m: TestMimic, rg: string, name: string): Promise<Uai> {
  const r = await m.arm.putResource(adminCaller(m), rid(m, rg, 'Microsoft.ManagedIdentity', ['userAssignedIdentities'], [name]), { location: 'eastus' }, 'put');
  const props = r.body.properties as { principalId: string; clientId: string };
  return { id: r.body.id as string, principalId: props.principalId, clientId: props.clientId };
}

export function identityBody(system: boolean, users: Uai[] = []): Record<string, unknown> {
  const type = system && users.length ? 'SystemAssigned, UserAssigned' : system ? 'SystemAssigned' : users.length ? 'UserAssigned' : 'None';
  return { type, ...(users.length ? { userAssignedIdentities: Object.fromEntries(users.map((u) => [u.id, {}])) } : {}) };
}

export interface Host {
  id: string;
  principalId?: string;
}

/** Creates (or replaces) a resource; `path` alternates type and name segments after the namespace. */
export async function putHost(m: TestMimic, rg: string, namespace: string, path: string[], body: Record<string, unknown>, mode: 'put' | 'patch' = 'put'): Promise<Host> {
  const types = path.filter((_, i) => i % 2 === 0);
  const names = path.filter((_, i) => i % 2 === 1);
  const r = await m.arm.putResource(adminCaller(m), rid(m, rg, namespace, types, names), { ...(types.length === 1 && mode === 'put' ? { location: 'eastus' } : {}), ...body }, mode);
  return { id: r.body.id as string, principalId: (r.body.identity as { principalId?: string } | undefined)?.principalId };
}

/** The `mimic env --as` environment, obtained in-process through the same admin API call. */
export async function envAs(m: TestMimic, resource: string, flavour?: string): Promise<Record<string, string>> {
  return (await asEnvironment({ as: resource, flavour, dataDir: m.dataDir })).env;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** A raw HTTP(S) request with exactly the given path (no URL normalisation). */
export function raw(url: string, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; ca?: string } = {}): Promise<RawResponse> {
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (isHttps ? httpsRequest : httpRequest)(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? u.pathname + u.search,
        headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        ...(isHttps ? { ca: opts.ca, servername: u.hostname } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export async function caOf(m: TestMimic): Promise<string> {
  return readFile(m.endpoints.caCertFile, 'utf8');
}

/** Verifies a token the way a resource server does: keys from the discovery document's jwks_uri. */
export async function verifyToken(m: TestMimic, token: string, audience: string): Promise<JWTPayload & Record<string, unknown>> {
  const ca = await caOf(m);
  const tenantId = m.context.tenant.tenantId;
  const discovery = (await raw(`${m.endpoints.origin}/${tenantId}/.well-known/openid-configuration`, { ca })).json as { jwks_uri: string; issuer: string };
  const jwks = (await raw(discovery.jwks_uri, { ca })).json as unknown as Parameters<typeof createLocalJWKSet>[0];
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: discovery.issuer, audience, algorithms: ['RS256'] });
  if (protectedHeader.kid !== protectedHeader.x5t) throw new Error('v1 tokens carry x5t equal to kid');
  return payload as JWTPayload & Record<string, unknown>;
}

/** Azure writes xms_mirid with the resource-group segment lower-cased. */
export function mirid(id: string): string {
  return id.replace(/(\/resourcegroups\/)([^/]+)/i, (_m, _p: string, rg: string) => `/resourcegroups/${rg.toLowerCase()}`);
}

/** Runs async jobs with at most `limit` at a time (child processes on a 2-core machine). */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
