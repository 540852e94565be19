// Scopes a role assignment (or custom role) can name: the tenant root, a management group, the
// subscription, a resource group, a resource, or anything nested below a resource (a blob
// container, a single Key Vault secret). Writes check that the subscription, the group and the
// top-level resource exist and take their stored spelling; deeper segments may be data-plane
// objects Resource Manager does not track, so they are kept as sent.
import { ArmError, resourceGroupNotFound, notFound } from '../errors.js';
import type { ArmService } from '../service.js';
import { keyOf } from '../ids.js';

export type ScopeLevel = 'root' | 'managementGroup' | 'subscription' | 'resourceGroup' | 'resource';

export interface ParsedScope {
  level: ScopeLevel;
  /** Segments as sent. */
  segments: string[];
  subscriptionId?: string;
  resourceGroup?: string;
  managementGroupId?: string;
}

export function invalidScope(scope: string): ArmError {
  return new ArmError(400, 'InvalidScope', `The scope '${scope}' is not valid. A scope is '/', a management group, '/subscriptions/{id}', a resource group, or a resource id.`);
}

export function parseScope(scope: string): ParsedScope {
  const segs = scope.split('/').filter((s) => s.length > 0);
  const lower = segs.map((s) => s.toLowerCase());
  if (segs.length === 0) return { level: 'root', segments: segs };
  if (lower[0] === 'providers') {
    if (segs.length === 4 && lower[1] === 'microsoft.management' && lower[2] === 'managementgroups') {
      return { level: 'managementGroup', segments: segs, managementGroupId: segs[3]! };
    }
    throw invalidScope(scope);
  }
  if (lower[0] !== 'subscriptions' || segs.length < 2) throw invalidScope(scope);
  const subscriptionId = segs[1]!;
  if (segs.length === 2) return { level: 'subscription', segments: segs, subscriptionId };
  if (lower[2] !== 'resourcegroups' || segs.length < 4) throw invalidScope(scope);
  const resourceGroup = segs[3]!;
  if (segs.length === 4) return { level: 'resourceGroup', segments: segs, subscriptionId, resourceGroup };
  // A resource: providers/{ns}/{type}/{name}[/{type}/{name}...]
  if (lower[4] !== 'providers' || segs.length < 8 || segs.length % 2 !== 0) throw invalidScope(scope);
  return { level: 'resource', segments: segs, subscriptionId, resourceGroup };
}

/**
 * Checks that a scope exists as far as Resource Manager knows it and returns it with the
 * stored spelling of its subscription, group and resource.
 */
export async function resolveScope(arm: ArmService, scope: string): Promise<{ scope: string; parsed: ParsedScope }> {
  const parsed = parseScope(scope);
  switch (parsed.level) {
    case 'root':
      return { scope: '/', parsed };
    case 'managementGroup':
      // Mimic models no management groups.
      throw new ArmError(404, 'ManagementGroupNotFound', `The management group '${parsed.managementGroupId}' could not be found.`);
    case 'subscription':
      arm.requireSubscription(parsed.subscriptionId!);
      return { scope: `/subscriptions/${arm.tenant.subscriptionId}`, parsed };
    case 'resourceGroup': {
      const group = await arm.resourceGroupExists(parsed.subscriptionId!, parsed.resourceGroup!);
      if (!group) throw resourceGroupNotFound(parsed.resourceGroup!);
      return { scope: group.id, parsed };
    }
    case 'resource': {
      const group = await arm.resourceGroupExists(parsed.subscriptionId!, parsed.resourceGroup!);
      if (!group) throw resourceGroupNotFound(parsed.resourceGroup!);
      const segs = parsed.segments;
      const topId = `/${segs.slice(0, 8).join('/')}`;
      const top = await arm.findResource(topId);
      if (!top) throw notFound(`${segs[5]}/${segs[6]}`, segs[7]!, group.name);
      // Deeper levels keep the stored spelling when Resource Manager tracks them.
      let spelled = top.id;
      for (let i = 8; i < segs.length; i += 2) {
        const next = `${spelled}/${segs[i]}/${segs[i + 1]}`;
        spelled = (await arm.findResource(next))?.id ?? next;
      }
      return { scope: spelled, parsed };
    }
  }
}

/** The subscription a scope lies in, if any (lower-case). */
export function subscriptionOfScope(scope: string): string | undefined {
  const p = keyOf(scope).split('/');
  return p[1] === 'subscriptions' && p[2] ? p[2] : undefined;
}
