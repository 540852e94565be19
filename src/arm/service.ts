// The Resource Manager's operations on resource groups and resources, independent of HTTP.
// Every write commits the resource and the directory changes it implies in one store batch.
import { ConflictError, type Entry, type Op, type Store } from '../store/types.js';
import { DerivedCache } from '../store/derived.js';
import type { TenantInfo } from '../directory/types.js';
import { ArmError, notFound, resourceGroupBeingDeleted, resourceGroupNotFound, invalidContent } from './errors.js';
import { PRINCIPALS, type ServicePrincipal } from '../directory/types.js';
import { formatResourceId, fullType, keyOf, parseResourceId, resourceGroupId, type ResourceId, type ResourceTarget } from './ids.js';
import { hostTypeOf } from './hostTypes.js';
import { identityView, removeSystem, resolveIdentity } from './identity.js';
import { RESOURCES, RESOURCE_GROUPS, type Caller, type StoredResource, type StoredResourceGroup, type SystemData } from './model.js';
import { validateResourceGroupName, validateResourceName } from './names.js';
import type { ResourceTypeRegistry } from './resourceTypes.js';
import { checkTags, ScopeTags } from './tags.js';
import { ownedUtf8 } from '../server/http.js';

/** Attempts of a conditional resource write that lost a race before answering 409 (each loss means another writer won). */
const MAX_WRITE_ATTEMPTS = 16;

/**
 * Runs a write that is conditional on the versions it read (of resources and of their group)
 * again while it loses races, with a short random pause so writers that lost together do not
 * collide again in step; 409 after MAX_WRITE_ATTEMPTS losses.
 */
export async function retryingWrite<T>(what: string, once: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once();
    } catch (err) {
      if (!(err instanceof ConflictError) || (err.kind !== RESOURCES && err.kind !== RESOURCE_GROUPS)) throw err;
      if (attempt >= MAX_WRITE_ATTEMPTS) throw new ArmError(409, 'AnotherOperationInProgress', `Another operation on ${what} is in progress. Retry the request.`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * attempt));
    }
  }
}

/** Decides whether a caller may perform an action at a scope; throws ArmError 403 when not. */
export interface Authorizer {
  check(caller: Caller, action: string, scope: string): void;
  /** The same decision without side effects (no error, no audit), for filtering lists. */
  allows?(caller: Caller, action: string, scope: string): boolean;
  /** Whether the caller holds a role assignment at `scope` or anywhere below it. */
  holdsRoleUnder?(caller: Caller, scope: string): boolean;
}

export const allowAll: Authorizer = { check() {} };

export interface WriteResult<T> {
  status: 200 | 201 | 202;
  body: T;
}

const TOP_LEVEL_FIELDS = ['location', 'tags', 'kind', 'sku', 'plan', 'zones', 'managedBy', 'properties'] as const;
/** The JSON type each top-level field must have (ARM's resource envelope); null stands for absent. */
const FIELD_TYPES: Record<string, 'string' | 'object' | 'array'> = { location: 'string', kind: 'string', managedBy: 'string', sku: 'object', plan: 'object', zones: 'array', properties: 'object' };

function checkFieldTypes(base: Record<string, unknown>): void {
  for (const [field, want] of Object.entries(FIELD_TYPES)) {
    const v = base[field];
    if (v === undefined || v === null) continue;
    const got = Array.isArray(v) ? 'array' : typeof v;
    if (got !== want) throw invalidContent(`The property '${field}' must be ${want === 'array' ? 'an array' : `a JSON ${want}`}.`);
  }
}

export class ArmService {
  authorizer: Authorizer = allowAll;

  private readonly viewJson: DerivedCache<Buffer>;
  /** `{scope}/providers/Microsoft.Resources/tags/default`. */
  readonly tags: ScopeTags;

  constructor(
    private readonly store: Store,
    readonly tenant: TenantInfo,
    private readonly types: ResourceTypeRegistry,
  ) {
    this.tags = new ScopeTags(store, tenant.subscriptionId, () => this.authorizer);
    this.viewJson = new DerivedCache<Buffer>(store, RESOURCES, (e) => ownedUtf8(JSON.stringify(this.view(e.value as StoredResource))));
  }

  // ---- subscriptions -------------------------------------------------------------------

