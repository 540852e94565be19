// The `$filter` expressions the authorization list operations accept: `atScope()`,
// `atScopeAndBelow()`, `principalId eq '...'`, `assignedTo('...')`, `roleName eq '...'`,
// `type eq '...'`, `denyAssignmentName eq '...'`, `gdprExportPrincipalId eq '...'`, joined by `and`.
import { ArmError } from '../errors.js';

export interface ListFilter {
  atScope: boolean;
  atScopeAndBelow: boolean;
  principalId?: string;
  /** `assignedTo`: the principal (and, in Azure, its groups). */
  assignedTo?: string;
  roleName?: string;
  roleType?: string;
  denyAssignmentName?: string;
}

type Clause = keyof Omit<ListFilter, 'atScope' | 'atScopeAndBelow'> | 'atScope' | 'atScopeAndBelow';

const CLAUSES: Array<{ re: RegExp; key: Clause }> = [
  { re: /^atscope\(\s*\)$/i, key: 'atScope' },
  { re: /^atscopeandbelow\(\s*\)$/i, key: 'atScopeAndBelow' },
  { re: /^principalid\s+eq\s+'([^']*)'$/i, key: 'principalId' },
  { re: /^gdprexportprincipalid\s+eq\s+'([^']*)'$/i, key: 'principalId' },
  { re: /^assignedto\(\s*'([^']*)'\s*\)$/i, key: 'assignedTo' },
  { re: /^rolename\s+eq\s+'((?:[^']|'')*)'$/i, key: 'roleName' },
  { re: /^type\s+eq\s+'([^']*)'$/i, key: 'roleType' },
  { re: /^denyassignmentname\s+eq\s+'((?:[^']|'')*)'$/i, key: 'denyAssignmentName' },
];

/** Parses a filter, allowing only the clauses named in `allowed`. */
export function parseFilter(raw: string | null, allowed: readonly Clause[]): ListFilter {
  const filter: ListFilter = { atScope: false, atScopeAndBelow: false };
  if (raw === null || raw.trim() === '') return filter;
  for (const part of raw.trim().split(/\s+and\s+/i)) {
    const text = part.trim();
    const match = CLAUSES.find((c) => c.re.test(text));
    if (!match || !allowed.includes(match.key)) {
      throw new ArmError(400, 'UnsupportedQuery', `The filter '${raw}' is not supported. Supported filters: ${allowed.map(describe).join(', ')}, combined with 'and'.`);
    }
    if (match.key === 'atScope' || match.key === 'atScopeAndBelow') {
      filter[match.key] = true;
    } else {
      filter[match.key] = match.re.exec(text)![1]!.replace(/''/g, "'");
    }
  }
  return filter;
}

function describe(c: Clause): string {
  switch (c) {
    case 'atScope':
      return 'atScope()';
    case 'atScopeAndBelow':
      return 'atScopeAndBelow()';
    case 'assignedTo':
      return "assignedTo('{objectId}')";
    case 'roleType':
      return "type eq 'BuiltInRole|CustomRole'";
    default:
      return `${c} eq '{value}'`;
  }
}
