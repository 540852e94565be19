// The soak's mixed load against one running Mimic: token mints through the managed-identity
// (IMDS) endpoint and the token service, Resource Manager reads and writes (identities, role
// assignments created and deleted), Key Vault getSecret/setSecret and blob reads/writes, sent
// open-loop at a fixed rate. Shared by the soak benchmark and the soak test, with the
// sampler of a process's memory and open handles from /proc.
import http from 'node:http';
import https from 'node:https';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface MimicTarget {
  origin: string;
  ca: string;
  tenantId: string;
  subscriptionId: string;
  admin: { clientId: string; clientSecret: string };
}

interface Reply {
  status: number;
  text: string;
}

const ARM = 'https://management.azure.com';
const VAULT = 'https://vault.azure.net';
const STORAGE = 'https://storage.azure.com';
const SECRETS_OFFICER = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7';
const BLOB_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
/** Names writes rotate through, so the amount of data stays bounded and growth means a leak. */
const ROTATION = 16;
/** Distinct audiences the IMDS client asks for (an app talks to a bounded set of resources). */
const AUDIENCES = 64;
/** How often the load swaps its working tokens for freshly minted ones, as SDKs refresh theirs. */
const TOKEN_REFRESH_MS = 20_000;

export interface OpStats {
  requests: Record<string, number>;
  errors: Record<string, number>;
  errorSamples: string[];
}

export class MixedLoad {
  readonly stats: OpStats = { requests: {}, errors: {}, errorSamples: [] };
  private readonly agent: https.Agent;
  private readonly imdsAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly tokens = new Map<string, string>();
  private refreshedAt = 0;
  private counter = 0;
  private readonly rg: string;
  private readonly vaultHost: string;
  private imds = '';
  private blobBase = '';
  private adminOid = '';

