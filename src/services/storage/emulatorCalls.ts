// Mimic's own calls to the emulator, signed with the account's key over Azurite's loopback
// listener: provisioning containers, queues and tables created through the Resource Manager,
// purging an account's data when it is deleted, and the two look-ups the gate needs (does a
// blob exist, what are its index tags).
import http from 'node:http';
import type { AzuriteBackend, StorageService } from './azurite.js';
import type { StorageAccount, StorageAccounts } from './accounts.js';
import { encodePath, errorCodeOf, storageCall, type StorageReply } from './client.js';
import { parseTagXml } from './attributes.js';

export class EmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'EmulatorError';
  }
}

export interface BlobRef {
  container: string;
  name: string;
  snapshot?: string;
  versionId?: string;
}

export class EmulatorCalls {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly backend: AzuriteBackend,
    private readonly accounts: StorageAccounts,
  ) {}

  close(): void {
    this.agent.destroy();
  }

  async call(service: StorageService, account: StorageAccount, method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, body?: string | Buffer): Promise<StorageReply> {
    const key = this.accounts.primaryKey(account);
    if (!key) throw new EmulatorError(500, undefined, `storage account '${account.name}' has no keys`);
    const origin = await this.backend.origin(service);
    const qs = new URLSearchParams(query).toString();
    return storageCall({
      method,
      url: `${origin}/${account.name}${path}${qs ? `?${qs}` : ''}`,
      headers,
      ...(body !== undefined ? { body } : {}),
      sharedKey: { service, account: account.name, key },
      agent: this.agent,
    });
  }

  private blobQuery(blob: BlobRef, extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(blob.snapshot ? { snapshot: blob.snapshot } : {}), ...(blob.versionId ? { versionid: blob.versionId } : {}) };
  }

  async blobExists(account: StorageAccount, blob: BlobRef): Promise<boolean> {
    const r = await this.call('blob', account, 'HEAD', `/${encodePath(blob.container)}/${encodePath(blob.name)}`, this.blobQuery(blob));
    return r.status === 200;
  }

  /** The blob's index tags; undefined when the blob does not exist. */
  async blobTags(account: StorageAccount, blob: BlobRef): Promise<Map<string, string> | undefined> {
    const r = await this.call('blob', account, 'GET', `/${encodePath(blob.container)}/${encodePath(blob.name)}`, this.blobQuery(blob, { comp: 'tags' }));
    if (r.status !== 200) return undefined;
    return parseTagXml(r.body.toString('utf8'));
  }

  async createContainer(account: StorageAccount, name: string, publicAccess: string | undefined, metadata: Record<string, string>): Promise<void> {
    const access: Record<string, string> = publicAccess && publicAccess.toLowerCase() !== 'none' ? { 'x-ms-blob-public-access': publicAccess.toLowerCase() } : {};
    const meta = metaHeaders(metadata);
    const r = await this.call('blob', account, 'PUT', `/${name}`, { restype: 'container' }, { ...access, ...meta });
    if (r.status === 201) return;
    if (errorCodeOf(r) !== 'ContainerAlreadyExists') throw failure('create container', name, r);
    // Already there (e.g. created through the data plane): bring its settings in line.
    expectOk(await this.call('blob', account, 'PUT', `/${name}`, { restype: 'container', comp: 'acl' }, access), 'set the access level of container', name);
    expectOk(await this.call('blob', account, 'PUT', `/${name}`, { restype: 'container', comp: 'metadata' }, meta), 'set the metadata of container', name);
  }

  async deleteContainer(account: StorageAccount, name: string): Promise<void> {
    const r = await this.call('blob', account, 'DELETE', `/${name}`, { restype: 'container' });
    if (r.status !== 202 && r.status !== 404) throw failure('delete container', name, r);
  }

  async createQueue(account: StorageAccount, name: string, metadata: Record<string, string>): Promise<void> {
    const meta = metaHeaders(metadata);
    const r = await this.call('queue', account, 'PUT', `/${name}`, {}, meta);
    if (r.status === 201) return;
    if (r.status === 204 || errorCodeOf(r) === 'QueueAlreadyExists') {
      expectOk(await this.call('queue', account, 'PUT', `/${name}`, { comp: 'metadata' }, meta), 'set the metadata of queue', name);
      return;
    }
    throw failure('create queue', name, r);
  }

  async deleteQueue(account: StorageAccount, name: string): Promise<void> {
    const r = await this.call('queue', account, 'DELETE', `/${name}`);
    if (r.status !== 204 && r.status !== 404) throw failure('delete queue', name, r);
  }

  async createTable(account: StorageAccount, name: string): Promise<void> {
    const r = await this.call('table', account, 'POST', '/Tables', {}, { 'content-type': 'application/json', accept: 'application/json;odata=nometadata', prefer: 'return-no-content' }, JSON.stringify({ TableName: name }));
    if (r.status === 201 || r.status === 204 || errorCodeOf(r) === 'TableAlreadyExists') return;
    throw failure('create table', name, r);
  }

  async deleteTable(account: StorageAccount, name: string): Promise<void> {
    const r = await this.call('table', account, 'DELETE', `/Tables('${encodeURIComponent(name)}')`, {}, { accept: 'application/json;odata=nometadata' });
    if (r.status !== 204 && r.status !== 404) throw failure('delete table', name, r);
  }

  /** Deletes every container, queue and table of the account (before the account goes). */
  async purgeAccount(account: StorageAccount): Promise<void> {
    const containers = await this.call('blob', account, 'GET', '/', { comp: 'list' });
    for (const name of xmlNames(containers)) await this.deleteContainer(account, name);
    const queues = await this.call('queue', account, 'GET', '/', { comp: 'list' });
    for (const name of xmlNames(queues)) await this.deleteQueue(account, name);
    const tables = await this.call('table', account, 'GET', '/Tables', {}, { accept: 'application/json;odata=nometadata' });
    if (tables.status === 200) {
      const list = (JSON.parse(tables.body.toString('utf8')) as { value?: Array<{ TableName?: string }> }).value ?? [];
      for (const t of list) if (t.TableName) await this.deleteTable(account, t.TableName);
    }
  }
}

function metaHeaders(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`x-ms-meta-${k}`, v]));
}

function xmlNames(r: StorageReply): string[] {
  if (r.status !== 200) return [];
  return [...r.body.toString('utf8').matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]!);
}

function failure(what: string, name: string, r: StorageReply): EmulatorError {
  const code = errorCodeOf(r);
  return new EmulatorError(r.status, code, `could not ${what} '${name}': ${r.status}${code ? ` ${code}` : ''}`);
}

function expectOk(r: StorageReply, what: string, name: string): void {
  if (r.status >= 300) throw failure(what, name, r);
}
