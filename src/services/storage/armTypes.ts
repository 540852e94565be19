// Resource Manager behaviour of Microsoft.Storage: storage accounts (keys, default
// services, endpoints pointing at Mimic's gates, provisioning in the emulator), and the
// containers, queues and tables under them, which exist in the emulator as soon as the
// Resource Manager creates them so role assignments can target them.
import { ArmError } from '../../arm/errors.js';
import { keyOf } from '../../arm/ids.js';
import { identityView } from '../../arm/identity.js';
import { RESOURCES, type StoredResource, type SystemData } from '../../arm/model.js';
import { validateResourceName } from '../../arm/names.js';
import type { ResourceTypeHooks } from '../../arm/resourceTypes.js';
import { pairedRegion } from '../../arm/locations.js';
import type { Sealer } from '../../crypto/masterKey.js';
import type { Op, Store } from '../../store/types.js';
import { keysOp, newAccountKeys, STORAGE_ACCOUNT_TYPE, STORAGE_KEYS, type StorageAccount, type StorageAccounts } from './accounts.js';
import type { AzuriteBackend, StorageService } from './azurite.js';
import type { EmulatorCalls } from './emulatorCalls.js';
import type { MirrorKind } from './operation.js';

export const SERVICE_TYPES: Record<StorageService | 'file', string> = {
  blob: 'Microsoft.Storage/storageAccounts/blobServices',
  queue: 'Microsoft.Storage/storageAccounts/queueServices',
  table: 'Microsoft.Storage/storageAccounts/tableServices',
  file: 'Microsoft.Storage/storageAccounts/fileServices',
};
export const CHILD_TYPES: Record<MirrorKind, { type: string; service: StorageService; segment: string }> = {
  container: { type: 'Microsoft.Storage/storageAccounts/blobServices/containers', service: 'blob', segment: 'containers' },
  queue: { type: 'Microsoft.Storage/storageAccounts/queueServices/queues', service: 'queue', segment: 'queues' },
  table: { type: 'Microsoft.Storage/storageAccounts/tableServices/tables', service: 'table', segment: 'tables' },
};

const KINDS = ['StorageV2', 'Storage', 'BlobStorage', 'BlockBlobStorage', 'FileStorage'];
const SKUS = ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_ZRS', 'Premium_LRS', 'Premium_ZRS', 'Standard_GZRS', 'Standard_RAGZRS'];
const GEO_SKUS = ['Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'];
const READ_ACCESS_GEO_SKUS = ['Standard_RAGRS', 'Standard_RAGZRS'];
const QUEUE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

export interface StorageArmDeps {
  accounts: StorageAccounts;
  store: Store;
  backend: AzuriteBackend;
  emulator: EmulatorCalls;
  sealer: Sealer;
  /** `https://127.0.0.1:PORT/<account>/` per service, from the gates' ports. */
  endpoint(service: StorageService, account: string): string;
}

export function validateAccountName(name: string): void {
  if (!ACCOUNT_NAME.test(name)) {
    throw new ArmError(400, 'AccountNameInvalid', `'${name}' cannot be a storage account name: use 3 to 24 characters, only digits and lower-case letters.`);
  }
}

type Props = Record<string, unknown>;

