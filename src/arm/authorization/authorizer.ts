// The Resource Manager's permission check, backed by the RBAC engine: a refused control-plane
// action answers like ARM (403 AuthorizationFailed naming the client, action and scope) and is
// written to the audit log.
import type { AuthzEngine, Decision, RequestAttributes } from '../../authz/index.js';
import { ArmError } from '../errors.js';
import type { Caller } from '../model.js';
import type { Authorizer } from '../service.js';
import type { AuditLog } from './audit.js';

export class RbacAuthorizer implements Authorizer {
  constructor(
    private readonly engine: AuthzEngine,
    private readonly audit: AuditLog,
  ) {}

  decide(caller: Caller, action: string, scope: string, attributes?: RequestAttributes): Decision {
    return this.engine.decide({ principalId: caller.objectId, action, isDataAction: false, scope, ...(attributes ? { attributes } : {}) });
  }

  /** The decision alone: no error, no audit entry (for filtering what a list shows). */
  allows(caller: Caller, action: string, scope: string): boolean {
    return this.decide(caller, action, scope).allowed;
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
    if (decision.allowed) return;
    this.audit.record({
      category: 'AccessDenied',
      operation: action,
      result: 'Denied',
      caller: { objectId: caller.objectId, appId: caller.appId },
      scope,
      reason: decision.reason,
      ...(decision.denyAssignment ? { target: decision.denyAssignment.id } : {}),
      ...(decision.assignment ? { roleDefinitionId: decision.assignment.roleDefinitionId, roleName: decision.role?.roleName } : {}),
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
