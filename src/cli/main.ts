#!/usr/bin/env node
// The `mimic` command: thin wiring from arguments to the server, the REST API and printers.
import { Command } from 'commander';
import { startMimic } from '../server/app.js';
import { StoreInUseError } from '../store/index.js';
import { resolveDataDir, DEFAULT_PORT } from '../server/config.js';
import { throttleModeOf } from '../server/throttle.js';
import { adminEnvironment, shellExports } from './environment.js';
import { CliError } from './client.js';
import { registerResourceCommands } from './commands/resources.js';
import { registerRoleCommands } from './commands/role.js';
import { registerKeyVaultCommands } from './commands/keyvault.js';
import { registerAppCommands } from './commands/app.js';
import { registerLogCommands } from './commands/log.js';
import { registerStorageCommands } from './commands/storage.js';
import { registerAdvisorCommands } from './commands/advisor.js';
import { registerDeploymentCommands } from './commands/deployment.js';
import { registerFaultCommands } from './commands/fault.js';
import { addEnvAsOptions, printAsEnvironment, registerIdentityRuntimeCommands } from './commands/identityRuntime.js';
import { dataDirOption, jsonOption } from './common.js';
import { registerCaCommands } from './commands/ca.js';
import { registerHostsCommands } from './commands/hosts.js';

const program = new Command();
program.name('mimic').description('A local, faithful implementation of Azure Managed Identities.').showHelpAfterError();

program
  .command('start')
  .description('start every Mimic listener on the embedded store (or PostgreSQL with --store)')
  .addOption(dataDirOption())
  .option('--port <n>', `port of the HTTPS origin (0 = any free port; default ${DEFAULT_PORT})`)
  .option('--store <url>', 'postgres://... to share state with other instances')
  .option('--revoke-deleted-principals', "refuse tokens of deleted or disabled identities at once (default: valid until they expire, as in Azure)")
  .option('--throttle <mode>', "'azure' applies Azure's documented request limits with 429 and Retry-After (default: off)")
  .action(async (opts: { dataDir?: string; port?: string; store?: string; revokeDeletedPrincipals?: boolean; throttle?: string }) => {
    const dataDir = resolveDataDir(opts.dataDir);
    const port = opts.port === undefined ? DEFAULT_PORT : Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid --port '${opts.port}'`, 2);
    const throttle = opts.throttle ?? process.env.MIMIC_THROTTLE;
    if (throttle !== undefined && !['azure', 'off', ''].includes(throttle)) throw new CliError(`invalid --throttle '${throttle}': use 'azure' or 'off'`, 2);
    let mimic;
    try {
      mimic = await startMimic({ dataDir, port, storeUrl: opts.store ?? process.env.MIMIC_STORE, revokeDeletedPrincipals: opts.revokeDeletedPrincipals, throttle: throttleModeOf(throttle) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CliError(`port ${port} is in use (another Mimic?): choose one with --port, or --port 0 for any free port`);
      if (err instanceof StoreInUseError) throw new CliError(`the data directory ${dataDir} is in use by another Mimic process: stop it, or choose another --data-dir (several instances share state through --store postgres://...)`);
      throw err;
    }
    const e = mimic.endpoints;
    process.stdout.write(
      [
        `Mimic is ready (data dir ${dataDir}, ${mimic.store.engine} store)`,
        `  Resource Manager  ${e.armEndpoint}`,
        `  Token service     ${e.authorityHost}/${e.tenantId}/oauth2/v2.0/token`,
        `  Portal            ${e.origin}/`,
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

addEnvAsOptions(program
  .command('env')
  .description('print the environment that lets a program use Mimic')
  .option('--admin', 'act as the local administrator (client credentials)'))
  .addOption(dataDirOption())
  .addOption(jsonOption())
  .action(async (opts: { admin?: boolean; as?: string; flavour?: string; clientId?: string; federatedTokenFile?: string; dataDir?: string; json?: boolean }) => {
    if (opts.as) return printAsEnvironment({ ...opts, as: opts.as });
    if (!opts.admin) throw new CliError('say who the program acts as: --admin, or --as RESOURCE', 2);
    const env = await adminEnvironment(resolveDataDir(opts.dataDir));
    process.stdout.write(opts.json ? JSON.stringify(env, null, 2) + '\n' : shellExports(env) + '\n');
  });

registerResourceCommands(program);
registerRoleCommands(program);
registerKeyVaultCommands(program);
registerAppCommands(program);
registerLogCommands(program);
registerStorageCommands(program);
registerAdvisorCommands(program);
registerDeploymentCommands(program);
registerFaultCommands(program);
registerIdentityRuntimeCommands(program);
registerCaCommands(program);
registerHostsCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`mimic: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`mimic: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