/** The account's settings as stored: what the caller set, plus Azure's defaults. */
function accountProperties(doc: StoredResource, previous: StoredResource | undefined, requested: Props): Props {
  const prev = (previous?.properties ?? {}) as Props;
  const now = new Date().toISOString();
  for (const flag of ['allowSharedKeyAccess', 'allowBlobPublicAccess', 'isHnsEnabled', 'supportsHttpsTrafficOnly', 'allowCrossTenantReplication', 'defaultToOAuthAuthentication']) {
    const v = requested[flag];
    if (v !== undefined && v !== null && typeof v !== 'boolean') throw new ArmError(400, 'InvalidRequestContent', `The value of 'properties.${flag}' must be a boolean.`, `properties.${flag}`);
  }
  if (previous && requested.isHnsEnabled !== undefined && requested.isHnsEnabled !== (prev.isHnsEnabled ?? false)) {
    throw new ArmError(400, 'InvalidRequestPropertyValue', 'The hierarchical namespace setting of an existing storage account cannot be changed.', 'properties.isHnsEnabled');
  }
  const merged: Props = {
    allowBlobPublicAccess: false,
    minimumTlsVersion: 'TLS1_2',
    supportsHttpsTrafficOnly: true,
    isHnsEnabled: false,
    networkAcls: { bypass: 'AzureServices', virtualNetworkRules: [], ipRules: [], defaultAction: 'Allow' },
    encryption: { services: { blob: { enabled: true, keyType: 'Account' }, file: { enabled: true, keyType: 'Account' } }, keySource: 'Microsoft.Storage' },
    ...(doc.kind === 'StorageV2' || doc.kind === 'BlobStorage' ? { accessTier: 'Hot' } : {}),
    ...prev,
    ...requested,
  };
  // An update naming only some networkAcls fields keeps Azure's defaults for the others.
  const acls = merged.networkAcls;
  if (acls === null || typeof acls !== 'object' || Array.isArray(acls)) throw new ArmError(400, 'InvalidRequestContent', "'properties.networkAcls' must be an object.", 'properties.networkAcls');
  merged.networkAcls = { bypass: 'AzureServices', virtualNetworkRules: [], ipRules: [], defaultAction: 'Allow', ...(acls as Props) };
  // Azure records when each encryption service was switched on.
  const enc = merged.encryption as { services?: Record<string, Props> } | undefined;
  const prevServices = (prev.encryption as { services?: Record<string, Props> } | undefined)?.services ?? {};
  if (enc && typeof enc === 'object' && enc.services && typeof enc.services === 'object') {
    for (const [name, svc] of Object.entries(enc.services)) {
      if (svc && typeof svc === 'object' && svc.enabled !== false) svc.lastEnabledTime = prevServices[name]?.lastEnabledTime ?? now;
    }
  }
  merged.provisioningState = 'Succeeded';
  merged.creationTime = prev.creationTime ?? now;
  merged.primaryLocation = doc.location;
  merged.statusOfPrimary = 'available';
  // Geo-redundant SKUs replicate to the region's pair.
  const secondary = GEO_SKUS.includes(String((doc.sku as { name?: string } | undefined)?.name)) ? (pairedRegion(doc.location ?? '') ?? 'westus') : undefined;
  if (secondary) {
    merged.secondaryLocation = secondary;
    merged.statusOfSecondary = 'available';
  } else {
    delete merged.secondaryLocation;
    delete merged.statusOfSecondary;
  }
  merged.keyCreationTime = prev.keyCreationTime ?? { key1: now, key2: now };
  delete merged.primaryEndpoints;
  return merged;
}

function childDoc(id: string, name: string, type: string, systemData: SystemData, properties: Props): StoredResource {
  return { id, name, type, properties, systemData };
}

/** An entity tag in Storage's form ("0x" and the hex of a timestamp-like counter). */
function newEtag(): string {
  return `"0x${(Date.now() * 1000 + Math.floor(Math.random() * 1000)).toString(16).toUpperCase()}"`;
}

