// The Resource Manager's permission check, backed by the RBAC engine: a refused control-plane
// action answers like ARM (403 AuthorizationFailed naming the client, action and scope) and is
// written to the audit log.
import type { AuthzEngine, Decision, RequestAttributes } from '../../authz/index.js';
import { ArmError } from '../errors.js';
import type { Caller } from '../model.js';
import type { Authorizer } from '../service.js';
import { principalStateFields, recordGonePrincipalAccess, type AuditLog } from './audit.js';
import type { UsageSink } from '../../advisor/usage.js';

export class RbacAuthorizer implements Authorizer {
  constructor(
    private readonly engine: AuthzEngine,
    private readonly audit: AuditLog,
    private readonly usage: UsageSink,
  ) {}

  decide(caller: Caller, action: string, scope: string, attributes?: RequestAttributes): Decision {
    return this.engine.decide({ principalId: caller.objectId, action, isDataAction: false, scope, ...(attributes ? { attributes } : {}) });
  }

  /**
   * The decision alone: no error, no audit entry (for filtering what a list shows). An item a
   * list shows was read, so the usage record gets it; an item left out is no refusal.
   */
  allows(caller: Caller, action: string, scope: string): boolean {
    const decision = this.decide(caller, action, scope);
    if (decision.allowed) this.usage.note(caller.objectId, action, false, scope, true, decision.assignment?.id);
    return decision.allowed;
  }

  holdsRoleUnder(caller: Caller, scope: string): boolean {
    const prefix = scope.toLowerCase();
    return this.engine.assignmentsFor(caller.objectId).some((a) => {
      const s = a.scope.toLowerCase();
      return s === prefix || s.startsWith(prefix + '/');
    });
  }

  check(caller: Caller, action: string, scope: string, attributes?: RequestAttributes): void {
    const decision = this.decide(caller, action, scope, attributes);
    this.usage.note(caller.objectId, action, false, scope, decision.allowed, decision.assignment?.id);
    if (decision.allowed) {
      if (caller.principalState) recordGonePrincipalAccess(this.audit, { caller: { objectId: caller.objectId, appId: caller.appId }, principalState: caller.principalState, action, scope, allowed: true });
      return;
    }
    this.audit.record({
      category: 'AccessDenied',
      operation: action,
      result: 'Denied',
      caller: { objectId: caller.objectId, appId: caller.appId },
      scope,
      reason: decision.reason,
      ...(decision.denyAssignment ? { target: decision.denyAssignment.id } : {}),
      ...(decision.assignment ? { roleDefinitionId: decision.assignment.roleDefinitionId, roleName: decision.role?.roleName } : {}),
      ...(caller.principalState ? principalStateFields(caller.principalState) : {}),
    });
    throw authorizationFailed(caller, action, scope, decision);
  }
}

export function authorizationFailed(caller: Caller, action: string, scope: string, decision: Decision): ArmError {
  const who = `The client '${caller.appId || caller.objectId}' with object id '${caller.objectId}'`;
  const deny = decision.denyAssignment;
  if (deny) {
    return new ArmError(
      403,
      'AuthorizationFailed',
      `${who} is not allowed to perform action '${action}' over scope '${scope}': the deny assignment with name '${deny.denyAssignmentName ?? deny.name}' and id '${deny.id}' at scope '${deny.scope}' denies it.`,
    );
  }
  return new ArmError(
    403,
    'AuthorizationFailed',
    `${who} does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}
