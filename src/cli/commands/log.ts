// `mimic log`: the audit log (refused authorization decisions, every role change, and decisions
// on tokens of deleted or disabled principals), newest last, filtered by time, principal,
// category, outcome and scope.
import type { Command } from 'commander';
import { CliError } from '../client.js';
import { client, dataDirOption, jsonOption } from '../common.js';
import { directoryEntries, printRows, scopeOf } from './role.js';

const AUTHZ_API = '2022-04-01';

/** `10m`, `2h`, `1d`, `30s` before now, or an ISO time. */
export function parseSince(value: string, now = Date.now()): Date {
  const m = /^(\d+)\s*([smhd])$/i.exec(value.trim());
  if (m) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(m[1]) * unit);
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new CliError(`--since '${value}' is neither a duration (10m, 2h, 1d) nor a time`, 2);
  return d;
}

interface Entry {
  time: string;
  category: string;
  operation: string;
  result: string;
  caller: { objectId: string; appId: string };
  scope: string;
  principalId?: string;
  roleName?: string;
  reason?: string;
  target?: string;
  principalState?: string;
  note?: string;
}

export function registerLogCommands(program: Command): void {
  program
    .command('log')
    .description('show the audit log: refused requests, role changes, and tokens of deleted principals at work')
    .option('--since <when>', 'only entries since then (10m, 2h, 1d, or an ISO time)')
    .option('--top <n>', 'the newest n entries', '50')
    .option('--principal <objectId>', 'entries by or about this principal')
    .option('--category <category>', 'AccessDenied, AccessGranted, RoleAssignment, RoleDefinition, DenyAssignment or Application')
    .option('--denied', 'only refusals')
    .option('--scope <scope>', 'only entries at or below this scope (default: the subscription)')
    .option('-g, --resource-group <rg>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { since?: string; top: string; principal?: string; category?: string; denied?: boolean; scope?: string; resourceGroup?: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const q = new URLSearchParams({ $top: o.top });
      if (o.since) q.set('since', parseSince(o.since).toISOString());
      if (o.principal) q.set('principalId', o.principal);
      if (o.category) q.set('category', o.category);
      if (o.denied) q.set('result', 'Denied');
      const scope = scopeOf(c, o);
      const path = `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/auditEvents?${q.toString()}`;
      const list = (await c.arm<{ value: Entry[] }>('GET', path, AUTHZ_API))?.value ?? [];
      const names = new Map((await directoryEntries(c)).map((e) => [e.objectId.toLowerCase(), e.displayName]));
      const nameOf = (id: string) => names.get(id.toLowerCase()) ?? id;
      printRows(
        list.map((e) => ({
          Time: e.time,
          Result: e.result,
          Category: e.category,
          Operation: e.operation,
          Caller: nameOf(e.caller.objectId),
          Scope: e.scope,
          Detail: [e.roleName ? `role ${e.roleName}` : '', e.principalId ? `principal ${nameOf(e.principalId)}` : '', e.reason ?? '', e.note ?? ''].filter(Boolean).join('; '),
        })),
        !!o.json,
        list,
      );
    });
}