  /**
   * `GET /subscriptions`: as in Azure, only subscriptions where the caller holds some role (at the
   * subscription, above it, or on anything inside it); an identity with no role sees none, which
   * is how `az login --identity` knows "No access was configured".
   */
  subscriptionsVisibleTo(caller: Caller): Record<string, unknown>[] {
    const scope = `/subscriptions/${this.tenant.subscriptionId}`;
    const visible = this.can(caller, 'Microsoft.Resources/subscriptions/read', scope) || (this.authorizer.holdsRoleUnder?.(caller, scope) ?? false);
    return visible ? [this.subscriptionView()] : [];
  }

  subscriptionView(): Record<string, unknown> {
    const t = this.tenant;
    return {
      id: `/subscriptions/${t.subscriptionId}`,
      authorizationSource: 'RoleBased',
      managedByTenants: [],
      subscriptionId: t.subscriptionId,
      tenantId: t.tenantId,
      displayName: t.subscriptionName,
      state: 'Enabled',
      subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
    };
  }

  requireSubscription(subscriptionId: string): void {
    if (subscriptionId.toLowerCase() !== this.tenant.subscriptionId) {
      throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
    }
  }

  // ---- resource groups -----------------------------------------------------------------

  async getResourceGroup(caller: Caller, sub: string, rg: string): Promise<StoredResourceGroup> {
    return (await this.readGroupEntry(caller, sub, rg)).value;
  }

  private async readGroupEntry(caller: Caller, sub: string, rg: string): Promise<Entry<StoredResourceGroup>> {
    this.requireSubscription(sub);
    const id = resourceGroupId(this.tenant.subscriptionId, rg);
    this.authorizer.check(caller, 'Microsoft.Resources/subscriptions/resourceGroups/read', id);
    const e = await this.store.get<StoredResourceGroup>(RESOURCE_GROUPS, keyOf(id));
    if (!e) throw resourceGroupNotFound(rg);
    return e;
  }

  async resourceGroupExists(sub: string, rg: string): Promise<StoredResourceGroup | undefined> {
    return (await this.groupEntry(sub, rg))?.value;
  }

  private async groupEntry(sub: string, rg: string): Promise<Entry<StoredResourceGroup> | undefined> {
    this.requireSubscription(sub);
    return this.store.get<StoredResourceGroup>(RESOURCE_GROUPS, keyOf(resourceGroupId(this.tenant.subscriptionId, rg)));
  }

  async putResourceGroup(caller: Caller, sub: string, rg: string, body: Record<string, unknown>): Promise<WriteResult<StoredResourceGroup>> {
    return retryingWrite(`resource group '${rg}'`, () => this.putResourceGroupOnce(caller, sub, rg, body));
  }

  private async putResourceGroupOnce(caller: Caller, sub: string, rg: string, body: Record<string, unknown>): Promise<WriteResult<StoredResourceGroup>> {
    this.requireSubscription(sub);
    validateResourceGroupName(rg);
    const previousEntry = await this.groupEntry(sub, rg);
    const previous = previousEntry?.value;
    const id = previous?.id ?? resourceGroupId(this.tenant.subscriptionId, rg);
    this.authorizer.check(caller, 'Microsoft.Resources/subscriptions/resourceGroups/write', id);
    const location = body.location;
    if (typeof location !== 'string' || location.length === 0) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
    if (previous && normalizeLocation(previous.location) !== normalizeLocation(location)) {
      throw new ArmError(409, 'InvalidResourceGroupLocation', `Invalid resource group location '${location}'. The Resource group already exists in location '${previous.location}'.`);
    }
    if (previous?.properties.provisioningState === 'Deleting') throw resourceGroupBeingDeleted(previous.name);
    const group: StoredResourceGroup = {
      id,
      name: previous?.name ?? rg,
      type: 'Microsoft.Resources/resourceGroups',
      location: normalizeLocation(location),
      tags: checkTags(body.tags) ?? {},
      ...(typeof body.managedBy === 'string' ? { managedBy: body.managedBy } : {}),
      properties: { provisioningState: 'Succeeded' },
    };
    // Conditional on the version read: a PUT racing the group's deletion cannot undo its Deleting mark.
    await this.store.apply([{ op: 'put', kind: RESOURCE_GROUPS, key: keyOf(id), value: group, ifVersion: previousEntry?.version ?? 0 }]);
    return { status: previous ? 200 : 201, body: group };
  }