  private constructor(
    private readonly t: MimicTarget,
    name: string,
    /**
     * `steady`: no write that creates a new key (no new secret versions; role assignments reuse
     * a fixed set of names), so the bounded read caches stop growing once warm: what grows then
     * is not data.
     */
    private readonly mix: 'full' | 'steady' = 'full',
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: t.ca });
    this.rg = `/subscriptions/${t.subscriptionId}/resourceGroups/${name}`;
    this.vaultHost = `${name}vault.vault.azure.net`;
  }

  /** Creates what the load uses: a group, a VM with a system-assigned identity, a vault, a storage account. */
  static async prepare(t: MimicTarget, name = 'soak', mix: 'full' | 'steady' = 'full'): Promise<MixedLoad> {
    const l = new MixedLoad(t, name, mix);
    for (const aud of [ARM, VAULT, STORAGE]) l.tokens.set(aud, await l.stsToken(aud));
    l.refreshedAt = Date.now();
    l.adminOid = JSON.parse(Buffer.from(l.tokens.get(ARM)!.split('.')[1]!, 'base64url').toString()).oid;
    await l.arm('PUT', l.rg, '2025-04-01', { location: 'eastus' });
    const vm = `${l.rg}/providers/Microsoft.Compute/virtualMachines/vm`;
    await l.arm('PUT', vm, '2024-07-01', { location: 'eastus', identity: { type: 'SystemAssigned' }, properties: {} });
    const env = JSON.parse((await l.arm('POST', `/subscriptions/${t.subscriptionId}/providers/Mimic.ManagedIdentity/hostCredentials`, '2025-01-01', { host: 'vm' })).text).environment;
    l.imds = `${env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=`;
    const vaultId = `${l.rg}/providers/Microsoft.KeyVault/vaults/${name}vault`;
    await l.arm('PUT', vaultId, '2026-02-01', { location: 'eastus', properties: { tenantId: t.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true } });
    const accountId = `${l.rg}/providers/Microsoft.Storage/storageAccounts/${name}acct`;
    const account = JSON.parse((await l.arm('PUT', accountId, '2023-05-01', { location: 'eastus', kind: 'StorageV2', sku: { name: 'Standard_LRS' } })).text);
    await l.arm('PUT', `${accountId}/blobServices/default/containers/box`, '2023-05-01', { properties: {} });
    for (const role of [SECRETS_OFFICER, BLOB_CONTRIBUTOR]) await l.assign(role, l.adminOid);
    l.blobBase = `${account.properties.primaryEndpoints.blob}box/`;
    for (let i = 0; i < ROTATION; i++) {
      await l.expect(l.kv('PUT', `/secrets/s${i}`, { value: `v${i}` }), [200], 'seed secret');
      await l.expect(l.blob('PUT', `b${i}`, randomBytes(1024)), [201], 'seed blob');
    }
    return l;
  }

  /** The operations and their weights (a mix in which reads dominate, as in most apps). */
  private readonly ops: Array<[string, number, () => Promise<void>]> = [
    ['imds.token (cached)', 4, () => this.expect(this.get(`${this.imds}${encodeURIComponent(ARM + '/')}`), [200], 'imds')],
    ['imds.token (audience of a set of 64)', 1, () => this.expect(this.get(`${this.imds}${encodeURIComponent(`https://soak${this.counter++ % AUDIENCES}.blob.core.windows.net/`)}`), [200], 'imds')],
    ['sts.token (client secret)', 2, () => this.stsToken([ARM, VAULT, STORAGE][this.counter++ % 3]!).then(() => undefined)],
    ['arm.read', 4, () => this.expect(this.send('GET', `${this.rg}?api-version=2025-04-01`, ARM), [200], 'arm read')],
    ['arm.write (identity)', 1, () => this.expect(this.send('PUT', `${this.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id${this.counter++ % ROTATION}?api-version=2023-01-31`, ARM, { location: 'eastus', tags: { n: String(this.counter) } }), [200, 201], 'arm write')],
    ['arm.roleAssignment create+delete', 1, () => this.roleAssignmentRoundTrip()],
    ['keyvault.getSecret', 4, () => this.expect(this.kv('GET', `/secrets/s${this.counter++ % ROTATION}/`), [200], 'getSecret')],
    ['keyvault.setSecret', 1, () => this.expect(this.kv('PUT', `/secrets/s${this.counter++ % ROTATION}`, { value: randomUUID() }), [200], 'setSecret')],
    ['blob.read', 4, () => this.expect(this.blob('GET', `b${this.counter++ % ROTATION}`), [200], 'blob read')],
    ['blob.write', 1, () => this.expect(this.blob('PUT', `b${this.counter++ % ROTATION}`, randomBytes(1024)), [201], 'blob write')],
  ];

  /** Sends the mix at `rps` requests per second (at most `maxInFlight` at once) for `ms`. */
  async run(rps: number, ms: number, maxInFlight = 16): Promise<void> {
    // Every new secret version is a new key: the steady mix leaves setSecret out.
    const ops = this.ops.filter(([name]) => this.mix === 'full' || name !== 'keyvault.setSecret');
    const total = ops.reduce((s, [, w]) => s + w, 0);
    const wheel = ops.flatMap((op) => Array<(typeof ops)[number]>(op[1]).fill(op));
    let inFlight = 0;
    let sent = 0;
    const start = Date.now();
    const pending = new Set<Promise<void>>();
    while (Date.now() - start < ms) {
      const due = Math.floor(((Date.now() - start) / 1000) * rps);
      while (sent < due && inFlight < maxInFlight) {
        const [name, , fn] = wheel[(sent * 7) % total]!;
        sent++;
        inFlight++;
        this.stats.requests[name] = (this.stats.requests[name] ?? 0) + 1;
        const p: Promise<void> = this.refreshTokens()
          .then(fn)
          .catch((err: Error) => this.fail(name, err.message))
          .finally(() => {
            inFlight--;
            pending.delete(p);
          });
        pending.add(p);
      }
      // Behind schedule (the server is slower than the rate): skip rather than pile up.
      if (sent < due - rps) sent = due;
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
  }

  /** Closes the client's keep-alive connections. */
  close(): void {
    this.agent.destroy();
    this.imdsAgent.destroy();
  }

  totalRequests(): number {
    return Object.values(this.stats.requests).reduce((a, b) => a + b, 0);
  }

  totalErrors(): number {
    return Object.values(this.stats.errors).reduce((a, b) => a + b, 0);
  }

  private fail(name: string, message: string): void {
    this.stats.errors[name] = (this.stats.errors[name] ?? 0) + 1;
    if (this.stats.errorSamples.length < 20) this.stats.errorSamples.push(`${name}: ${message.slice(0, 300)}`);
  }

  private async refreshTokens(): Promise<void> {
    if (Date.now() - this.refreshedAt < TOKEN_REFRESH_MS) return;
    this.refreshedAt = Date.now();
    for (const aud of [ARM, VAULT, STORAGE]) this.tokens.set(aud, await this.stsToken(aud));
  }

  /** One role assignment round trip at a time: two at once would name the same (scope, principal, role). */
  private roleLock: Promise<void> = Promise.resolve();
  private roleNames = 0;

  private roleAssignmentRoundTrip(): Promise<void> {
    const next = this.roleLock.then(() => this.roleAssignmentCreateDelete());
    this.roleLock = next.catch(() => undefined);
    return next;
  }

  private async roleAssignmentCreateDelete(): Promise<void> {
    const name = this.mix === 'full' ? randomUUID() : `00000000-0000-4000-8000-${String(this.roleNames++ % ROTATION).padStart(12, '0')}`;
    const id = `${this.rg}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    await this.expect(
      this.send('PUT', `${id}?api-version=2022-04-01`, ARM, { properties: { roleDefinitionId: `/subscriptions/${this.t.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: this.adminOid, principalType: 'ServicePrincipal' } }),
      [201],
      'role assignment create',
    );
    await this.expect(this.send('DELETE', `${id}?api-version=2022-04-01`, ARM), [200], 'role assignment delete');
  }

  private async assign(role: string, principalId: string): Promise<void> {
    await this.arm('PUT', `${this.rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`, '2022-04-01', { properties: { roleDefinitionId: `/subscriptions/${this.t.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId, principalType: 'ServicePrincipal' } });
  }

  private async expect(p: Promise<Reply>, statuses: number[], what: string): Promise<void> {
    const r = await p;
    if (!statuses.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
  }

  private async arm(method: string, path: string, apiVersion: string, body?: unknown): Promise<Reply> {
    const r = await this.send(method, `${path}?api-version=${apiVersion}`, ARM, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r;
  }

  private kv(method: string, path: string, body?: unknown): Promise<Reply> {
    return this.send(method, `${path}?api-version=2025-07-01`, VAULT, body, { host: this.vaultHost });
  }

  private blob(method: string, name: string, data?: Buffer): Promise<Reply> {
    return this.request(`${this.blobBase}${name}`, method, { authorization: `Bearer ${this.tokens.get(STORAGE)}`, 'x-ms-version': '2025-11-05', 'x-ms-date': new Date().toUTCString(), ...(data ? { 'x-ms-blob-type': 'BlockBlob' } : {}) }, data);
  }

  private send(method: string, path: string, audience: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return this.request(`${this.t.origin}${path}`, method, { authorization: `Bearer ${this.tokens.get(audience)}`, ...headers, ...(text ? { 'content-type': 'application/json' } : {}) }, text);
  }

  private async stsToken(audience: string): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.t.admin.clientId, client_secret: this.t.admin.clientSecret, scope: `${audience}/.default` }).toString();
    const r = await this.request(`${this.t.origin}/${this.t.tenantId}/oauth2/v2.0/token`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, form);
    if (r.status !== 200) throw new Error(`sts token: ${r.status} ${r.text.slice(0, 200)}`);
    return JSON.parse(r.text).access_token as string;
  }

  private get(url: string): Promise<Reply> {
    return this.request(url, 'GET', { Metadata: 'true' });
  }

  private request(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<Reply> {
    const u = new URL(url);
    const isHttps = u.protocol === 'https:';
    const send = (isHttps ? https.request : http.request) as typeof http.request;
    const h: Record<string, string> = { ...headers, 'content-length': String(body === undefined ? 0 : Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      const req = send(u, { method, headers: h, agent: isHttps ? this.agent : this.imdsAgent, timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out after 30 s')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

export interface ProcessSample {
  /** Milliseconds since sampling started. */
  t: number;
  rssKb: number;
  fds: number;
  sockets: number;
}

/** RSS (VmRSS), open file descriptors and how many of them are sockets, of a Linux process. */
export function sampleProcess(pid: number, t = 0): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return { t, rssKb, fds, sockets };
}
