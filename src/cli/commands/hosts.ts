// `mimic hosts`: the root-only alternative to the proxy. Prints (or with --apply writes into
// /etc/hosts, in one marked block) entries mapping the Azure names Mimic serves to 127.0.0.1,
// for clients that read neither proxy variables nor the Node preload; Mimic then listens on
// port 443 with MIMIC_HTTPS_PORT=443. Hosts files have no wildcards, so names under
// `*.vault.azure.net` and the storage suffixes are listed per existing vault and account: run
// it again after creating one.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { MimicClient } from '../client.js';
import { CliError } from '../client.js';
import { client, dataDirOption, subPath } from '../common.js';

const BEGIN = '# BEGIN mimic: Azure names served by Mimic (remove with `mimic hosts --remove`)';
const END = '# END mimic';
const VAULTS = { type: 'Microsoft.KeyVault/vaults', apiVersion: '2026-02-01' };
const ACCOUNTS = { type: 'Microsoft.Storage/storageAccounts', apiVersion: '2023-05-01' };
/** The resources whose names make the names under each wildcard route. */
const NAMED_BY: Record<string, { type: string; apiVersion: string }> = {
  'vault.azure.net': VAULTS,
  'blob.core.windows.net': ACCOUNTS,
  'queue.core.windows.net': ACCOUNTS,
  'table.core.windows.net': ACCOUNTS,
};

/** Every name to map: exact routes as they are, wildcard routes per existing resource. */
async function servedNames(c: MimicClient, warn: (m: string) => void): Promise<string[]> {
  const names = new Set<string>();
  const listed = new Map<string, string[]>();
  for (const pattern of Object.keys(c.endpoints.routes)) {
    if (!pattern.startsWith('*.')) {
      names.add(pattern);
      continue;
    }
    const suffix = pattern.slice(2);
    const by = NAMED_BY[suffix];
    if (!by) {
      warn(`names under ${pattern} cannot be listed: add the ones you use by hand`);
      continue;
    }
    let resources = listed.get(by.type);
    if (!resources) {
      const page = await c.arm<{ value: Array<{ name: string }> }>('GET', `${subPath(c)}/providers/${by.type}`, by.apiVersion);
      resources = (page?.value ?? []).map((r) => r.name.toLowerCase());
      listed.set(by.type, resources);
    }
    for (const r of resources) names.add(`${r}.${suffix}`);
  }
  return [...names].sort();
}

/** `content` with Mimic's block replaced by `block` (or removed when undefined), the rest untouched. */
export function withHostsBlock(content: string, block?: string): string {
  const lines = content.split('\n');
  const start = lines.indexOf(BEGIN);
  const end = start < 0 ? -1 : lines.indexOf(END, start);
  const kept = start < 0 || end < 0 ? lines : [...lines.slice(0, start), ...lines.slice(end + 1)];
  let text = kept.join('\n');
  if (block !== undefined) text = `${text.replace(/\n*$/, '\n')}${block}`;
  return text;
}

export function hostsBlock(names: string[], address: string): string {
  return [BEGIN, ...names.map((n) => `${address} ${n}`), END, ''].join('\n');
}

export function registerHostsCommands(program: Command): void {
  program
    .command('hosts')
    .description('root-only alternative to the proxy: /etc/hosts entries mapping the Azure names Mimic serves to this machine')
    .option('--apply', 'write the entries into the hosts file (replacing an earlier block)')
    .option('--remove', "remove Mimic's block from the hosts file")
    .option('--file <file>', 'the hosts file', '/etc/hosts')
    .option('--address <ip>', 'the address the names map to', '127.0.0.1')
    .addOption(dataDirOption())
    .action(async (o: { apply?: boolean; remove?: boolean; file: string; address: string; dataDir?: string }) => {
      if (o.apply && o.remove) throw new CliError('give --apply or --remove, not both', 2);
      const edit = async (block?: string) => {
        let current = '';
        try {
          current = await readFile(o.file, 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        try {
          // Written in place: /etc/hosts is often a bind mount that cannot be replaced by a rename.
          await writeFile(o.file, withHostsBlock(current, block));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') throw new CliError(`cannot write ${o.file}: this needs root (the proxy that \`mimic env\` sets up does not)`);
          throw err;
        }
      };
      if (o.remove) return edit(undefined);
      const c = await client(o);
      const warn = (m: string) => process.stderr.write(`mimic: ${m}\n`);
      const block = hostsBlock(await servedNames(c, warn), o.address);
      if (!o.apply) {
        process.stdout.write(block);
        return;
      }
      await edit(block);
      const https = c.endpoints.listeners.azureNames;
      if (!https || new URL(https).port !== '') {
        warn(`clients will connect to port 443: start Mimic with MIMIC_HTTPS_PORT=443 (as root) so it listens there${https ? ` (it now listens on ${https})` : ''}`);
      }
    });
}
