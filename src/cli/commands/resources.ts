// `mimic group|identity|resource`: resource groups, user-assigned identities and resources of
// any type, through the Resource Manager API as `az` would call it.
import type { Command } from 'commander';
import { CliError, type MimicClient } from '../client.js';
import { addShowListDelete, client, dataDirOption, jsonOption, subPath, typePath } from '../common.js';
import { printResult } from '../output.js';

const ARM_RESOURCES_API = '2025-04-01';
const MSI_API = '2024-11-30';
const UAI_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

export function registerResourceCommands(program: Command): void {

  // ---- groups -----------------------------------------------------------------------------
  const group = program.command('group').description('manage resource groups');
  group
    .command('create')
    .requiredOption('-n, --name <name>')
    .option('-l, --location <location>', 'location', 'eastus')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { name: string; location: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult(await c.arm('PUT', subPath(c, o.name), ARM_RESOURCES_API, { location: o.location }), !!o.json);
    });
  group
    .command('show')
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { name: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult(await c.arm('GET', subPath(c, o.name), ARM_RESOURCES_API), !!o.json);
    });
  group
    .command('list')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult((await c.arm<{ value: unknown[] }>('GET', `${subPath(c)}/resourcegroups`, ARM_RESOURCES_API))?.value ?? [], !!o.json);
    });
  group
    .command('delete')
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .action(async (o: { name: string; dataDir?: string }) => {
      const c = await client(o);
      await c.arm('DELETE', subPath(c, o.name), ARM_RESOURCES_API);
      process.stdout.write(`Deleted resource group ${o.name}\n`);
    });

  // ---- user-assigned identities ------------------------------------------------------------
  const identity = program.command('identity').description('manage user-assigned managed identities');
  const uaiPath = (c: MimicClient, rg: string, name?: string) => typePath(c, UAI_TYPE, rg, name);
  identity
    .command('create')
    .requiredOption('-g, --resource-group <rg>')
    .requiredOption('-n, --name <name>')
    .option('-l, --location <location>', 'location (default: the group\'s)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup: string; name: string; location?: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const location = o.location ?? (await c.arm<{ location: string }>('GET', subPath(c, o.resourceGroup), ARM_RESOURCES_API))!.location;
      printResult(await c.arm('PUT', uaiPath(c, o.resourceGroup, o.name), MSI_API, { location }), !!o.json);
    });
  addShowListDelete(identity, { type: UAI_TYPE, apiVersion: MSI_API, noun: 'identity' });

  // ---- generic resources ------------------------------------------------------------------
  const resource = program.command('resource').description('manage resources of any type');
  const resPath = (c: MimicClient, rg: string, type: string, name: string) => `${subPath(c, rg)}/providers/${type}/${encodeURIComponent(name)}`;
  resource
    .command('create')
    .requiredOption('-g, --resource-group <rg>')
    .requiredOption('-n, --name <name>')
    .requiredOption('--type <type>', 'e.g. Microsoft.Web/sites')
    .option('--kind <kind>')
    .option('-l, --location <location>')
    .option('--properties <json>', 'properties as JSON', '{}')
    .option('--assign-identity [ids...]', "enable identities: 'system' and/or user-assigned identity ids or names")
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup: string; name: string; type: string; kind?: string; location?: string; properties: string; assignIdentity?: true | string[]; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      let properties: unknown;
      try {
        properties = JSON.parse(o.properties);
      } catch {
        throw new CliError('--properties must be JSON', 2);
      }
      const location = o.location ?? (await c.arm<{ location: string }>('GET', subPath(c, o.resourceGroup), ARM_RESOURCES_API))!.location;
      const body: Record<string, unknown> = { location, properties, ...(o.kind ? { kind: o.kind } : {}) };
      if (o.assignIdentity) {
        const items = o.assignIdentity === true ? ['system'] : o.assignIdentity;
        const system = items.some((i) => i.toLowerCase() === '[system]' || i.toLowerCase() === 'system');
        const users = items.filter((i) => !['system', '[system]'].includes(i.toLowerCase())).map((i) => (i.startsWith('/') ? i : uaiPath(c, o.resourceGroup, i)));
        body.identity = {
          type: system && users.length ? 'SystemAssigned, UserAssigned' : system ? 'SystemAssigned' : 'UserAssigned',
          ...(users.length ? { userAssignedIdentities: Object.fromEntries(users.map((u) => [u, {}])) } : {}),
        };
      }
      printResult(await c.arm('PUT', resPath(c, o.resourceGroup, o.type, o.name), ARM_RESOURCES_API, body), !!o.json);
    });
  resource
    .command('show')
    .requiredOption('-g, --resource-group <rg>')
    .requiredOption('-n, --name <name>')
    .requiredOption('--type <type>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup: string; name: string; type: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult(await c.arm('GET', resPath(c, o.resourceGroup, o.type, o.name), ARM_RESOURCES_API), !!o.json);
    });
  resource
    .command('list')
    .option('-g, --resource-group <rg>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup?: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult((await c.arm<{ value: unknown[] }>('GET', `${subPath(c, o.resourceGroup)}/resources`, ARM_RESOURCES_API))?.value ?? [], !!o.json);
    });
  resource
    .command('delete')
    .requiredOption('-g, --resource-group <rg>')
    .requiredOption('-n, --name <name>')
    .requiredOption('--type <type>')
    .addOption(dataDirOption())
    .action(async (o: { resourceGroup: string; name: string; type: string; dataDir?: string }) => {
      const c = await client(o);
      await c.arm('DELETE', resPath(c, o.resourceGroup, o.type, o.name), ARM_RESOURCES_API);
      process.stdout.write(`Deleted ${o.type} ${o.name}\n`);
    });
}
