// The portal's only way to Mimic: its public REST API with a bearer token from the local
// session endpoint (the administrator, or the principal being viewed as).
export interface Principal { objectId: string; displayName: string; type: string; isAdministrator: boolean }
export interface Session { accessToken: string; vaultToken: string; storageToken: string; principal: Principal; tenantId: string; subscriptionId: string }

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

let session: Session | undefined;

export async function signIn(principalId?: string): Promise<Session> {
  const r = await fetch('/_portal/session', { method: 'POST', headers: { 'x-mimic-portal': '1', 'content-type': 'application/json' }, body: JSON.stringify(principalId ? { principalId } : {}) });
  const body = await r.json();
  if (!r.ok) throw new ApiError(r.status, body?.error?.code ?? String(r.status), body?.error?.message ?? r.statusText);
  session = body as Session;
  return session;
}

export const AUTHZ_API = '2022-04-01';

/** One Resource Manager call; a refusal throws ApiError with Azure's code and message. */
export async function arm<T = any>(method: string, path: string, apiVersion: string, body?: unknown, query = ''): Promise<T> {
  if (!session) throw new ApiError(401, 'NotSignedIn', 'The portal has no session.');
  const sep = path.includes('?') ? '&' : '?';
  return send<T>(method, `${path}${sep}api-version=${apiVersion}${query}`, body);
}

/** A Key Vault data-plane call through the main origin's path form `/_vault/{vault}/...`. */
export function vault<T = any>(method: string, vaultName: string, path: string, body?: unknown): Promise<T> {
  return send<T>(method, `/_vault/${vaultName}${path}${path.includes('?') ? '&' : '?'}api-version=7.5`, body, session?.vaultToken);
}

/**
 * A Blob service call through the main origin's path form `/_storage/blob/{account}/...` with the
 * viewer's storage token. Storage answers in XML; errors carry `<Code>` and `<Message>`.
 */
export async function blob(method: string, account: string, path: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  if (!session) throw new ApiError(401, 'NotSignedIn', 'The portal has no session.');
  const r = await fetch(`/_storage/blob/${account}${path}`, { method, body, headers: { authorization: `Bearer ${session.storageToken}`, 'x-ms-version': '2023-11-03', ...headers } });
  if (!r.ok) {
    const doc = new DOMParser().parseFromString(await r.text(), 'application/xml');
    throw new ApiError(r.status, doc.querySelector('Code')?.textContent ?? r.headers.get('x-ms-error-code') ?? String(r.status), doc.querySelector('Message')?.textContent?.split('\n')[0] ?? r.statusText);
  }
  return r;
}

async function send<T>(method: string, url: string, body?: unknown, token = session?.accessToken): Promise<T> {
  if (!session) throw new ApiError(401, 'NotSignedIn', 'The portal has no session.');
  const r = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!r.ok) throw new ApiError(r.status, json?.error?.code ?? String(r.status), json?.error?.message ?? r.statusText);
  return json as T;
}

/** A list with every page: follows `nextLink` (same origin) until the last page. */
export async function armList<T = any>(path: string, apiVersion: string, query = ''): Promise<T[]> {
  let page = await arm<{ value: T[]; nextLink?: string }>('GET', path, apiVersion, undefined, query);
  const out = [...page.value];
  while (page.nextLink) {
    const next = new URL(page.nextLink);
    page = await send('GET', next.pathname + next.search);
    out.push(...page.value);
  }
  return out;
}

/** Resource Manager api-versions the portal sends per type (types without a list take any). */
const VERSIONS: Record<string, string> = {
  'microsoft.web/sites': '2023-12-01',
  'microsoft.app/containerapps': '2024-03-01',
  'microsoft.managedidentity/userassignedidentities': '2023-01-31',
  'microsoft.keyvault/vaults': '2023-07-01',
  'microsoft.storage/storageaccounts': '2023-05-01',
};
export const apiVersionOf = (type: string) => VERSIONS[type.toLowerCase()] ?? '2023-01-01';
export const typeOfId = (id: string) => {
  const s = id.split('/').filter(Boolean);
  const i = s.findIndex((x) => x.toLowerCase() === 'providers');
  if (i < 0) return s.length <= 2 ? 'Microsoft.Resources/subscriptions' : 'Microsoft.Resources/resourceGroups';
  return [s[i + 1], ...s.slice(i + 2).filter((_, k) => k % 2 === 0)].join('/');
};
export const nameOfId = (id: string) => id.split('/').filter(Boolean).pop() ?? id;