  async patchResourceGroup(caller: Caller, sub: string, rg: string, body: Record<string, unknown>): Promise<StoredResourceGroup> {
    return retryingWrite(`resource group '${rg}'`, async () => {
      const { value: previous, version } = await this.readGroupEntry(caller, sub, rg);
      this.authorizer.check(caller, 'Microsoft.Resources/subscriptions/resourceGroups/write', previous.id);
      if (previous.properties.provisioningState === 'Deleting') throw resourceGroupBeingDeleted(previous.name);
      const tags = checkTags(body.tags);
      const group: StoredResourceGroup = { ...previous, ...(tags ? { tags } : {}), ...(typeof body.managedBy === 'string' ? { managedBy: body.managedBy } : {}) };
      await this.store.apply([{ op: 'put', kind: RESOURCE_GROUPS, key: keyOf(group.id), value: group, ifVersion: version }]);
      return group;
    });
  }

  /** Every group when the caller may read groups subscription-wide; otherwise the groups it may read (403 if none). */
  async listResourceGroups(caller: Caller, sub: string): Promise<StoredResourceGroup[]> {
    this.requireSubscription(sub);
    const action = 'Microsoft.Resources/subscriptions/resourceGroups/read';
    const subscriptionScope = `/subscriptions/${this.tenant.subscriptionId}`;
    const groups = (await this.store.list<StoredResourceGroup>(RESOURCE_GROUPS, { prefix: `/subscriptions/${this.tenant.subscriptionId}/resourcegroups/` })).map((e) => e.value);
    if (this.can(caller, action, subscriptionScope)) return groups;
    const readable = groups.filter((g) => this.can(caller, action, g.id));
    if (readable.length === 0) this.authorizer.check(caller, action, subscriptionScope);
    return readable;
  }

  /**
   * Deletes the group and everything in it, including the system-assigned identities of its
   * resources. As in Azure, the group is first marked Deleting: from then on a write in it (or of
   * it) is refused with 409 ResourceGroupBeingDeleted, and a resource write that read the group
   * before the mark fails its precondition on the group's version and reads again. So the
   * resources listed after the mark are all there will be. Each is deleted at the version read:
   * a racing update means reading again. A delete cut short leaves the group Deleting; deleting
   * it again finishes the job.
   */
  async deleteResourceGroup(caller: Caller, sub: string, rg: string): Promise<boolean> {
    return retryingWrite(`resource group '${rg}'`, () => this.deleteResourceGroupOnce(caller, sub, rg));
  }

  private async deleteResourceGroupOnce(caller: Caller, sub: string, rg: string): Promise<boolean> {
    const entry = await this.groupEntry(sub, rg);
    if (!entry) return false;
    const group = entry.value;
    this.authorizer.check(caller, 'Microsoft.Resources/subscriptions/resourceGroups/delete', group.id);
    const key = keyOf(group.id);
    let version = entry.version;
    if (group.properties.provisioningState !== 'Deleting') {
      await this.store.apply([{ op: 'put', kind: RESOURCE_GROUPS, key, value: { ...group, properties: { ...group.properties, provisioningState: 'Deleting' } }, ifVersion: version }]);
      version++;
    }
    const inside = await this.store.list<StoredResource>(RESOURCES, { prefix: key + '/' });
    const ops: Op[] = [];
    for (const e of inside) ops.push(...(await this.deletionOps(e.key, e.value, e.version)));
    ops.push({ op: 'delete', kind: RESOURCE_GROUPS, key, ifVersion: version });
    await this.store.apply(ops);
    return true;
  }

  // ---- resources -----------------------------------------------------------------------

  private async requireGroup(r: ResourceId): Promise<StoredResourceGroup> {
    const group = await this.resourceGroupExists(r.subscriptionId, r.resourceGroup);
    if (!group) throw resourceGroupNotFound(r.resourceGroup);
    return group;
  }

