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
  /** The api-version of the request (some defaults depend on it). */
  apiVersion?: string;
  /** The parent resource of a child type. */
  parent?: StoredResource;
}

/** A PUT/PATCH on a child "type" that names an operation on its parent, not a resource. */
export interface OperationContext {
  caller: Caller;
  tenantId: string;
  /** The operation's path as an id, e.g. `{vault id}/accessPolicies/add`. */
  id: string;
  /** The last segment, e.g. 'add'. */
  name: string;
  parent: StoredResource;
  body: Record<string, unknown>;
  mode: 'put' | 'patch';
  apiVersion?: string;
}

export interface ResourceTypeHooks {
  /** Full type, lower-case, e.g. 'microsoft.managedidentity/userassignedidentities'. */
  type: string;
  /** What a PUT that creates answers (Azure's status for the type; default 201). */
  createdStatus?: 200 | 201;
  /** What a DELETE of an existing resource answers (default 200). */
  deletedStatus?: 200 | 204;
  /** A PUT may come without a body (then `{}`). */
  bodyOptional?: boolean;
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
  /**
   * For child types that are operations on their parent (e.g. `vaults/accessPolicies/{add|replace|remove}`):
   * handles the write instead of storing a resource document.
   */
  operation?(ctx: OperationContext): Promise<{ status: 200 | 201; body: Record<string, unknown> }>;
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
