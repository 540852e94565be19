// The data-plane permission check. RBAC vaults ask the engine about the operation's exact data
// action at the item's scope (assignments at the vault, its group, the subscription or the item
// itself all reach it); access-policy vaults look for the permission in the caller's policy.
// Management roles such as Owner grant no data actions, as in Azure.
import type { AuthzEngine, Decision } from '../../authz/index.js';
import { ACCESS_POLICY_GRANT, type UsageSink } from '../../advisor/usage.js';
import { callerLabel, type KvCaller } from './authenticate.js';
import { KvError } from './errors.js';
import { recordGonePrincipalAccess, type AuditLog } from '../../arm/authorization/audit.js';
import { POLICY_CATEGORY, type OperationSpec } from './operations.js';
import type { VaultInfo } from './vaultModel.js';

export class KvAuthorizer {
  constructor(
    private readonly authz: AuthzEngine,
    private readonly usage: UsageSink,
    /** Where decisions on tokens of deleted or disabled principals are noted. */
    private readonly audit?: AuditLog,
  ) {}

  /** Throws the 403 Key Vault answers when the caller may not perform `op` (on item `name`). */
  check(vault: VaultInfo, caller: KvCaller, op: OperationSpec, name?: string): void {
    if (vault.rbac) {
      const action = op.dataAction;
      const scope = op.itemScoped && name ? `${vault.resourceId}/${op.coll}/${name}` : vault.resourceId;
      const decision = this.authz.decide({ principalId: caller.objectId, action, isDataAction: true, scope });
      this.usage.note(caller.objectId, action, true, scope, decision.allowed, decision.assignment?.id);
      if (caller.principalState) this.noteGone(caller, action, scope, decision.allowed, decision.reason);
      if (!decision.allowed) throw rbacDenied(vault, caller, action, scope, decision);
      return;
    }
    // Recorded with the data action RBAC would ask for, so the advisor can suggest the role.
    const category = POLICY_CATEGORY[op.coll];
    const permitted =
      vault.policies.permits(caller.objectId, caller.appId, category, op.permission) ||
      (op.orPermission !== undefined && vault.policies.permits(caller.objectId, caller.appId, category, op.orPermission));
    const scope = op.itemScoped && name ? `${vault.resourceId}/${op.coll}/${name}` : vault.resourceId;
    this.usage.note(caller.objectId, op.dataAction, true, scope, permitted, permitted ? `${ACCESS_POLICY_GRANT}${vault.resourceId}` : undefined);
    if (caller.principalState) this.noteGone(caller, op.dataAction, scope, permitted, permitted ? undefined : 'NoAccessPolicy');
    if (!permitted) throw policyDenied(vault, caller, op);
  }

  private noteGone(caller: KvCaller, action: string, scope: string, allowed: boolean, reason?: string): void {
    recordGonePrincipalAccess(this.audit, { caller: { objectId: caller.objectId, appId: caller.appId }, principalState: caller.principalState!, action, scope, allowed, ...(reason ? { reason } : {}) });
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