  /** The group a resource is written in, as read (its version goes into the write's batch); 409 while it is being deleted. */
  private async requireWritableGroup(r: ResourceId): Promise<Entry<StoredResourceGroup>> {
    const entry = await this.groupEntry(r.subscriptionId, r.resourceGroup);
    if (!entry) throw resourceGroupNotFound(r.resourceGroup);
    if (entry.value.properties.provisioningState === 'Deleting') throw resourceGroupBeingDeleted(entry.value.name);
    return entry;
  }

  /** The id with the resource group's stored spelling and the catalog's spelling of the type. */
  private canonicalId(r: ResourceId, group: StoredResourceGroup, parent?: StoredResource): string {
    if (parent && r.types.length > 1) return `${parent.id}/${r.types[r.types.length - 1]}/${r.names[r.names.length - 1]}`;
    return formatResourceId({ ...r, subscriptionId: this.tenant.subscriptionId, resourceGroup: group.name });
  }

  /** The resource's view as JSON bytes (kept between reads until the resource changes). */
  async getResourceJson(caller: Caller, t: ResourceTarget): Promise<Buffer> {
    this.requireSubscription(t.r.subscriptionId);
    this.authorizer.check(caller, t.readAction, t.id);
    const json = await this.viewJson.get(t.key);
    if (json === undefined) {
      await this.requireGroup(t.r);
      throw notFound(fullType(t.r), t.r.names.join('/'), t.r.resourceGroup);
    }
    return json;
  }

  async readResource(r: ResourceId): Promise<StoredResource> {
    const e = await this.store.get<StoredResource>(RESOURCES, keyOf(formatResourceId(r)));
    if (!e) {
      await this.requireGroup(r);
      throw notFound(fullType(r), r.names.join('/'), r.resourceGroup);
    }
    return e.value;
  }

  async findResource(id: string): Promise<StoredResource | undefined> {
    return (await this.store.get<StoredResource>(RESOURCES, keyOf(id)))?.value;
  }

  /**
   * `GET {resourceId}/providers/Microsoft.ManagedIdentity/identities/default`: the resource's
   * system-assigned identity as a resource (Azure's SystemAssignedIdentity shape); 404 when the
   * resource has none.
   */
  async systemAssignedIdentity(caller: Caller, resourceId: string): Promise<Record<string, unknown>> {
    const r = parseResourceId(resourceId);
    if (!r) throw new ArmError(400, 'InvalidScope', `The scope '${resourceId}' is not a resource id.`);
    this.requireSubscription(r.subscriptionId);
    const doc = await this.readResource(r);
    const id = `${doc.id}/providers/Microsoft.ManagedIdentity/identities/default`;
    this.authorizer.check(caller, 'Microsoft.ManagedIdentity/identities/read', doc.id);
    const principalId = doc.identity?.principalId;
    const sp = principalId ? (await this.store.get<ServicePrincipal>(PRINCIPALS, principalId))?.value : undefined;
    if (!principalId || !sp) throw new ArmError(404, 'ResourceNotFound', `The resource '${doc.id}' has no system-assigned identity.`);
    return {
      id,
      name: 'default',
      type: 'Microsoft.ManagedIdentity/identities',
      location: doc.location ?? 'global',
      tags: doc.tags ?? {},
      properties: { tenantId: this.tenant.tenantId, principalId, clientId: sp.appId, clientSecretUrl: `https://control-${doc.location ?? 'global'}.identity.azure.net${id}/credentials?tid=${this.tenant.tenantId}&oid=${principalId}&aid=${sp.appId}` },
    };
  }

  view(doc: StoredResource): Record<string, unknown> {
    const hooks = this.types.get(doc.type);
    if (hooks?.view) return hooks.view(doc);
    const { identity, ...rest } = doc;
    const v: Record<string, unknown> = { ...rest };
    const iv = identityView(identity);
    if (iv) v.identity = iv;
    return v;
  }

  /**
   * PUT or PATCH of a resource. The write is conditional on the version read, so two writers of
   * the same resource (in one instance or two sharing PostgreSQL) cannot both create it: the later
   * one starts again from what the first wrote (keeping its principals, answering 200), instead of
   * overwriting it and leaving the first one's service principal without a resource.
   */
  async putResource(caller: Caller, r: ResourceId, body: Record<string, unknown>, mode: 'put' | 'patch', opts: { apiVersion?: string } = {}): Promise<WriteResult<Record<string, unknown>>> {
    return retryingWrite(`'${formatResourceId(r)}'`, () => this.putResourceOnce(caller, r, body, mode, opts));
  }

