// `{scope}/providers/Microsoft.Resources/tags/default`: the tags of a subscription, a resource
// group or a resource as one resource (get, put = replace, patch = Merge|Replace|Delete,
// delete = remove all). Authorized with Microsoft.Resources/tags/{read,write,delete} at the scope,
// as in Azure, so a Tag Contributor can tag what it cannot otherwise change.
import { ConflictError, type Store } from '../store/types.js';
import { ArmError, invalidContent, notFound, resourceGroupBeingDeleted, resourceGroupNotFound } from './errors.js';
import { fullType, keyOf, parseResourceId } from './ids.js';
import { RESOURCE_GROUPS, RESOURCES, type Caller, type StoredResource, type StoredResourceGroup } from './model.js';
import { retryingWrite, type Authorizer } from './service.js';

/** Subscription tags, by subscription id. */
export const SUBSCRIPTION_TAGS = 'subscriptionTags';

type Tags = Record<string, string>;

export function checkTags(tags: unknown): Tags | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (typeof tags !== 'object' || Array.isArray(tags)) throw invalidContent("The property 'tags' must be an object of string values.");
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > 50) throw new ArmError(400, 'InvalidTag', 'A resource can have at most 50 tags.');
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalidContent(`The tag '${k}' must have a string value.`);
    if (k.length > 512 || v.length > 256) throw new ArmError(400, 'InvalidTagNameLength', `The tag '${k}' is too long: names are at most 512 characters and values at most 256.`);
  }
  return tags as Tags;
}

/** Where a scope's tags live in the store. */
type Holder = { kind: typeof SUBSCRIPTION_TAGS; key: string; id: string } | { kind: typeof RESOURCE_GROUPS | typeof RESOURCES; key: string; id: string };

export class ScopeTags {
  constructor(
    private readonly store: Store,
    private readonly subscriptionId: string,
    private readonly authorizer: () => Authorizer,
  ) {}

  private async holder(scope: string): Promise<{ holder: Holder; tags: Tags }> {
    const segs = scope.split('/').filter((s) => s);
    if (segs[0]?.toLowerCase() !== 'subscriptions' || !segs[1]) throw new ArmError(400, 'InvalidScope', `The scope '${scope}' cannot hold tags: use a subscription, resource group or resource.`);
    if (segs[1].toLowerCase() !== this.subscriptionId) throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${segs[1]}' could not be found.`);
    if (segs.length === 2) {
      const e = await this.store.get<Tags>(SUBSCRIPTION_TAGS, this.subscriptionId);
      return { holder: { kind: SUBSCRIPTION_TAGS, key: this.subscriptionId, id: `/subscriptions/${this.subscriptionId}` }, tags: e?.value ?? {} };
    }
    if (segs[2]?.toLowerCase() !== 'resourcegroups' || !segs[3]) throw new ArmError(400, 'InvalidScope', `The scope '${scope}' cannot hold tags.`);
    const rgKey = keyOf(`/subscriptions/${this.subscriptionId}/resourceGroups/${segs[3]}`);
    const group = await this.store.get<StoredResourceGroup>(RESOURCE_GROUPS, rgKey);
    if (!group) throw resourceGroupNotFound(segs[3]);
    if (segs.length === 4) return { holder: { kind: RESOURCE_GROUPS, key: rgKey, id: group.value.id }, tags: group.value.tags ?? {} };
    const r = parseResourceId(scope);
    if (!r) throw new ArmError(400, 'InvalidScope', `The scope '${scope}' is not a resource id.`);
    const e = await this.store.get<StoredResource>(RESOURCES, keyOf(scope));
    if (!e) throw notFound(fullType(r), r.names.join('/'), r.resourceGroup);
    return { holder: { kind: RESOURCES, key: keyOf(scope), id: e.value.id }, tags: e.value.tags ?? {} };
  }

  private view(holder: Holder, tags: Tags): Record<string, unknown> {
    return { id: `${holder.id}/providers/Microsoft.Resources/tags/default`, name: 'default', type: 'Microsoft.Resources/tags', properties: { tags } };
  }

  async get(caller: Caller, scope: string): Promise<Record<string, unknown>> {
    const { holder, tags } = await this.holder(scope);
    this.authorizer().check(caller, 'Microsoft.Resources/tags/read', holder.id);
    return this.view(holder, tags);
  }

  /**
   * PUT replaces, PATCH applies `operation` (Merge, Replace, Delete), DELETE removes every tag.
   * The write is conditional on what was read; a writer that lost a race reads and computes again.
   */
  async change(caller: Caller, scope: string, method: 'PUT' | 'PATCH' | 'DELETE', body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return retryingWrite(`the tags of '${scope}'`, () => this.changeOnce(caller, scope, method, body));
  }

  private async changeOnce(caller: Caller, scope: string, method: 'PUT' | 'PATCH' | 'DELETE', body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { holder, tags } = await this.holder(scope);
    this.authorizer().check(caller, method === 'DELETE' ? 'Microsoft.Resources/tags/delete' : 'Microsoft.Resources/tags/write', holder.id);
    let next: Tags = {};
    if (method !== 'DELETE') {
      const props = body.properties as { tags?: unknown } | undefined;
      if (!props || typeof props !== 'object') throw invalidContent("The property 'properties' is required.");
      const sent = checkTags(props.tags) ?? {};
      if (method === 'PUT') next = sent;
      else {
        const op = typeof body.operation === 'string' ? body.operation.toLowerCase() : '';
        if (op === 'replace') next = sent;
        else if (op === 'merge') next = { ...tags, ...sent };
        else if (op === 'delete') next = Object.fromEntries(Object.entries(tags).filter(([k, v]) => !(k in sent) || (sent[k] !== '' && sent[k] !== v)));
        else throw invalidContent("The property 'operation' must be 'Merge', 'Replace' or 'Delete'.");
      }
      checkTags(next);
    }
    if (holder.kind === SUBSCRIPTION_TAGS) await this.store.put(SUBSCRIPTION_TAGS, holder.key, next);
    else {
      const e = await this.store.get<{ tags?: Tags }>(holder.kind, holder.key);
      // As in Azure, a group whose deletion has begun takes no more writes.
      if (holder.kind === RESOURCE_GROUPS && (e?.value as StoredResourceGroup | undefined)?.properties?.provisioningState === 'Deleting') throw resourceGroupBeingDeleted((e!.value as StoredResourceGroup).name);
      // A Merge or Delete computed from tags that changed since: lose this round and compute again.
      if (e && JSON.stringify(e.value.tags ?? {}) !== JSON.stringify(tags)) throw new ConflictError(holder.kind, holder.key, 'version');
      if (e) await this.store.apply([{ op: 'put', kind: holder.kind, key: holder.key, value: { ...e.value, tags: next }, ifVersion: e.version }]);
    }
    return this.view(holder, next);
  }
}