export function storageAccountHooks(d: StorageArmDeps): ResourceTypeHooks {
  return {
    type: STORAGE_ACCOUNT_TYPE,
    // Azure answers 200 (or 202 and polling) to a create; clients such as az refuse 201.
    createdStatus: 200,
    validateName: validateAccountName,
    async beforeWrite(doc, ctx) {
      const taken = d.accounts.get(doc.name);
      if (!ctx.previous && taken && taken.key !== keyOf(doc.id)) {
        throw new ArmError(409, 'StorageAccountAlreadyTaken', `The storage account named ${doc.name} is already taken.`);
      }
      doc.kind = typeof ctx.body.kind === 'string' ? ctx.body.kind : (ctx.previous?.kind ?? 'StorageV2');
      if (!KINDS.includes(doc.kind)) throw new ArmError(400, 'InvalidValuesForRequestParameters', `The kind '${doc.kind}' is not one of ${KINDS.join(', ')}.`, 'kind');
      const skuName = (ctx.body.sku as { name?: unknown } | undefined)?.name ?? (ctx.previous?.sku as { name?: string } | undefined)?.name ?? 'Standard_LRS';
      if (typeof skuName !== 'string' || !SKUS.includes(skuName)) throw new ArmError(400, 'InvalidValuesForRequestParameters', `The sku '${String(skuName)}' is not one of ${SKUS.join(', ')}.`, 'sku.name');
      doc.sku = { name: skuName, tier: skuName.startsWith('Premium') ? 'Premium' : 'Standard' };
      const requested = (ctx.body.properties ?? {}) as Props;
      doc.properties = accountProperties(doc, ctx.previous, requested);
      const ops: Op[] = [];
      if (ctx.previous && (ctx.previous.sku as { name?: string } | undefined)?.name !== skuName) {
        // The blob and file services show the account's sku.
        for (const service of ['blob', 'file'] as const) {
          const id = `${doc.id}/${service}Services/default`;
          const e = await d.store.get<StoredResource>(RESOURCES, keyOf(id));
          if (e) ops.push({ op: 'put', kind: RESOURCES, key: keyOf(id), value: { ...e.value, sku: doc.sku } });
        }
      }
      if (!ctx.previous) {
        const key = keyOf(doc.id);
        ops.push(keysOp(key, newAccountKeys(d.sealer, key, doc.id)));
        for (const [service, type] of Object.entries(SERVICE_TYPES)) {
          const id = `${doc.id}/${service}Services/default`;
          const value = childDoc(id, 'default', type, doc.systemData, service === 'blob' ? { cors: { corsRules: [] }, deleteRetentionPolicy: { allowPermanentDelete: false, enabled: false } } : { cors: { corsRules: [] } });
          if (service === 'blob' || service === 'file') value.sku = doc.sku;
          ops.push({ op: 'put', kind: RESOURCES, key: keyOf(id), value });
        }
        // Bring the emulator up now, so the account's data plane answers at once.
        await d.backend.start();
      }
      return ops;
    },
    async beforeDelete(doc) {
      const account = d.accounts.get(doc.name.toLowerCase());
      if (account) await d.emulator.purgeAccount(account);
      return [{ op: 'delete', kind: STORAGE_KEYS, key: keyOf(doc.id) }];
    },
    view(doc) {
      const { identity, ...rest } = doc;
      const v: Record<string, unknown> = { ...rest };
      const iv = identityView(identity);
      if (iv) v.identity = iv;
      v.properties = { ...doc.properties, ...endpointsOf(d, doc) };
      return v;
    },
  };
}

/**
 * The account's endpoints: blob, queue and table at Mimic's gates; dfs, web and file (services
 * Mimic does not serve) under Azure's names. Routing-preference and read-access secondary
 * endpoints as Azure publishes them.
 */
function endpointsOf(d: StorageArmDeps, doc: StoredResource): Props {
  const n = doc.name;
  const azure = (suffix: string, service: string) => `https://${n}${suffix}.${service}.core.windows.net/`;
  const primaryEndpoints: Props = {
    blob: d.endpoint('blob', n),
    queue: d.endpoint('queue', n),
    table: d.endpoint('table', n),
    file: azure('', 'file'),
    web: azure('', 'web'),
    dfs: azure('', 'dfs'),
  };
  const routing = ((doc.properties ?? {}) as Props).routingPreference as { publishMicrosoftEndpoints?: boolean; publishInternetEndpoints?: boolean } | undefined;
  if (routing?.publishMicrosoftEndpoints) {
    primaryEndpoints.microsoftEndpoints = Object.fromEntries(['blob', 'queue', 'table', 'file', 'web', 'dfs'].map((s) => [s, azure('-microsoftrouting', s)]));
  }
  if (routing?.publishInternetEndpoints) {
    primaryEndpoints.internetEndpoints = Object.fromEntries(['blob', 'file', 'web', 'dfs'].map((s) => [s, azure('-internetrouting', s)]));
  }
  const out: Props = { primaryEndpoints };
  if (READ_ACCESS_GEO_SKUS.includes(String((doc.sku as { name?: string } | undefined)?.name))) {
    out.secondaryEndpoints = Object.fromEntries(['blob', 'queue', 'table', 'web', 'dfs'].map((s) => [s, azure('-secondary', s)]));
  }
  return out;
}

