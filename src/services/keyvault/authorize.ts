// The data-plane permission check. RBAC vaults ask the engine about the operation's exact data
// action at the item's scope (assignments at the vault, its group, the subscription or the item
// itself all reach it); access-policy vaults look for the permission in the caller's policy.
// Management roles such as Owner grant no data actions, as in Azure.
import type { AuthzEngine, Decision } from '../../authz/index.js';
import { callerLabel, type KvCaller } from './authenticate.js';
import { KvError } from './errors.js';
import { POLICY_CATEGORY, type OperationSpec } from './operations.js';
import type { VaultInfo } from './vaultModel.js';

export class KvAuthorizer {
  constructor(private readonly authz: AuthzEngine) {}

  /** Throws the 403 Key Vault answers when the caller may not perform `op` (on item `name`). */
  check(vault: VaultInfo, caller: KvCaller, op: OperationSpec, name?: string): void {
    if (vault.rbac) {
      const action = op.dataAction;
      const scope = op.itemScoped && name ? `${vault.resourceId}/${op.coll}/${name}` : vault.resourceId;
      const decision = this.authz.decide({ principalId: caller.objectId, action, isDataAction: true, scope });
      if (!decision.allowed) throw rbacDenied(vault, caller, action, scope, decision);
      return;
    }
    const category = POLICY_CATEGORY[op.coll];
    if (!vault.policies.permits(caller.objectId, caller.appId, category, op.permission) && !(op.orPermission && vault.policies.permits(caller.objectId, caller.appId, category, op.orPermission))) {
      throw policyDenied(vault, caller, op);
    }
  }
}

function rbacDenied(vault: VaultInfo, caller: KvCaller, action: string, scope: string, d: Decision): KvError {
  const deny = d.denyAssignment;
  const lines = [
    'Caller is not authorized to perform action on resource.',
    `Caller: ${callerLabel(caller)}`,
    `Action: '${action}'`,
    `Resource: '${scope.toLowerCase()}'`,
    'Assignment: (not found)',
    `DenyAssignmentId: ${deny ? deny.id : 'null'}`,
    `DecisionReason: '${deny ? 'DeniedByDenyAssignment' : 'DeniedWithNoValidRBAC'}' `,
    `Vault: ${vault.name};location=${vault.location}`,
  ];
  return new KvError(403, 'Forbidden', lines.join('\r\n') + '\r\n', 'ForbiddenByRbac');
}

function policyDenied(vault: VaultInfo, caller: KvCaller, op: OperationSpec): KvError {
  const who = `appid=${caller.appId};oid=${caller.objectId};numgroups=0;iss=${caller.issuer}`;
  return new KvError(
    403,
    'Forbidden',
    `The user, group or application '${who}' does not have ${op.coll} ${op.permission} permission on key vault '${vault.name};location=${vault.location}'. Grant it with an access policy (or switch the vault to Azure RBAC).`,
    'ForbiddenByPolicy',
  );
}
