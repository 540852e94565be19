// Resource name rules: Azure's generic rule for every type, and the stricter rules of the
// types Mimic models closely. A type with hooks may bring its own rule instead.
import { ArmError } from './errors.js';

const RESOURCE_GROUP = /^[-\p{L}\p{N}_.()]{1,90}$/u;
const GENERIC_FORBIDDEN = /[<>%&:\\?/#*\u0000-\u001f]/;

const TYPE_RULES: Record<string, { pattern: RegExp; rule: string }> = {
  'microsoft.web/sites': { pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])$/, rule: 'letters, numbers and hyphens, 2 to 60 characters, starting and ending with a letter or number' },
  'microsoft.keyvault/vaults': { pattern: /^(?!.*--)[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/, rule: 'letters, numbers and hyphens, 3 to 24 characters, starting with a letter, ending with a letter or number, without consecutive hyphens' },
  'microsoft.storage/storageaccounts': { pattern: /^[a-z0-9]{3,24}$/, rule: 'lower-case letters and numbers only, 3 to 24 characters' },
  'microsoft.storage/storageaccounts/blobservices/containers': { pattern: /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, rule: 'lower-case letters, numbers and hyphens, 3 to 63 characters, starting and ending with a letter or number, without consecutive hyphens' },
  'microsoft.logic/workflows': { pattern: /^[-\p{L}\p{N}_.()]{1,80}$/u, rule: 'letters, numbers, hyphens, underscores, periods and parentheses, 1 to 80 characters' },
  'microsoft.app/containerapps': { pattern: /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, rule: 'lower-case letters, numbers and hyphens, 2 to 32 characters, starting with a letter, ending with a letter or number' },
};

export function validateResourceGroupName(name: string): void {
  if (!RESOURCE_GROUP.test(name) || name.endsWith('.')) {
    throw new ArmError(400, 'InvalidResourceGroupName', `Resource group name '${name}' is invalid. It can include alphanumeric, underscore, parentheses, hyphen and period (except at the end) characters, up to 90 long.`);
  }
}

export function validateResourceName(fullTypeLower: string, name: string): void {
  const rule = TYPE_RULES[fullTypeLower];
  if (rule) {
    if (!rule.pattern.test(name)) throw new ArmError(400, 'InvalidResourceName', `Resource name '${name}' is invalid for type '${fullTypeLower}': use ${rule.rule}.`);
    return;
  }
  if (name.length === 0 || name.length > 260 || GENERIC_FORBIDDEN.test(name) || name.endsWith('.') || name.endsWith(' ')) {
    throw new ArmError(400, 'InvalidResourceName', `Resource name '${name}' is invalid. Names cannot contain '<', '>', '%', '&', ':', '\\', '?', '/', '#', '*' or control characters, cannot end with a period or space, and are at most 260 characters long.`);
  }
}
