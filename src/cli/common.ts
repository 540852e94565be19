// Options and helpers every CLI command shares.
import { Option, type Command } from 'commander';
import { resolveDataDir } from '../server/config.js';
import { MimicClient } from './client.js';
import { printResult } from './output.js';

export const dataDirOption = () => new Option('--data-dir <dir>', 'data directory (default: .mimic, or $MIMIC_DATA_DIR)');
export const jsonOption = () => new Option('--json', 'print JSON');

export async function client(opts: { dataDir?: string }): Promise<MimicClient> {
  return MimicClient.open(resolveDataDir(opts.dataDir));
}

export function subPath(c: MimicClient, rg?: string): string {
  return `/subscriptions/${c.endpoints.subscriptionId}${rg ? `/resourceGroups/${encodeURIComponent(rg)}` : ''}`;
}

/** Path of a resource type in a group (and of one resource when named), e.g. `Microsoft.KeyVault/vaults`. */
export function typePath(c: MimicClient, type: string, rg: string, name?: string): string {
  return `${subPath(c, rg)}/providers/${type}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** `show`, `list` (a group's, or the subscription's) and `delete` of one resource type, alike for every type. */
export function addShowListDelete(parent: Command, spec: { type: string; apiVersion: string; noun: string; deleteNote?: string }): void {
  parent
    .command('show')
    .description(`show a ${spec.noun}`)
    .requiredOption('-g, --resource-group <rg>')
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup: string; name: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult(await c.arm('GET', typePath(c, spec.type, o.resourceGroup, o.name), spec.apiVersion), !!o.json);
    });
  parent
    .command('list')
    .description(`list ${spec.noun}s (of a resource group, or of the subscription)`)
    .option('-g, --resource-group <rg>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup?: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const path = o.resourceGroup ? typePath(c, spec.type, o.resourceGroup) : `${subPath(c)}/providers/${spec.type}`;
      printResult((await c.arm<{ value: unknown[] }>('GET', path, spec.apiVersion))?.value ?? [], !!o.json);
    });
  parent
    .command('delete')
    .description(`delete a ${spec.noun}${spec.deleteNote ? ` (${spec.deleteNote})` : ''}`)
    .requiredOption('-g, --resource-group <rg>')
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .action(async (o: { resourceGroup: string; name: string; dataDir?: string }) => {
      const c = await client(o);
      await c.arm('DELETE', typePath(c, spec.type, o.resourceGroup, o.name), spec.apiVersion);
      process.stdout.write(`Deleted ${spec.noun} ${o.name}\n`);
    });
}
