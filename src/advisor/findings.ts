// Static findings over the directory, the role assignments, the vaults and the recommendations,
// each with a rule id and a severity (the rules are in RULES, documented in docs/ADVISOR.md).
// Pure: everything is handed in.
import type { RoleAssignment } from '../authz/index.js';
import type { RoleCatalog } from './catalog.js';
import type { Recommendation } from './recommend.js';
import { isBroadScope, isWithin } from './scopes.js';
import type { UsageEntry } from './usage.js';

export type Severity = 'high' | 'medium' | 'low';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high'];

/** The convention of the seeds' best practices: id-<app>-<environment>-<location>-<instance>. */
export const DEFAULT_NAMING_PATTERN = '^id-[a-z0-9]+-[a-z0-9]+-[a-z0-9]+-[0-9]+$';

/** Owner, Contributor, User Access Administrator. */
export const PRIVILEGED_ROLES: ReadonlySet<string> = new Set(['8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'b24988ac-6180-42a0-ab88-20f7382dd24c', '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9']);

const SECRET_READ = 'microsoft.keyvault/vaults/secrets/getsecret/action';

export const RULES = {
  'privileged-broad': { id: 'MIMIC001', name: 'PrivilegedRoleAtBroadScope', text: 'A managed identity holds Owner, Contributor or User Access Administrator at a subscription or management group.' },
  'unused-grant': { id: 'MIMIC002', name: 'UnusedRoleAssignment', text: 'A role assignment (or permissions within it) was never exercised in the recorded window.' },
  orphaned: { id: 'MIMIC003', name: 'OrphanedRoleAssignment', text: 'A role assignment whose principal no longer exists.' },
  naming: { id: 'MIMIC004', name: 'IdentityNamingConvention', text: 'A user-assigned identity whose name does not follow the naming convention.' },
  'shared-system-assigned': { id: 'MIMIC005', name: 'PreferUserAssignedIdentity', text: 'Several resources\' system-assigned identities need the same roles: one user-assigned identity would do.' },
  'vault-access-policies': { id: 'MIMIC006', name: 'KeyVaultAccessPolicies', text: 'A key vault still uses access policies instead of Azure RBAC.' },
  'secret-read-at-vault': { id: 'MIMIC007', name: 'SecretReadAtVaultScope', text: 'A secrets-read role is granted at the vault (or above) while only one secret is read.' },
  refused: { id: 'MIMIC008', name: 'RefusedCall', text: 'A call was refused; the nearest role that would have allowed it is named.' },
  'least-privilege': { id: 'MIMIC009', name: 'LeastPrivilegeRoleSet', text: 'The assignments differ from the least-privilege role set the recorded uses need.' },
} as const;

export type RuleKey = keyof typeof RULES;

export interface Finding {
  rule: RuleKey;
  ruleId: string;
  severity: Severity;
  message: string;
  /** The ARM id the finding is about (an assignment, a vault, an identity...). */
  target: string;
  principalId?: string;
}

export interface PrincipalFacts {
  objectId: string;
  displayName: string;
  servicePrincipalType: string;
  managedIdentityResourceId?: string;
  isSystemAssigned?: boolean;
}

export interface FindingsInput {
  catalog: RoleCatalog;
  /** Every principal in the directory, by lower-cased object id. */
  principals: ReadonlyMap<string, PrincipalFacts>;
  /** The assignments to judge (of the principals in question, or all). */
  assignments: readonly RoleAssignment[];
  vaults: readonly { id: string; name: string; rbac: boolean }[];
  recommendations: readonly Recommendation[];
  usage: readonly UsageEntry[];
  /** Identities to check against the naming convention. */
  identities: readonly PrincipalFacts[];
  namingPattern: RegExp;
}

function finding(rule: RuleKey, severity: Severity, message: string, target: string, principalId?: string): Finding {
  return { rule, ruleId: RULES[rule].id, severity, message, target, ...(principalId ? { principalId } : {}) };
}

function roleName(catalog: RoleCatalog, a: RoleAssignment): string {
  return catalog.role(a.roleDefinitionId)?.def.roleName ?? a.roleDefinitionId;
}

function guidOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1).toLowerCase();
}

