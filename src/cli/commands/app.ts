// `mimic app create|list|delete|credential`: app registrations with client secrets, the way
// `az ad sp create-for-rbac` gives a second principal to sign in with (client credentials).
import type { Command } from 'commander';
import { client, dataDirOption, jsonOption } from '../common.js';
import { DIRECTORY_API, printRows } from './role.js';

interface AppBody {
  objectId: string;
  appId: string;
  displayName: string;
  password?: string;
  tenant?: string;
  passwordEndDateTime?: string;
}

export function registerAppCommands(program: Command): void {
  const app = program.command('app').description('app registrations (service principals with client secrets)');
  app
    .command('create')
    .description('register an application with a new client secret (shown once)')
    .requiredOption('-n, --name <displayName>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { name: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const body = (await c.arm<AppBody>('POST', '/providers/Mimic.Directory/applications', DIRECTORY_API, { displayName: o.name }))!;
      if (o.json) return printRows([], true, body);
      process.stdout.write(
        [
          `appId (client id)       ${body.appId}`,
          `principalId (object id) ${body.objectId}`,
          `displayName             ${body.displayName}`,
          `password                ${body.password}`,
          `tenant                  ${body.tenant}`,
          `Sign in as it with: AZURE_TENANT_ID=${body.tenant} AZURE_CLIENT_ID=${body.appId} AZURE_CLIENT_SECRET='${body.password}'`,
          '',
        ].join('\n'),
      );
    });
  app
    .command('list')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const list = (await c.arm<{ value: AppBody[] }>('GET', '/providers/Mimic.Directory/applications', DIRECTORY_API))?.value ?? [];
      printRows(list.map((a) => ({ DisplayName: a.displayName, AppId: a.appId, PrincipalId: a.objectId })), !!o.json, list);
    });
  app
    .command('delete')
    .description('delete an app registration (its role assignments stay, orphaned, as in Azure)')
    .requiredOption('--id <appId>', 'application (client) id or principal id')
    .addOption(dataDirOption())
    .action(async (o: { id: string; dataDir?: string }) => {
      const c = await client(o);
      await c.arm('DELETE', `/providers/Mimic.Directory/applications/${encodeURIComponent(o.id)}`, DIRECTORY_API);
      process.stdout.write(`Deleted application ${o.id}\n`);
    });
  app
    .command('credential')
    .description('add a new client secret to an app registration')
    .requiredOption('--id <appId>', 'application (client) id')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { id: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const body = await c.arm<Record<string, string>>('POST', `/providers/Mimic.Directory/applications/${encodeURIComponent(o.id)}/addPassword`, DIRECTORY_API, {});
      if (o.json) return printRows([], true, body);
      process.stdout.write(`password ${body!.password}\nexpires  ${body!.endDateTime}\n`);
    });
}
