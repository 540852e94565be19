// `mimic role assignment|definition|deny|check`: Azure RBAC through the Resource Manager API,
// shaped like `az role ...`. Roles may be named or given by id; principals by object id, client
// id, identity name (user-assigned identity or app registration display name) or the ARM id of
// a user-assigned identity or of a resource with a system-assigned identity.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, type MimicClient } from '../client.js';
import { client, dataDirOption, jsonOption, subPath } from '../common.js';
import type { PrincipalSummary } from '../../arm/authorization/directoryApi.js';

const AUTHZ_API = '2022-04-01';
export const DIRECTORY_API = '2024-01-01';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---- shared helpers --------------------------------------------------------------------------

/** Prints rows as aligned columns (or JSON). */
export function printRows(rows: Record<string, string>[], json: boolean, raw: unknown = rows): void {
  if (json) {
    process.stdout.write(JSON.stringify(raw, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write([line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n') + '\n');
}

/** `--scope` as given, else the resource group (`-g`), else the subscription. */
export function scopeOf(c: MimicClient, o: { scope?: string; resourceGroup?: string }): string {
  if (o.scope) return o.scope.startsWith('/') ? o.scope.replace(/\/+$/, '') || '/' : `/${o.scope}`;
  return subPath(c, o.resourceGroup);
}

function extensionPath(scope: string, rest: string): string {
  return `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/${rest}`;
}

/** The wire shape of `/providers/Mimic.Directory/servicePrincipals` entries. */
type DirectoryEntry = PrincipalSummary;

export async function directoryEntries(c: MimicClient): Promise<DirectoryEntry[]> {
  return (await c.arm<{ value: DirectoryEntry[] }>('GET', '/providers/Mimic.Directory/servicePrincipals', DIRECTORY_API))?.value ?? [];
}

/** Turns what the user typed into a principal (object) id. */
export async function resolvePrincipal(c: MimicClient, assignee: string, resourceGroup?: string): Promise<{ principalId: string; entry?: DirectoryEntry }> {
  const entries = await directoryEntries(c);
  const lower = assignee.toLowerCase();
  if (GUID.test(assignee)) {
    const entry = entries.find((e) => e.objectId.toLowerCase() === lower) ?? entries.find((e) => e.appId.toLowerCase() === lower);
    return entry ? { principalId: entry.objectId, entry } : { principalId: lower };
  }
  if (assignee.startsWith('/')) {
    const id = lower.replace(/\/+$/, '');
    const entry = entries.find((e) => e.managedIdentityResourceId?.toLowerCase() === id);
    if (!entry) throw new CliError(`no managed identity belongs to '${assignee}' (a user-assigned identity id, or a resource with a system-assigned identity)`, 3);
    return { principalId: entry.objectId, entry };
  }
  let matches = entries.filter((e) => e.displayName.toLowerCase() === lower);
  if (resourceGroup && matches.length > 1) matches = matches.filter((e) => e.managedIdentityResourceId?.toLowerCase().includes(`/resourcegroups/${resourceGroup.toLowerCase()}/`));
  if (matches.length === 1) return { principalId: matches[0]!.objectId, entry: matches[0]! };
  if (matches.length === 0) throw new CliError(`no principal named '${assignee}' (give an object id, client id, identity name or resource id)`, 3);
  throw new CliError(`'${assignee}' names ${matches.length} principals; give one of: ${matches.map((m) => m.managedIdentityResourceId ?? m.objectId).join(', ')}`, 2);
}

interface RoleDefinitionBody {
  id: string;
  name: string;
  properties: { roleName: string; type: string; description: string; assignableScopes: string[]; permissions: unknown[] };
}

/** Finds a role by GUID, role definition id or (case-insensitive) name. */
export async function resolveRole(c: MimicClient, role: string, scope: string): Promise<RoleDefinitionBody> {
  const at = scope;
  const guid = role.split('/').pop()!;
  if (GUID.test(guid)) {
    const found = await c.arm<RoleDefinitionBody>('GET', extensionPath(at, `roleDefinitions/${guid}`), AUTHZ_API);
    return found!;
  }
  const filter = encodeURIComponent(`roleName eq '${role.replace(/'/g, "''")}'`);
  const list = (await c.arm<{ value: RoleDefinitionBody[] }>('GET', `${extensionPath(at, 'roleDefinitions')}?$filter=${filter}`, AUTHZ_API))?.value ?? [];
  if (list.length === 0) throw new CliError(`Role '${role}' doesn't exist.`, 3);
  return list[0]!;
}

interface AssignmentBody {
  id: string;
  name: string;
  type: string;
  properties: { scope: string; roleDefinitionId: string; principalId: string; principalType: string; condition: string | null; conditionVersion: string | null; description: string | null; createdOn: string };
}

async function listAssignments(c: MimicClient, scope: string, principalId?: string): Promise<AssignmentBody[]> {
  const out: AssignmentBody[] = [];
  const filter = principalId ? `?$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}` : '';
  let page = await c.arm<{ value: AssignmentBody[]; nextLink?: string }>('GET', `${extensionPath(scope, 'roleAssignments')}${filter}`, AUTHZ_API);
  for (let i = 0; page && i < 1000; i++) {
    out.push(...page.value);
    if (!page.nextLink) break;
    const next = new URL(page.nextLink);
    next.searchParams.delete('api-version');
    page = await c.arm<{ value: AssignmentBody[]; nextLink?: string }>('GET', `${next.pathname}?${next.searchParams.toString()}`, AUTHZ_API);
  }
  return out;
}

/** The assignment as `az role assignment list` shows it (unknown principals have an empty name). */
async function azView(c: MimicClient, list: AssignmentBody[]): Promise<Array<Record<string, unknown>>> {
  const entries = new Map((await directoryEntries(c)).map((e) => [e.objectId.toLowerCase(), e]));
  const roleNames = new Map<string, string>();
  for (const a of list) {
    const guid = a.properties.roleDefinitionId.split('/').pop()!.toLowerCase();
    if (!roleNames.has(guid)) {
      const role = await c.arm<RoleDefinitionBody>('GET', extensionPath(subPath(c), `roleDefinitions/${guid}`), AUTHZ_API).catch(() => undefined);
      roleNames.set(guid, role?.properties.roleName ?? '');
    }
  }
  return list.map((a) => {
    const entry = entries.get(a.properties.principalId.toLowerCase());
    return {
      id: a.id,
      name: a.name,
      principalId: a.properties.principalId,
      principalName: entry?.displayName ?? '',
      principalType: a.properties.principalType,
      roleDefinitionId: a.properties.roleDefinitionId,
      roleDefinitionName: roleNames.get(a.properties.roleDefinitionId.split('/').pop()!.toLowerCase()) ?? '',
      scope: a.properties.scope,
      condition: a.properties.condition,
      conditionVersion: a.properties.conditionVersion,
      description: a.properties.description,
      createdOn: a.properties.createdOn,
      type: a.type,
    };
  });
}

function assignmentRows(list: Array<Record<string, unknown>>): Record<string, string>[] {
  return list.map((a) => ({
    Principal: String(a.principalName || 'Unknown'),
    PrincipalId: String(a.principalId),
    Type: String(a.principalType),
    Role: String(a.roleDefinitionName || a.roleDefinitionId),
    Scope: String(a.scope),
    Name: String(a.name),
  }));
}

function scopeKey(s: string): string {
  return s.toLowerCase().replace(/\/+$/, '') || '/';
}

// ---- commands --------------------------------------------------------------------------------

interface ScopeOptions {
  scope?: string;
  resourceGroup?: string;
  dataDir?: string;
  json?: boolean;
}

const scoped = (cmd: Command) => cmd.option('--scope <scope>', 'scope (default: the subscription)').option('-g, --resource-group <rg>', 'a resource group of the subscription').addOption(dataDirOption()).addOption(jsonOption());

export function registerRoleCommands(program: Command): void {
  const role = program.command('role').description('Azure RBAC: role assignments, role definitions, deny assignments, access checks');
  const assignment = role.command('assignment').description('manage role assignments');

  scoped(
    assignment
      .command('create')
      .description('assign a role to a principal at a scope')
      .requiredOption('--assignee <principal>', 'object id, client id, identity name, or resource id')
      .requiredOption('--role <role>', 'role name or id')
      .option('--assignee-principal-type <type>', 'principal type to record without looking the principal up (User, Group, ServicePrincipal, ...)')
      .option('--description <text>')
      .option('--condition <condition>', 'ABAC condition (version 2.0)')
      .option('--condition-version <version>', 'condition version', undefined)
      .option('--name <guid>', 'assignment name (default: a new GUID)'),
  ).action(async (o: ScopeOptions & { assignee: string; role: string; assigneePrincipalType?: string; description?: string; condition?: string; conditionVersion?: string; name?: string }) => {
    const c = await client(o);
    const scope = scopeOf(c, o);
    const { principalId } = await resolvePrincipal(c, o.assignee, o.resourceGroup);
    const def = await resolveRole(c, o.role, scope);
    const body = await c.arm<AssignmentBody>('PUT', extensionPath(scope, `roleAssignments/${o.name ?? randomUUID()}`), AUTHZ_API, {
      properties: {
        roleDefinitionId: def.id,
        principalId,
        ...(o.assigneePrincipalType ? { principalType: o.assigneePrincipalType } : {}),
        ...(o.description ? { description: o.description } : {}),
        ...(o.condition ? { condition: o.condition, conditionVersion: o.conditionVersion ?? '2.0' } : {}),
      },
    });
    const [view] = await azView(c, [body!]);
    printRows(assignmentRows([view!]), !!o.json, view);
  });

  scoped(
    assignment
      .command('list')
      .description('list role assignments (at the scope; --all adds those below it, --include-inherited those above)')
      .option('--assignee <principal>')
      .option('--role <role>')
      .option('--all', 'also assignments below the scope')
      .option('--include-inherited', 'also assignments above the scope'),
  ).action(async (o: ScopeOptions & { assignee?: string; role?: string; all?: boolean; includeInherited?: boolean }) => {
    const c = await client(o);
    const scope = scopeOf(c, o);
    const principalId = o.assignee ? (await resolvePrincipal(c, o.assignee, o.resourceGroup)).principalId : undefined;
    const roleGuid = o.role ? (await resolveRole(c, o.role, scope)).name.toLowerCase() : undefined;
    const target = scopeKey(scope);
    const list = (await listAssignments(c, scope, principalId)).filter((a) => {
      const at = scopeKey(a.properties.scope);
      const same = at === target;
      const below = at.startsWith(target === '/' ? '/' : target + '/');
      const above = target.startsWith(at === '/' ? '/' : at + '/');
      if (roleGuid && a.properties.roleDefinitionId.split('/').pop()!.toLowerCase() !== roleGuid) return false;
      return same || (o.all && below) || (o.includeInherited && above);
    });
    const views = await azView(c, list);
    printRows(assignmentRows(views), !!o.json, views);
  });

  scoped(
    assignment
      .command('delete')
      .description('delete role assignments by id, or by assignee and/or role at a scope')
      .option('--ids <ids...>', 'role assignment ids')
      .option('--assignee <principal>')
      .option('--role <role>'),
  ).action(async (o: ScopeOptions & { ids?: string[]; assignee?: string; role?: string }) => {
    const c = await client(o);
    let ids = o.ids ?? [];
    if (ids.length === 0) {
      if (!o.assignee && !o.role) throw new CliError('say which assignments to delete: --ids, or --assignee and/or --role', 2);
      const scope = scopeOf(c, o);
      const principalId = o.assignee ? (await resolvePrincipal(c, o.assignee, o.resourceGroup)).principalId : undefined;
      const roleGuid = o.role ? (await resolveRole(c, o.role, scope)).name.toLowerCase() : undefined;
      ids = (await listAssignments(c, scope, principalId))
        .filter((a) => scopeKey(a.properties.scope) === scopeKey(scope) && (!roleGuid || a.properties.roleDefinitionId.toLowerCase().endsWith(roleGuid)))
        .map((a) => a.id);
      if (ids.length === 0) throw new CliError('no matching role assignment at that scope', 3);
    }
    for (const id of ids) {
      await c.arm('DELETE', id, AUTHZ_API);
      process.stdout.write(`Deleted role assignment ${id}\n`);
    }
  });

  // ---- definitions ----
  const definition = role.command('definition').description('list, show, create and delete role definitions');
  scoped(definition.command('list').option('--name <roleName>', 'only the role with this name').option('--custom-role-only', 'only custom roles')).action(
    async (o: ScopeOptions & { name?: string; customRoleOnly?: boolean }) => {
      const c = await client(o);
      const filters = [o.name ? `roleName eq '${o.name.replace(/'/g, "''")}'` : '', o.customRoleOnly ? "type eq 'CustomRole'" : ''].filter(Boolean).join(' and ');
      const list = (await c.arm<{ value: RoleDefinitionBody[] }>('GET', `${extensionPath(scopeOf(c, o), 'roleDefinitions')}${filters ? `?$filter=${encodeURIComponent(filters)}` : ''}`, AUTHZ_API))?.value ?? [];
      printRows(
        list.map((r) => ({ Name: r.properties.roleName, Id: r.name, Type: r.properties.type })),
        !!o.json,
        list,
      );
    },
  );
  scoped(definition.command('show').requiredOption('--name <role>', 'role name or id')).action(async (o: ScopeOptions & { name: string }) => {
    const c = await client(o);
    const def = await resolveRole(c, o.name, scopeOf(c, o));
    if (o.json) return printRows([], true, def);
    const p = def.properties;
    const lines = [`${p.roleName} (${def.name}, ${p.type})`, p.description, `assignable scopes: ${p.assignableScopes.join(', ')}`];
    for (const [i, block] of (p.permissions as Array<Record<string, string[]>>).entries()) {
      lines.push(`permissions[${i}]:`);
      for (const k of ['actions', 'notActions', 'dataActions', 'notDataActions']) if (block[k]?.length) lines.push(`  ${k}: ${block[k]!.join(', ')}`);
      if (block.condition) lines.push(`  condition: ${String(block.condition)}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  });
  scoped(definition.command('create').requiredOption('--role-definition <json>', "the role as JSON (az's format: Name, Description, Actions, NotActions, DataActions, NotDataActions, AssignableScopes), or @file")).action(
    async (o: ScopeOptions & { roleDefinition: string }) => {
      const c = await client(o);
      const text = o.roleDefinition.startsWith('@') ? await readFile(o.roleDefinition.slice(1), 'utf8') : o.roleDefinition;
      let spec: Record<string, unknown>;
      try {
        spec = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new CliError('--role-definition must be JSON', 2);
      }
      const pick = (k: string) => spec[k] ?? spec[k.charAt(0).toLowerCase() + k.slice(1)];
      const scopes = (pick('AssignableScopes') as string[] | undefined) ?? [subPath(c)];
      const guid = typeof pick('Id') === 'string' && GUID.test(String(pick('Id')).split('/').pop()!) ? String(pick('Id')).split('/').pop()! : randomUUID();
      const body = await c.arm<RoleDefinitionBody>('PUT', extensionPath(subPath(c), `roleDefinitions/${guid}`), AUTHZ_API, {
        properties: {
          roleName: pick('Name') ?? pick('RoleName'),
          description: pick('Description') ?? '',
          type: 'CustomRole',
          permissions: [{ actions: pick('Actions') ?? [], notActions: pick('NotActions') ?? [], dataActions: pick('DataActions') ?? [], notDataActions: pick('NotDataActions') ?? [] }],
          assignableScopes: scopes,
        },
      });
      printRows([{ Name: body!.properties.roleName, Id: body!.name, Type: body!.properties.type }], !!o.json, body);
    },
  );
  scoped(definition.command('delete').requiredOption('--name <role>', 'role name or id')).action(async (o: ScopeOptions & { name: string }) => {
    const c = await client(o);
    const def = await resolveRole(c, o.name, scopeOf(c, o));
    await c.arm('DELETE', extensionPath(subPath(c), `roleDefinitions/${def.name}`), AUTHZ_API);
    process.stdout.write(`Deleted role definition ${def.properties.roleName} (${def.name})\n`);
  });

  // ---- deny assignments ----
  const deny = role.command('deny').description('deny assignments (created by the administrator, who plays the Azure platform)');
  scoped(deny.command('list')).action(async (o: ScopeOptions) => {
    const c = await client(o);
    const list = (await c.arm<{ value: Array<{ id: string; name: string; properties: Record<string, unknown> }> }>('GET', extensionPath(scopeOf(c, o), 'denyAssignments'), AUTHZ_API))?.value ?? [];
    printRows(
      list.map((d) => ({ Name: String(d.properties.denyAssignmentName), Scope: String(d.properties.scope), Actions: ((d.properties.permissions as Array<{ actions: string[]; dataActions: string[] }>)[0]?.actions ?? []).concat((d.properties.permissions as Array<{ dataActions: string[] }>)[0]?.dataActions ?? []).join(', '), Id: d.name })),
      !!o.json,
      list,
    );
  });
  scoped(
    deny
      .command('create')
      .requiredOption('--deny-name <name>', 'display name')
      .option('--actions <actions...>', 'control-plane actions to deny', [])
      .option('--data-actions <actions...>', 'data actions to deny', [])
      .option('--not-actions <actions...>', 'actions left allowed', [])
      .requiredOption('--principals <principals...>', "principals denied ('everyone' for all)")
      .option('--exclude <principals...>', 'principals exempted', [])
      .option('--no-children', 'apply at this scope only, not below'),
  ).action(async (o: ScopeOptions & { denyName: string; actions: string[]; dataActions: string[]; notActions: string[]; principals: string[]; exclude: string[]; children: boolean }) => {
    const c = await client(o);
    const toPrincipal = async (p: string) => (p.toLowerCase() === 'everyone' ? { id: '00000000-0000-0000-0000-000000000000', type: 'SystemDefined' } : { id: (await resolvePrincipal(c, p, o.resourceGroup)).principalId, type: 'ServicePrincipal' });
    const body = await c.arm<{ name: string }>('PUT', extensionPath(scopeOf(c, o), `denyAssignments/${randomUUID()}`), AUTHZ_API, {
      properties: {
        denyAssignmentName: o.denyName,
        permissions: [{ actions: o.actions, notActions: o.notActions, dataActions: o.dataActions, notDataActions: [] }],
        principals: await Promise.all(o.principals.map(toPrincipal)),
        excludePrincipals: await Promise.all(o.exclude.map(toPrincipal)),
        doNotApplyToChildScopes: !o.children,
      },
    });
    printRows([{ Name: o.denyName, Id: body!.name }], !!o.json, body);
  });
  scoped(deny.command('delete').requiredOption('--id <id>', 'deny assignment id or name')).action(async (o: ScopeOptions & { id: string }) => {
    const c = await client(o);
    const id = o.id.startsWith('/') ? o.id : extensionPath(scopeOf(c, o), `denyAssignments/${o.id}`);
    await c.arm('DELETE', id, AUTHZ_API);
    process.stdout.write(`Deleted deny assignment ${id}\n`);
  });

  // ---- check ----
  scoped(
    role
      .command('check')
      .description('answer whether a principal may perform an action at a scope, and why')
      .requiredOption('--principal <principal>', 'object id, client id, identity name, or resource id')
      .requiredOption('--action <action>', "e.g. 'Microsoft.KeyVault/vaults/secrets/getSecret/action'")
      .option('--data-action', 'treat the action as a data action (default: guessed from the built-in roles)')
      .option('--control-action', 'treat the action as a control-plane action')
      .option('--attribute <key=value...>', 'request attributes for conditions, e.g. @Resource[...:name]=logs')
      .option('--sub-operation <name>', 'suboperation, e.g. Blob.List'),
  ).action(async (o: ScopeOptions & { principal: string; action: string; dataAction?: boolean; controlAction?: boolean; attribute?: string[]; subOperation?: string }) => {
    const c = await client(o);
    if (o.dataAction && o.controlAction) throw new CliError('--data-action and --control-action exclude each other', 2);
    const { principalId } = await resolvePrincipal(c, o.principal, o.resourceGroup);
    const attributes: Record<string, string> = {};
    for (const a of o.attribute ?? []) {
      const i = a.lastIndexOf('=');
      if (i <= 0) throw new CliError(`--attribute '${a}' is not key=value`, 2);
      attributes[a.slice(0, i)] = a.slice(i + 1);
    }
    const result = await c.arm<{ allowed: boolean; explanation: string; nearMisses: Array<{ why: string }> }>('POST', extensionPath(scopeOf(c, o), 'checkAccess'), AUTHZ_API, {
      principalId,
      action: o.action,
      ...(o.dataAction ? { isDataAction: true } : o.controlAction ? { isDataAction: false } : {}),
      ...(o.subOperation ? { subOperation: o.subOperation } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
    });
    if (o.json) return printRows([], true, result);
    const lines = [result!.explanation];
    if (!result!.allowed && result!.nearMisses.length > 1) lines.push('Other assignments of this principal:', ...result!.nearMisses.slice(1).map((m) => `  - ${m.why}`));
    process.stdout.write(lines.join('\n') + '\n');
  });
}