  private async putResourceOnce(caller: Caller, r: ResourceId, body: Record<string, unknown>, mode: 'put' | 'patch', opts: { apiVersion?: string }): Promise<WriteResult<Record<string, unknown>>> {
    this.requireSubscription(r.subscriptionId);
    const type = fullType(r);
    const typeLower = type.toLowerCase();
    const { value: group, version: groupVersion } = await this.requireWritableGroup(r);
    const key = keyOf(formatResourceId(r));
    const previousEntry = await this.store.get<StoredResource>(RESOURCES, key);
    const previous = previousEntry?.value;
    if (mode === 'patch' && !previous) throw notFound(type, r.names.join('/'), r.resourceGroup);
    let parent: StoredResource | undefined;
    if (r.types.length > 1) {
      const parentKey = key.slice(0, key.lastIndexOf('/', key.lastIndexOf('/') - 1));
      parent = (await this.store.get<StoredResource>(RESOURCES, parentKey))?.value;
      if (!parent) throw new ArmError(404, 'ParentResourceNotFound', `Failed to perform 'write' on resource(s) of type '${type}', because the parent resource '${formatResourceId({ ...r, types: r.types.slice(0, -1), names: r.names.slice(0, -1) })}' could not be found.`);
    }
    const id = previous?.id ?? this.canonicalId(r, group, parent);
    this.authorizer.check(caller, `${type}/write`, id);
    const hooks = this.types.get(typeLower);
    const name = r.names[r.names.length - 1]!;
    if (hooks?.operation && parent) return hooks.operation({ caller, tenantId: this.tenant.tenantId, id, name, parent, body, mode, apiVersion: opts.apiVersion });
    if (!previous) {
      if (hooks?.validateName) hooks.validateName(name);
      else validateResourceName(typeLower, name);
    }

    const doc: StoredResource = { id, name: previous?.name ?? name, type, systemData: this.systemData(caller, previous?.systemData) };
    const base: Record<string, unknown> = mode === 'patch' ? { ...previous } : {};
    for (const f of TOP_LEVEL_FIELDS) {
      if (body[f] !== undefined) base[f] = body[f];
    }
    if (base.tags !== undefined) checkTags(base.tags);
    if (base.properties === null) throw invalidContent("The property 'properties' must be a JSON object.");
    checkFieldTypes(base);
    for (const f of TOP_LEVEL_FIELDS) if (base[f] !== undefined) (doc as unknown as Record<string, unknown>)[f] = base[f];
    if (typeof doc.location === 'string') doc.location = normalizeLocation(doc.location);
    // Tracked top-level resources need a location; child resources inherit their parent's.
    if (r.types.length === 1 && !doc.location) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');

    const identity = await resolveIdentity(
      {
        resourceId: id,
        resourceName: doc.name,
        tenantId: this.tenant.tenantId,
        host: hostTypeOf(type, doc.kind),
        lookupUserAssigned: (uaiId) => this.findResource(uaiId),
      },
      previous?.identity,
      body.identity,
      mode,
    );
    if (identity.identity) doc.identity = identity.identity;
    // The group as read, first in the same transaction: a write that read it before its deletion
    // began (or before a tag update) fails here and starts again, instead of landing in a deleted
    // group. On PostgreSQL the check holds a share lock, so the Deleting mark waits for this commit.
    const ops: Op[] = [{ op: 'check', kind: RESOURCE_GROUPS, key: keyOf(group.id), ifVersion: groupVersion }, ...identity.ops];
    if (hooks?.beforeWrite) ops.push(...(await hooks.beforeWrite(doc, { caller, tenantId: this.tenant.tenantId, previous, mode, body, apiVersion: opts.apiVersion, parent })));
    ops.push({ op: 'put', kind: RESOURCES, key, value: doc, ifVersion: previousEntry?.version ?? 0 });
    await this.store.apply(ops);
    return { status: previous ? 200 : (hooks?.createdStatus ?? 201), body: this.view(doc) };
  }