/** blobServices/queueServices/tableServices/fileServices: always named 'default'. */
export function serviceHooks(): ResourceTypeHooks[] {
  return Object.values(SERVICE_TYPES).map((type) => ({
    type: type.toLowerCase(),
    validateName(name: string) {
      if (name !== 'default') throw new ArmError(400, 'InvalidResourceName', `The only service name an account has is 'default', not '${name}'.`);
    },
    beforeWrite(doc, ctx) {
      doc.properties = { ...((ctx.previous?.properties ?? {}) as Props), ...((ctx.body.properties ?? {}) as Props) };
      // The sku is the account's, not the caller's to set.
      if (ctx.previous?.sku !== undefined) doc.sku = ctx.previous.sku;
      return [];
    },
  }));
}

function accountNameOf(id: string): string {
  return /\/storageAccounts\/([^/]+)\//i.exec(id)?.[1]?.toLowerCase() ?? '';
}

/** The account a child resource id belongs to. */
function accountOf(d: StorageArmDeps, doc: StoredResource): StorageAccount {
  const name = accountNameOf(doc.id);
  const account = d.accounts.get(name);
  if (!account) throw new ArmError(404, 'ParentResourceNotFound', `The storage account '${name}' could not be found.`);
  return account;
}

function metadataOf(props: Props, target: string): Record<string, string> {
  const m = props.metadata;
  if (m === undefined || m === null) return {};
  if (typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string')) {
    throw new ArmError(400, 'InvalidRequestContent', `'${target}.metadata' must be an object of string values.`, `${target}.metadata`);
  }
  return m as Record<string, string>;
}

function emulatorFailure(err: unknown): never {
  throw new ArmError(500, 'InternalServerError', `The storage emulator refused the change: ${(err as Error).message}`);
}

