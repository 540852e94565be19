// `mimic advisor`: least-privilege recommendations from what identities really did, through
// `GET /subscriptions/{s}/providers/Mimic.Advisor/recommendations`; `mimic advisor reset` clears
// the usage record. `--fail-on SEVERITY` makes it a CI gate (exit code 4 when a finding at or
// above it exists).
import type { Command } from 'commander';
import { CliError } from '../client.js';
import { client, dataDirOption, jsonOption, subPath } from '../common.js';
import { resolvePrincipal } from './role.js';
import type { AdvisorReport } from '../../advisor/api.js';
import type { Recommendation } from '../../advisor/recommend.js';
import type { Finding } from '../../advisor/findings.js';

export const ADVISOR_API = '2026-01-01';
/** Exit code when findings reach the --fail-on severity. */
export const FINDINGS_EXIT_CODE = 4;
const ORDER = ['low', 'medium', 'high'];

interface AdvisorOptions {
  principal?: string;
  resource?: string;
  all?: boolean;
  json?: boolean;
  sarif?: boolean;
  failOn?: string;
  scopeThreshold?: string;
  namingPattern?: string;
  dataDir?: string;
}

function printRecommendation(r: Recommendation): string[] {
  const out = [`Principal ${r.displayName ? `${r.displayName} (${r.principalId})` : r.principalId}`];
  out.push(r.window ? `  recorded ${r.window.from} .. ${r.window.to}` : '  no recorded use');
  if (r.used.length > 0) {
    out.push('  used:');
    for (const u of r.used) out.push(`    ${u.action}  at ${u.scope}  (${u.count}x)`);
  }
  if (r.roleSet.length > 0) {
    out.push('  least-privilege role set:');
    for (const a of r.roleSet) out.push(`    ${a.roleName}  at ${a.scope}`);
  }
  if (r.diff.add.length + r.diff.remove.length > 0) {
    out.push('  to apply:');
    for (const c of r.apply.cli) out.push(`    ${c}`);
  } else if (r.roleSet.length > 0) out.push('  assignments already match the role set');
  for (const u of r.unused) {
    out.push(u.unused ? `  unused: ${u.roleName} at ${u.scope}` : `  partly unused: ${u.roleName} at ${u.scope} (never: ${u.unusedPermissions.slice(0, 4).join(', ')}${u.unusedPermissions.length > 4 ? ', ...' : ''})`);
  }
  for (const f of r.refused) {
    out.push(`  refused: ${f.action} at ${f.scope} (${f.count}x)`);
    out.push(f.nearestRole ? `    would be allowed by "${f.nearestRole.roleName}": ${f.nearestRole.command}` : '    no built-in role grants it');
  }
  return out;
}

function printFindings(list: Finding[]): string[] {
  if (list.length === 0) return ['No findings.'];
  const sorted = [...list].sort((a, b) => ORDER.indexOf(b.severity) - ORDER.indexOf(a.severity));
  return ['Findings:', ...sorted.map((f) => `  [${f.severity.toUpperCase()}] ${f.ruleId} ${f.message}`)];
}

export function registerAdvisorCommands(program: Command): void {
  const advisor = program
    .command('advisor')
    .description('least-privilege recommendations from the recorded use of every identity; `advisor reset` clears the record')
    .option('--principal <principal>', 'one principal: object id, client id, identity name or resource id')
    .option('--resource <id>', 'the identities of one resource (its system- and user-assigned identities)')
    .option('--all', 'every principal with recorded use or role assignments (the default)')
    .option('--sarif', 'print the findings as SARIF 2.1.0')
    .option('--fail-on <severity>', `exit ${FINDINGS_EXIT_CODE} when a finding of this severity or higher exists (high, medium, low)`)
    .option('--scope-threshold <n>', 'more scopes than n under one parent (secrets of a vault) are granted at the parent')
    .option('--naming-pattern <regex>', 'naming convention for user-assigned identities')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: AdvisorOptions) => {
      if ([o.principal, o.resource, o.all].filter(Boolean).length > 1) throw new CliError('give one of --principal, --resource or --all', 2);
      if (o.json && o.sarif) throw new CliError('give --json or --sarif, not both', 2);
      if (o.failOn !== undefined && !ORDER.includes(o.failOn.toLowerCase())) throw new CliError(`--fail-on must be high, medium or low, not '${o.failOn}'`, 2);
      const c = await client(o);
      const q = new URLSearchParams();
      if (o.principal) q.set('principalId', (await resolvePrincipal(c, o.principal)).principalId);
      if (o.resource) q.set('resourceId', o.resource);
      if (o.scopeThreshold !== undefined) q.set('scopeThreshold', o.scopeThreshold);
      if (o.namingPattern !== undefined) q.set('namingPattern', o.namingPattern);
      const path = `${subPath(c)}/providers/Mimic.Advisor/recommendations`;
      let severities: string[];
      if (o.sarif) {
        q.set('$format', 'sarif');
        const sarif = (await c.arm<{ runs: { results: { properties?: { severity?: string } }[] }[] }>('GET', `${path}?${q.toString()}`, ADVISOR_API))!;
        process.stdout.write(JSON.stringify(sarif, null, 2) + '\n');
        severities = sarif.runs.flatMap((r) => r.results.map((x) => x.properties?.severity ?? 'low'));
      } else {
        const report = (await c.arm<AdvisorReport>('GET', `${path}?${q.toString()}`, ADVISOR_API))!;
        if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else process.stdout.write([...report.value.flatMap((r) => [...printRecommendation(r), '']), ...printFindings(report.findings), ''].join('\n'));
        severities = report.findings.map((f) => f.severity);
      }
      if (o.failOn) {
        const min = ORDER.indexOf(o.failOn.toLowerCase());
        const failing = severities.filter((s) => ORDER.indexOf(s) >= min).length;
        if (failing > 0) {
          process.stderr.write(`mimic: ${failing} finding(s) at or above ${o.failOn}\n`);
          process.exitCode = FINDINGS_EXIT_CODE;
        }
      }
    });
  advisor
    .command('reset')
    .description('clear the usage record (every instance\'s)')
    .addOption(dataDirOption())
    .action(async (o: { dataDir?: string }) => {
      // `advisor reset --data-dir X`: the parent command, which takes --data-dir too, may have read it.
      const c = await client({ dataDir: o.dataDir ?? (advisor.opts() as { dataDir?: string }).dataDir });
      const r = await c.arm<{ removed: number }>('DELETE', `${subPath(c)}/providers/Mimic.Advisor/usage`, ADVISOR_API);
      process.stdout.write(`Cleared the usage record (${r?.removed ?? 0} rows)\n`);
    });
}