  /** The status a DELETE answers: Azure's per type (some answer 204 even when something was deleted). */
  deleteStatus(type: string, deleted: boolean): number {
    if (!deleted) return 204;
    return this.types.get(type)?.deletedStatus ?? 200;
  }

  /** True when the type's PUT may come without a body (Azure's spec marks the body optional). */
  bodyOptional(type: string): boolean {
    return this.types.get(type)?.bodyOptional === true;
  }

  /**
   * Deletes the resource, its children and the principals they own. Each resource is deleted at
   * the version read, so an update racing the delete (say, one that just gave it a system-assigned
   * identity) cannot leave a principal behind: the delete starts again from the newer state.
   */
  async deleteResource(caller: Caller, r: ResourceId): Promise<boolean> {
    return retryingWrite(`'${formatResourceId(r)}'`, () => this.deleteResourceOnce(caller, r));
  }

  private async deleteResourceOnce(caller: Caller, r: ResourceId): Promise<boolean> {
    this.requireSubscription(r.subscriptionId);
    await this.requireGroup(r);
    const key = keyOf(formatResourceId(r));
    const entry = await this.store.get<StoredResource>(RESOURCES, key);
    if (!entry) return false;
    this.authorizer.check(caller, `${fullType(r)}/delete`, entry.value.id);
    const ops: Op[] = [];
    for (const child of await this.store.list<StoredResource>(RESOURCES, { prefix: key + '/' })) ops.push(...(await this.deletionOps(child.key, child.value, child.version)));
    ops.push(...(await this.deletionOps(key, entry.value, entry.version)));
    await this.store.apply(ops);
    return true;
  }

  private async deletionOps(key: string, doc: StoredResource, version?: number): Promise<Op[]> {
    const hooks = this.types.get(doc.type);
    return [...removeSystem(doc.identity), ...((await hooks?.beforeDelete?.(doc)) ?? []), { op: 'delete', kind: RESOURCES, key, ...(version === undefined ? {} : { ifVersion: version }) }];
  }

  /**
   * Lists resources in a subscription or resource group, optionally of one type (for child
   * types, under one parent). Only resources the caller may read are returned.
   */
  async listResources(caller: Caller, opts: { subscriptionId: string; resourceGroup?: string; type?: string; parentId?: string }): Promise<Record<string, unknown>[]> {
    this.requireSubscription(opts.subscriptionId);
    let scope = `/subscriptions/${this.tenant.subscriptionId}`;
    if (opts.resourceGroup) scope = (await this.requireGroup({ subscriptionId: opts.subscriptionId, resourceGroup: opts.resourceGroup, namespace: '', types: [], names: [] })).id;
    const prefix = keyOf(opts.parentId ?? scope) + '/';
    const typeLower = opts.type?.toLowerCase();
    const out: Record<string, unknown>[] = [];
    for (const e of await this.store.list<StoredResource>(RESOURCES, { prefix })) {
      if (typeLower ? e.value.type.toLowerCase() !== typeLower : e.value.type.split('/').length !== 2) continue;
      if (opts.parentId && e.key.slice(prefix.length).split('/').length !== 2) continue;
      if (!this.canRead(caller, e.value)) continue;
      out.push(this.view(e.value));
    }
    return out;
  }

  private canRead(caller: Caller, doc: StoredResource): boolean {
    return this.can(caller, `${doc.type}/read`, doc.id);
  }

  private can(caller: Caller, action: string, scope: string): boolean {
    if (this.authorizer.allows) return this.authorizer.allows(caller, action, scope);
    try {
      this.authorizer.check(caller, action, scope);
      return true;
    } catch {
      return false;
    }
  }

  private systemData(caller: Caller, previous?: SystemData): SystemData {
    const now = new Date().toISOString();
    const byType = caller.type === 'ManagedIdentity' ? 'ManagedIdentity' : 'Application';
    return {
      createdBy: previous?.createdBy ?? caller.appId,
      createdByType: previous?.createdByType ?? byType,
      createdAt: previous?.createdAt ?? now,
      lastModifiedBy: caller.appId,
      lastModifiedByType: byType,
      lastModifiedAt: now,
    };
  }
}

/** Azure stores locations lower-case without spaces ("East US" -> "eastus"). */
export function normalizeLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, '');
}
