// `mimic fault add|list|clear`: transient faults injected on request, through the
// `Mimic.Reliability` ARM extension, so an application's retry policy can be tested.
import type { Command } from 'commander';
import { CliError } from '../client.js';
import { client, dataDirOption, jsonOption } from '../common.js';
import { printRows } from './role.js';

const API = '2025-01-01';
const PATH = '/providers/Mimic.Reliability/faults';

interface Rule {
  id: string;
  service: string;
  operation: string;
  rate: number;
  status: number | string;
  retryAfter: number;
  until?: number;
  injected: number;
}

/** `60s`, `5m`, `1h` in seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)\s*([smh])$/i.exec(value.trim());
  if (!m || Number(m[1]) <= 0) throw new CliError(`--for '${value}' is not a duration such as 60s, 5m or 1h`, 2);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2]!.toLowerCase() as 's' | 'm' | 'h'];
}

const row = (r: Rule) => ({ id: r.id, service: r.service, operation: r.operation, rate: String(r.rate), status: String(r.status), retryAfter: `${r.retryAfter}s`, until: r.until ? new Date(r.until).toISOString() : '-', injected: String(r.injected) });

export function registerFaultCommands(program: Command): void {
  const fault = program.command('fault').description('inject transient faults (503, 429, 500, timeouts) to test retry policies');
  fault
    .command('add')
    .description('fail a share of one operation\'s requests')
    .requiredOption('--service <service>', 'keyvault, arm, sts, imds, blob, queue or table')
    .requiredOption('--operation <operation>', "operation name (getSecret, GetBlob, PutMessage, token, Microsoft.ManagedIdentity/userAssignedIdentities/read, 'GET Microsoft.Resources/subscriptions/resourceGroups') or '*'")
    .requiredOption('--rate <rate>', 'share of requests that fail, in (0, 1]')
    .requiredOption('--status <status>', '503, 429, 500 or timeout')
    .option('--retry-after <seconds>', 'Retry-After sent with the failure', '1')
    .option('--for <duration>', 'only for this long (60s, 5m, 1h)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { service: string; operation: string; rate: string; status: string; retryAfter: string; for?: string; dataDir?: string; json?: boolean }) => {
      const status = o.status === 'timeout' ? 'timeout' : Number(o.status);
      const rate = Number(o.rate);
      const retryAfter = Number(o.retryAfter);
      if (status !== 'timeout' && status !== 503 && status !== 429 && status !== 500) throw new CliError(`--status '${o.status}' is not 503, 429, 500 or timeout`, 2);
      if (!(rate > 0 && rate <= 1)) throw new CliError(`--rate '${o.rate}' is not in (0, 1]`, 2);
      const c = await client(o);
      const made = await c.arm<Rule>('POST', PATH, API, { service: o.service, operation: o.operation, rate, status, retryAfter, ...(o.for ? { forSeconds: parseDuration(o.for) } : {}) });
      printRows([row(made!)], Boolean(o.json), made);
    });
  fault
    .command('list')
    .description('the faults in force, with how many requests each failed')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const list = (await c.arm<{ value: Rule[] }>('GET', PATH, API))?.value ?? [];
      printRows(list.map(row), Boolean(o.json), list);
    });
  fault
    .command('clear')
    .description('remove every fault')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const r = await c.arm<{ cleared: number }>('DELETE', PATH, API);
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(`cleared ${r?.cleared ?? 0} fault(s)\n`);
    });
}
