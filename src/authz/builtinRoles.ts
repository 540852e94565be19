// Loads the built-in role definitions shipped in data/builtin-roles.json (the output of
// `az role definition list` for built-in roles). The only module of src/authz that reads
// a file; the engine itself never does I/O.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Permission, RoleDefinition } from './types.js';

const DATA_FILE = join('data', 'builtin-roles.json');
const ROLE_DEFINITION_PREFIX = '/providers/Microsoft.Authorization/roleDefinitions/';

interface RawPermission {
  actions?: string[] | null;
  notActions?: string[] | null;
  dataActions?: string[] | null;
  notDataActions?: string[] | null;
  condition?: string | null;
  conditionVersion?: string | null;
}

interface RawRole {
  name: string;
  roleName: string;
  description?: string | null;
  roleType?: string;
  permissions?: RawPermission[] | null;
  assignableScopes?: string[] | null;
}

/**
 * The package root is the nearest ancestor holding the data file. Walking up works both
 * from dist/src/authz (compiled) and from src/authz (run from source).
 */
function dataFilePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, DATA_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find ${DATA_FILE} above ${fileURLToPath(import.meta.url)}`);
}

function toPermission(p: RawPermission): Permission {
  const permission: Permission = {
    actions: Object.freeze([...(p.actions ?? [])]) as string[],
    notActions: Object.freeze([...(p.notActions ?? [])]) as string[],
    dataActions: Object.freeze([...(p.dataActions ?? [])]) as string[],
    notDataActions: Object.freeze([...(p.notDataActions ?? [])]) as string[],
  };
  if (p.condition) {
    permission.condition = p.condition;
    permission.conditionVersion = p.conditionVersion ?? null;
  }
  return Object.freeze(permission);
}

function toRoleDefinition(raw: RawRole): RoleDefinition {
  return Object.freeze({
    id: `${ROLE_DEFINITION_PREFIX}${raw.name}`,
    name: raw.name,
    roleName: raw.roleName,
    description: raw.description ?? '',
    roleType: 'BuiltInRole',
    permissions: Object.freeze((raw.permissions ?? []).map(toPermission)) as Permission[],
    assignableScopes: Object.freeze([...(raw.assignableScopes ?? ['/'])]) as string[],
  });
}

let loaded: readonly RoleDefinition[] | undefined;

/** All built-in roles (frozen objects; the file is read once per process). */
export function loadBuiltinRoles(): RoleDefinition[] {
  if (loaded === undefined) {
    const raw = JSON.parse(readFileSync(dataFilePath(), 'utf8')) as RawRole[];
    if (!Array.isArray(raw)) throw new Error(`${DATA_FILE} does not hold an array of role definitions`);
    loaded = Object.freeze(raw.map(toRoleDefinition));
  }
  return [...loaded];
}
