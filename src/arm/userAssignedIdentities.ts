// Microsoft.ManagedIdentity/userAssignedIdentities: a standalone resource that owns a service
// principal. principalId and clientId are fixed at creation; deleting the resource deletes the
// principal and leaves every reference to it orphaned, as Azure does.
import { randomUUID } from 'node:crypto';
import { PRINCIPALS, type ServicePrincipal } from '../directory/types.js';
import { ArmError } from './errors.js';
import { USER_ASSIGNED_TYPE } from './identity.js';
import type { ResourceTypeHooks } from './resourceTypes.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;

export const userAssignedIdentityHooks: ResourceTypeHooks = {
  type: USER_ASSIGNED_TYPE,
  validateName(name) {
    if (!NAME.test(name)) {
      throw new ArmError(400, 'InvalidResourceName', `Resource name '${name}' is invalid. The name can contain only letters, numbers, underscores and hyphens, must start with a letter or number, and must be 3 to 128 characters long.`);
    }
  },
  beforeWrite(doc, ctx) {
    const requested = (ctx.body.properties ?? {}) as Record<string, unknown>;
    const isolationScope = requested.isolationScope ?? (ctx.previous?.properties as Record<string, unknown> | undefined)?.isolationScope;
    if (isolationScope !== undefined && isolationScope !== 'None' && isolationScope !== 'Regional') {
      throw new ArmError(400, 'InvalidRequestContent', `The value '${String(isolationScope)}' of 'properties.isolationScope' is invalid. Allowed values: 'None', 'Regional'.`, 'properties.isolationScope');
    }
    const prev = ctx.previous?.properties as { principalId?: string; clientId?: string } | undefined;
    if (prev?.principalId && prev.clientId) {
      doc.properties = { tenantId: ctx.tenantId, principalId: prev.principalId, clientId: prev.clientId, isolationScope: isolationScope ?? 'None' };
      return [];
    }
    const sp: ServicePrincipal = {
      objectId: randomUUID(),
      appId: randomUUID(),
      displayName: doc.name,
      servicePrincipalType: 'ManagedIdentity',
      managedIdentityResourceId: doc.id,
      isSystemAssigned: false,
      accountEnabled: true,
      createdDateTime: new Date().toISOString(),
    };
    doc.properties = { tenantId: ctx.tenantId, principalId: sp.objectId, clientId: sp.appId, isolationScope: isolationScope ?? 'None' };
    return [{ op: 'put', kind: PRINCIPALS, key: sp.objectId, value: sp, ifAbsent: true }];
  },
  beforeDelete(doc) {
    const principalId = (doc.properties as { principalId?: string } | undefined)?.principalId;
    return principalId ? [{ op: 'delete', kind: PRINCIPALS, key: principalId }] : [];
  },
};
