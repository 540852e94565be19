// Hooks through which a resource type adds behaviour to the generic Resource Manager
// (user-assigned identities mint principals, vaults get a data plane, ...). A type without
// hooks is stored as given.
import type { Op } from '../store/types.js';
import type { Caller, StoredResource } from './model.js';

export interface WriteContext {
  caller: Caller;
  tenantId: string;
  /** The resource before this request; undefined on create. */
  previous?: StoredResource;
  mode: 'put' | 'patch';
  /** The request body as sent. */
  body: Record<string, unknown>;
}

export interface ResourceTypeHooks {
  /** Full type, lower-case, e.g. 'microsoft.managedidentity/userassignedidentities'. */
  type: string;
  /** Validate the resource name (throw ArmError) — otherwise the generic rules apply. */
  validateName?(name: string): void;
  /**
   * Shape the document to store (fill read-only properties, validate the rest); returns the
   * extra store ops (e.g. a service principal) to commit with it atomically.
   */
  beforeWrite?(doc: StoredResource, ctx: WriteContext): Promise<Op[]> | Op[];
  /** Extra store ops to commit with the deletion of the resource. */
  beforeDelete?(doc: StoredResource): Promise<Op[]> | Op[];
  /** The body returned for the resource (defaults to the stored document). */
  view?(doc: StoredResource): Record<string, unknown>;
}

export class ResourceTypeRegistry {
  private readonly hooks = new Map<string, ResourceTypeHooks>();

  register(h: ResourceTypeHooks): void {
    this.hooks.set(h.type.toLowerCase(), h);
  }

  get(type: string): ResourceTypeHooks | undefined {
    return this.hooks.get(type.toLowerCase());
  }
}
