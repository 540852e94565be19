// The built-in roles as the advisor weighs them: each role compiled once, its breadth (how much
// it grants, see `breadth`), and per action the roles that grant it without a condition,
// cheapest first. Pure: built from role definitions handed in.
import { CompiledPermissions } from '../authz/permissions.js';
import { actionMatches, type RoleDefinition } from '../authz/index.js';

export interface CatalogRole {
  def: RoleDefinition;
  /** The role's GUID, lower-cased. */
  guid: string;
  perms: CompiledPermissions;
  breadth: number;
  /** Its Actions and DataActions patterns, for "which permissions were never used". */
  patterns: { text: string; isDataAction: boolean }[];
}

/**
 * How much a pattern grants, as a rough count of operations: an exact action is 1; a wildcard
 * weighs 4^(6-k), k being the number of path segments before the star (so `*` is 4096,
 * `Microsoft.KeyVault/*` 1024, `Microsoft.KeyVault/vaults/secrets/*` 64), divided by 4 when
 * text follows the star (`*\/read` grants only reads). NotActions are not subtracted: a
 * role that grants everything but a few things is still broad.
 */
export function patternBreadth(pattern: string): number {
  const star = pattern.indexOf('*');
  if (star === -1) return 1;
  const k = pattern.slice(0, star).split('/').filter((s) => s.length > 0).length;
  const suffix = pattern.length > star + 1;
  return Math.max(2, Math.pow(4, Math.max(0, 6 - k)) / (suffix ? 4 : 1));
}

export function roleBreadth(def: RoleDefinition): number {
  let sum = 0;
  for (const p of def.permissions) {
    for (const a of p.actions) sum += patternBreadth(a);
    for (const a of p.dataActions) sum += patternBreadth(a);
  }
  return sum;
}

/**
 * Roles published for another service that happen to include an action (a Cosmos DB analytics
 * role writing blobs) weigh this many times their breadth, so the service's own role wins.
 */
const FOREIGN_ROLE_FACTOR = 16;
/** Providers whose actions most roles carry for the portal's sake, not as their purpose. */
const SUPPORTING_PROVIDERS = new Set(['authorization', 'resources', 'support', 'insights', 'resourcehealth', 'features']);

/**
 * Whether the role is named after one of the providers it grants on (Key Vault Secrets User on
 * Microsoft.KeyVault, Storage Blob Data Reader on Microsoft.Storage; roles granting on no
 * provider in particular count as named).
 */
export function namedForItsService(def: RoleDefinition): boolean {
  const providers = new Set<string>();
  for (const p of def.permissions) {
    for (const a of [...p.actions, ...p.dataActions]) {
      const ns = a.split('/')[0]!.toLowerCase().replace(/^microsoft\./, '');
      if (ns !== '*' && !SUPPORTING_PROVIDERS.has(ns)) providers.add(ns);
    }
  }
  if (providers.size === 0) return true;
  const name = def.roleName.toLowerCase().replace(/[^a-z0-9]/g, '').replace(/^azure/, '');
  for (const ns of providers) if (name.startsWith(ns)) return true;
  return false;
}

function guidOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1).toLowerCase();
}

/** `c:` or `d:` plus the lower-cased action: one key per (action, plane). */
export function actionKey(action: string, isDataAction: boolean): string {
  return (isDataAction ? 'd:' : 'c:') + action.toLowerCase();
}

export class RoleCatalog {
  readonly roles: CatalogRole[];
  private readonly byGuid = new Map<string, CatalogRole>();
  private readonly granting = new Map<string, CatalogRole[]>();

  /**
   * Built-in roles only are candidates; never deprecated ones, nor the "... Service Role" ones
   * Azure publishes for its own services to use. Preview roles weigh eight times their breadth,
   * so a generally available role of similar reach wins.
   */
  constructor(defs: readonly RoleDefinition[]) {
    this.roles = [];
    for (const def of defs) {
      const role: CatalogRole = {
        def,
        guid: guidOf(def.name || def.id),
        perms: new CompiledPermissions(def.permissions),
        breadth: roleBreadth(def) * (/\(preview\)/i.test(def.roleName) ? 8 : 1) * (namedForItsService(def) ? 1 : FOREIGN_ROLE_FACTOR),
        patterns: def.permissions.flatMap((p) => [...p.actions.map((text) => ({ text, isDataAction: false })), ...p.dataActions.map((text) => ({ text, isDataAction: true }))]),
      };
      this.byGuid.set(role.guid, role);
      const candidate = def.roleType === 'BuiltInRole' && !/deprecated|service role/i.test(def.roleName) && def.assignableScopes.includes('/');
      if (candidate) this.roles.push(role);
    }
    // Cheapest first, then by name, so every "first" below is the documented tie-break.
    this.roles.sort(compareRoles);
  }

  role(idOrGuid: string): CatalogRole | undefined {
    return this.byGuid.get(guidOf(idOrGuid));
  }

  /**
   * Candidate roles granting the action unconditionally, narrowest first. A role that reaches
   * the action only through a pattern naming no provider (`*`, `*\/read`) is no candidate:
   * granting everything is never the least privilege (such an action gets a custom role).
   */
  grantingRoles(action: string, isDataAction: boolean): readonly CatalogRole[] {
    const key = actionKey(action, isDataAction);
    let list = this.granting.get(key);
    if (list === undefined) {
      list = this.roles.filter((r) => r.perms.grants(action, isDataAction)?.length === 0 && r.patterns.some((p) => p.isDataAction === isDataAction && !p.text.startsWith('*') && actionMatches(p.text, action)));
      this.granting.set(key, list);
    }
    return list;
  }
}

export function compareRoles(a: CatalogRole, b: CatalogRole): number {
  return a.breadth - b.breadth || (a.def.roleName < b.def.roleName ? -1 : a.def.roleName > b.def.roleName ? 1 : 0);
}