export function findings(input: FindingsInput): Finding[] {
  const out: Finding[] = [];
  const { catalog, principals } = input;
  for (const a of input.assignments) {
    const p = principals.get(a.principalId.toLowerCase());
    const label = p ? `'${p.displayName}' (${a.principalId})` : a.principalId;
    if (!p && a.principalType !== 'Group' && a.principalType !== 'User') {
      out.push(finding('orphaned', 'medium', `The ${roleName(catalog, a)} assignment at '${a.scope}' names principal ${a.principalId}, which no longer exists: delete it (remove assignments before deleting an identity).`, a.id, a.principalId));
      continue;
    }
    if (p?.servicePrincipalType === 'ManagedIdentity' && PRIVILEGED_ROLES.has(guidOf(a.roleDefinitionId)) && isBroadScope(a.scope)) {
      out.push(finding('privileged-broad', 'high', `Managed identity ${label} holds ${roleName(catalog, a)} at '${a.scope}': assign only the roles it needs, as narrowly as possible.`, a.id, a.principalId));
    }
  }
  const assignmentById = new Map(input.assignments.map((a) => [a.id.toLowerCase(), a]));
  for (const r of input.recommendations) {
    const who = r.displayName ? `'${r.displayName}' (${r.principalId})` : r.principalId;
    for (const u of r.unused) {
      const a = assignmentById.get(u.assignmentId.toLowerCase());
      const privileged = a !== undefined && PRIVILEGED_ROLES.has(guidOf(a.roleDefinitionId)) && isBroadScope(a.scope);
      if (u.unused) {
        out.push(finding('unused-grant', privileged ? 'high' : 'medium', `${who} never used its ${u.roleName} assignment at '${u.scope}' in the recorded window: remove it.`, u.assignmentId, r.principalId));
      } else {
        const shown = u.unusedPermissions.slice(0, 5).join(', ') + (u.unusedPermissions.length > 5 ? `, and ${u.unusedPermissions.length - 5} more` : '');
        out.push(finding('unused-grant', 'low', `${who} used only part of ${u.roleName} at '${u.scope}'; never used: ${shown}.`, u.assignmentId, r.principalId));
      }
    }
    for (const f of r.refused) {
      const fix = f.nearestRole ? ` "${f.nearestRole.roleName}" would allow it: ${f.nearestRole.command}` : ' No built-in role grants it.';
      out.push(finding('refused', 'low', `${who} was refused '${f.action}' at '${f.scope}' (${f.count} time${f.count === 1 ? '' : 's'}).${fix}`, f.scope, r.principalId));
    }
    if (r.diff.add.length > 0 && r.diff.remove.length > 0) {
      const add = r.diff.add.map((x) => `${x.roleName} at '${x.scope}'`).join('; ');
      out.push(finding('least-privilege', 'medium', `${who} needs only: ${add}. Apply the recommendation's snippet and remove ${r.diff.remove.length} broader assignment(s).`, r.principalId, r.principalId));
    }
  }
  // Secrets-read roles at a vault or above while one secret is read through them.
  const secretsReadVia = new Map<string, Set<string>>();
  for (const u of input.usage) {
    if (u.allowed === 0 || u.action.toLowerCase() !== SECRET_READ) continue;
    for (const g of u.grants) {
      const set = secretsReadVia.get(g.toLowerCase()) ?? new Set<string>();
      set.add(u.scope.toLowerCase());
      secretsReadVia.set(g.toLowerCase(), set);
    }
  }
  for (const a of input.assignments) {
    const secrets = secretsReadVia.get(a.id.toLowerCase());
    if (secrets?.size !== 1 || /\/secrets\/[^/]+$/i.test(a.scope)) continue;
    const role = catalog.role(a.roleDefinitionId);
    if (role) {
      out.push(finding('secret-read-at-vault', 'medium', `${role.def.roleName} at '${a.scope}' was used to read one secret only ('${[...secrets][0]}'): assign it at that secret.`, a.id, a.principalId));
    }
  }
  for (const v of input.vaults) {
    if (!v.rbac) out.push(finding('vault-access-policies', 'medium', `Key vault '${v.name}' uses access policies: switch it to Azure RBAC (enableRbacAuthorization) so its access is governed and audited with role assignments.`, v.id));
  }
  for (const p of input.identities) {
    if (p.servicePrincipalType !== 'ManagedIdentity' || p.isSystemAssigned || !p.managedIdentityResourceId) continue;
    const name = p.managedIdentityResourceId.slice(p.managedIdentityResourceId.lastIndexOf('/') + 1);
    if (!input.namingPattern.test(name)) {
      out.push(finding('naming', 'low', `User-assigned identity '${name}' does not follow the naming convention ${input.namingPattern.source} (id-<app>-<environment>-<location>-<instance>).`, p.managedIdentityResourceId, p.objectId));
    }
  }
  // System-assigned identities of several resources that need the same role set.
  const bySet = new Map<string, Recommendation[]>();
  for (const r of input.recommendations) {
    const p = principals.get(r.principalId.toLowerCase());
    if (!p?.isSystemAssigned || r.roleSet.length === 0) continue;
    const key = r.roleSet.map((x) => `${guidOf(x.roleDefinitionId)}@${x.scope.toLowerCase()}`).sort().join(' ');
    bySet.set(key, [...(bySet.get(key) ?? []), r]);
  }
  for (const group of bySet.values()) {
    if (group.length < 2) continue;
    const hosts = group.map((r) => principals.get(r.principalId.toLowerCase())!.managedIdentityResourceId ?? r.principalId);
    out.push(finding('shared-system-assigned', 'low', `${group.length} resources' system-assigned identities need the same roles (${group[0]!.roleSet.map((x) => x.roleName).join(', ')}): ${hosts.join(', ')}. One user-assigned identity shared by them needs one set of assignments.`, hosts[0]!));
  }
  return out;
}

/** Findings at or above the threshold (for --fail-on). */
export function atOrAbove(list: readonly Finding[], threshold: Severity): Finding[] {
  const min = SEVERITIES.indexOf(threshold);
  return list.filter((f) => SEVERITIES.indexOf(f.severity) >= min);
}

export function scopeOfFinding(f: Finding, scope: string): boolean {
  return isWithin(f.target, scope);
}