export function childHooks(d: StorageArmDeps): ResourceTypeHooks[] {
  const container: ResourceTypeHooks = {
    type: CHILD_TYPES.container.type.toLowerCase(),
    validateName: (name) => validateResourceName(CHILD_TYPES.container.type.toLowerCase(), name),
    async beforeWrite(doc, ctx) {
      const account = accountOf(d, doc);
      const props = { ...((ctx.previous?.properties ?? {}) as Props), ...((ctx.body.properties ?? {}) as Props) };
      const publicAccess = typeof props.publicAccess === 'string' ? props.publicAccess : 'None';
      if (!['None', 'Blob', 'Container'].includes(publicAccess)) throw new ArmError(400, 'InvalidRequestContent', `'properties.publicAccess' must be None, Blob or Container.`, 'properties.publicAccess');
      if (publicAccess !== 'None' && !account.allowBlobPublicAccess) throw new ArmError(409, 'PublicAccessNotPermitted', 'This storage account does not permit public access to its containers.');
      const metadata = metadataOf(props, 'properties');
      await d.emulator.createContainer(account, doc.name, publicAccess, metadata).catch(emulatorFailure);
      doc.properties = {
        ...props,
        publicAccess,
        metadata,
        defaultEncryptionScope: props.defaultEncryptionScope ?? '$account-encryption-key',
        denyEncryptionScopeOverride: props.denyEncryptionScopeOverride ?? false,
        leaseStatus: 'Unlocked',
        leaseState: 'Available',
        hasImmutabilityPolicy: false,
        hasLegalHold: false,
        deleted: false,
        remainingRetentionDays: 0,
        lastModifiedTime: new Date().toISOString(),
      };
      (doc as StoredResource & { etag?: string }).etag = newEtag();
      return [];
    },
    async beforeDelete(doc) {
      const account = d.accounts.get(accountNameOf(doc.id));
      if (account) await d.emulator.deleteContainer(account, doc.name).catch(emulatorFailure);
      return [];
    },
  };
  const queue: ResourceTypeHooks = {
    type: CHILD_TYPES.queue.type.toLowerCase(),
    createdStatus: 200,
    deletedStatus: 204,
    validateName(name) {
      if (!QUEUE_NAME.test(name)) throw new ArmError(400, 'InvalidResourceName', `Queue name '${name}' is invalid: use 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.`);
    },
    async beforeWrite(doc, ctx) {
      const account = accountOf(d, doc);
      const props = { ...((ctx.previous?.properties ?? {}) as Props), ...((ctx.body.properties ?? {}) as Props) };
      const metadata = metadataOf(props, 'properties');
      await d.emulator.createQueue(account, doc.name, metadata).catch(emulatorFailure);
      doc.properties = { metadata, approximateMessageCount: 0 };
      return [];
    },
    async beforeDelete(doc) {
      const account = d.accounts.get(accountNameOf(doc.id));
      if (account) await d.emulator.deleteQueue(account, doc.name).catch(emulatorFailure);
      return [];
    },
  };
  const table: ResourceTypeHooks = {
    type: CHILD_TYPES.table.type.toLowerCase(),
    createdStatus: 200,
    deletedStatus: 204,
    bodyOptional: true,
    validateName(name) {
      if (!TABLE_NAME.test(name) || name.toLowerCase() === 'tables') throw new ArmError(400, 'InvalidResourceName', `Table name '${name}' is invalid: use 3 to 63 letters and digits, starting with a letter.`);
    },
    async beforeWrite(doc) {
      const account = accountOf(d, doc);
      await d.emulator.createTable(account, doc.name).catch(emulatorFailure);
      doc.properties = { tableName: doc.name };
      return [];
    },
    async beforeDelete(doc) {
      const account = d.accounts.get(accountNameOf(doc.id));
      if (account) await d.emulator.deleteTable(account, doc.name).catch(emulatorFailure);
      return [];
    },
  };
  return [container, queue, table];
}

/** Store ops reflecting a data-plane create/delete of a container, queue or table into ARM. */
export function mirrorOps(account: StorageAccount, kind: MirrorKind, name: string, action: 'create' | 'delete', by: { createdBy: string; createdByType: SystemData['createdByType'] }): Op[] {
  const t = CHILD_TYPES[kind];
  const id = `${account.id}/${t.service}Services/default/${t.segment}/${name}`;
  if (action === 'delete') return [{ op: 'delete', kind: RESOURCES, key: keyOf(id) }];
  const now = new Date().toISOString();
  const systemData: SystemData = { createdBy: by.createdBy, createdByType: by.createdByType, createdAt: now, lastModifiedBy: by.createdBy, lastModifiedByType: by.createdByType, lastModifiedAt: now };
  const properties: Props = kind === 'container' ? { publicAccess: 'None', metadata: {}, leaseStatus: 'Unlocked', leaseState: 'Available', hasImmutabilityPolicy: false, hasLegalHold: false, deleted: false, lastModifiedTime: now } : kind === 'queue' ? { metadata: {} } : { tableName: name };
  const value = childDoc(id, name, t.type, systemData, properties);
  if (kind === 'container') (value as StoredResource & { etag?: string }).etag = newEtag();
  return [{ op: 'put', kind: RESOURCES, key: keyOf(id), value, ifAbsent: true }];
}
