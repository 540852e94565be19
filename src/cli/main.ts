#!/usr/bin/env node
// The `mimic` command: thin wiring from arguments to the server, the REST API and printers.
import { Command, Option } from 'commander';
import { startMimic } from '../server/app.js';
import { resolveDataDir, DEFAULT_PORT } from '../server/config.js';
import { adminEnvironment, shellExports } from './environment.js';
import { CliError, MimicClient } from './client.js';
import { printResult } from './output.js';

const ARM_RESOURCES_API = '2025-04-01';
const MSI_API = '2024-11-30';

const program = new Command();
program.name('mimic').description('A local, faithful implementation of Azure Managed Identities.').showHelpAfterError();

const dataDirOption = () => new Option('--data-dir <dir>', 'data directory (default: .mimic, or $MIMIC_DATA_DIR)');
const jsonOption = () => new Option('--json', 'print JSON');

program
  .command('start')
  .description('start every Mimic listener on the embedded store (or PostgreSQL with --store)')
  .addOption(dataDirOption())
  .option('--port <n>', `port of the HTTPS origin (0 = any free port; default ${DEFAULT_PORT})`)
  .option('--store <url>', 'postgres://... to share state with other instances')
  .action(async (opts: { dataDir?: string; port?: string; store?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const port = opts.port === undefined ? DEFAULT_PORT : Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid --port '${opts.port}'`, 2);
    const mimic = await startMimic({ dataDir, port, storeUrl: opts.store ?? process.env.MIMIC_STORE });
    const e = mimic.endpoints;
    process.stdout.write(
      [
        `Mimic is ready (data dir ${dataDir}, ${mimic.store.engine} store)`,
        `  Resource Manager  ${e.armEndpoint}`,
        `  Token service     ${e.authorityHost}/${e.tenantId}/oauth2/v2.0/token`,
        ...Object.entries(e.listeners).map(([k, v]) => `  ${k.padEnd(17)} ${v}`),
        `  Tenant            ${e.tenantId}`,
        `  Subscription      ${e.subscriptionId}`,
        `  CA certificate    ${e.caCertFile}`,
        `Run \`eval "$(mimic env --admin --data-dir ${dataDir})"\` to act as the administrator.`,
        '',
      ].join('\n'),
    );
    const stop = () => {
      mimic.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('env')
  .description('print the environment that lets a program use Mimic')
  .option('--admin', 'act as the local administrator (client credentials)')
  .addOption(dataDirOption())
  .addOption(jsonOption())
  .action(async (opts: { admin?: boolean; dataDir?: string; json?: boolean }) => {
    if (!opts.admin) throw new CliError('say who the program acts as: --admin', 2);
    const env = await adminEnvironment(resolveDataDir(opts.dataDir));
    process.stdout.write(opts.json ? JSON.stringify(env, null, 2) + '\n' : shellExports(env) + '\n');
  });

async function client(opts: { dataDir?: string }): Promise<MimicClient> {
  return MimicClient.open(resolveDataDir(opts.dataDir));
}

function subPath(c: MimicClient, rg?: string): string {
  return `/subscriptions/${c.endpoints.subscriptionId}${rg ? `/resourceGroups/${encodeURIComponent(rg)}` : ''}`;
}

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
const uaiPath = (c: MimicClient, rg: string, name?: string) => `${subPath(c, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities${name ? `/${encodeURIComponent(name)}` : ''}`;
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
identity
  .command('show')
  .requiredOption('-g, --resource-group <rg>')
  .requiredOption('-n, --name <name>')
  .addOption(dataDirOption())
  .addOption(jsonOption())
  .action(async (o: { resourceGroup: string; name: string; dataDir?: string; json?: boolean }) => {
    const c = await client(o);
    printResult(await c.arm('GET', uaiPath(c, o.resourceGroup, o.name), MSI_API), !!o.json);
  });
identity
  .command('list')
  .option('-g, --resource-group <rg>')
  .addOption(dataDirOption())
  .addOption(jsonOption())
  .action(async (o: { resourceGroup?: string; dataDir?: string; json?: boolean }) => {
    const c = await client(o);
    const path = o.resourceGroup ? uaiPath(c, o.resourceGroup) : `${subPath(c)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`;
    printResult((await c.arm<{ value: unknown[] }>('GET', path, MSI_API))?.value ?? [], !!o.json);
  });
identity
  .command('delete')
  .requiredOption('-g, --resource-group <rg>')
  .requiredOption('-n, --name <name>')
  .addOption(dataDirOption())
  .action(async (o: { resourceGroup: string; name: string; dataDir?: string }) => {
    const c = await client(o);
    await c.arm('DELETE', uaiPath(c, o.resourceGroup, o.name), MSI_API);
    process.stdout.write(`Deleted identity ${o.name}\n`);
  });

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

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`mimic: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`mimic: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
