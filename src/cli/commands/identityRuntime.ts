// Running code as a resource's managed identity: `mimic env --as` (the environment a program
// on that resource gets), `mimic run --as` (runs a command in it), `mimic token --as` (the
// token the resource's identity gets) and `mimic federated-token` (an assertion from a local
// OIDC issuer, for workload identity federation).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveDataDir } from '../../server/config.js';
import { CliError, MimicClient } from '../client.js';
import { dataDirOption, jsonOption, subPath } from '../common.js';
import { baseEnvironment, nodeOptionsWithPreload, proxyEnvironment, shellExports } from '../environment.js';
import { decodeJwt } from '../../sts/jwt.js';
import type { HostCredentialsResult } from '../../sts/managedIdentity/adminApi.js';
import { ADMIN_NAMESPACE } from '../../sts/managedIdentity/adminApi.js';
import { FEDERATION_NAMESPACE } from '../../sts/federation/adminApi.js';
import { ISSUER_PATH } from '../../sts/federation/localIssuers.js';

const MIMIC_API = '2025-01-01';

/**
 * Variables that would make a credential pick another identity (the administrator's secret,
 * another host's endpoint): removed from the environment a program runs in as a resource.
 */
export const CONFLICTING_VARIABLES = [
  'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_CLIENT_CERTIFICATE_PASSWORD', 'AZURE_CLIENT_SEND_CERTIFICATE_CHAIN',
  'AZURE_USERNAME', 'AZURE_PASSWORD', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_TOKEN_CREDENTIALS', 'AZURE_ADDITIONALLY_ALLOWED_TENANTS',
  'AZURE_POD_IDENTITY_AUTHORITY_HOST', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'IDENTITY_SERVER_THUMBPRINT', 'IDENTITY_API_VERSION', 'IMDS_ENDPOINT',
  'MSI_ENDPOINT', 'MSI_SECRET', 'DEFAULT_IDENTITY_CLIENT_ID', 'APPSETTING_WEBSITE_SITE_NAME',
];

export interface AsOptions {
  as: string;
  flavour?: string;
  clientId?: string;
  /** Workload identity as AKS injects it: AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID (and AZURE_CLIENT_ID). */
  federatedTokenFile?: string;
  dataDir?: string;
}

/** The environment of a program running as the resource, and what Mimic said about it. */
export async function asEnvironment(opts: AsOptions): Promise<{ env: Record<string, string>; result: HostCredentialsResult }> {
  const dataDir = resolveDataDir(opts.dataDir);
  const c = await MimicClient.open(dataDir);
  const result = (await c.arm<HostCredentialsResult>('POST', `${subPath(c)}/providers/${ADMIN_NAMESPACE}/hostCredentials`, MIMIC_API, {
    host: opts.as,
    ...(opts.flavour ? { flavour: opts.flavour } : {}),
  }))!;
  const env: Record<string, string> = { ...(await baseEnvironment(dataDir)), ...result.environment };
  // IMDS at its real address (http://169.254.169.254, what az and other stacks call literally)
  // through the proxy, as this resource: its endpoint secret becomes the proxy credential.
  const imdsSecret = result.flavour === 'imds' ? imdsSecretOf(result.environment) : undefined;
  if (imdsSecret && c.endpoints.listeners.proxy) Object.assign(env, proxyEnvironment(c.endpoints.listeners.proxy, imdsSecret));
  // DefaultAzureCredential passes AZURE_CLIENT_ID to its managed identity credential.
  if (opts.clientId) env.AZURE_CLIENT_ID = opts.clientId;
  if (opts.federatedTokenFile) {
    if (!opts.clientId) throw new CliError('--federated-token-file needs --client-id (the user-assigned identity that trusts the token)', 2);
    env.AZURE_TENANT_ID = c.endpoints.tenantId;
    env.AZURE_FEDERATED_TOKEN_FILE = resolve(opts.federatedTokenFile);
  }
  return { env, result };
}

/** The resource's secret: the path prefix of the IMDS flavour's AZURE_POD_IDENTITY_AUTHORITY_HOST. */
function imdsSecretOf(environment: Record<string, string>): string | undefined {
  const host = environment.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  const secret = host ? new URL(host).pathname.split('/').filter(Boolean).pop() : undefined;
  return secret && /^[0-9a-f]{64}$/.test(secret) ? secret : undefined;
}

function printNotes(result: HostCredentialsResult): void {
  for (const n of result.notes) process.stderr.write(`mimic: ${n}\n`);
}

/** Adds the `--as` family of options to `mimic env`. */
export function addEnvAsOptions(cmd: Command): Command {
  return cmd
    .option('--as <resource>', "act as a resource's managed identity (resource id, or its name when unique)")
    .option('--flavour <flavour>', 'with --as: serve this token endpoint flavour instead of the host type\'s (imds, appService, cloudShell, machineLearning, serviceFabric)')
    .option('--client-id <id>', 'with --as: set AZURE_CLIENT_ID so DefaultAzureCredential picks this user-assigned identity')
    .option('--federated-token-file <file>', 'with --as and --client-id: workload identity as AKS sets it up (AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID)');
}

/** `mimic env --as`: shell lines (unset what conflicts, export the rest) or JSON. */
export async function printAsEnvironment(opts: AsOptions & { json?: boolean }): Promise<void> {
  const { env, result } = await asEnvironment(opts);
  printNotes(result);
  if (opts.json) {
    process.stdout.write(JSON.stringify(env, null, 2) + '\n');
    return;
  }
  const unset = CONFLICTING_VARIABLES.filter((v) => env[v] === undefined);
  process.stdout.write(`unset ${unset.join(' ')}\n${shellExports(env)}\n`);
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

function runAs(command: string[], env: Record<string, string>): Promise<never> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const v of CONFLICTING_VARIABLES) delete childEnv[v];
  Object.assign(childEnv, env, { NODE_OPTIONS: nodeOptionsWithPreload(process.env.NODE_OPTIONS) });
  return new Promise((_resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: childEnv });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const s of FORWARDED_SIGNALS) process.on(s, forward);
    child.on('error', (err: NodeJS.ErrnoException) => {
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      reject(new CliError(`cannot run '${command[0]}': ${err.message}`, err.code === 'ENOENT' ? 127 : 126));
    });
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      // Die of the same signal, so the caller sees what the child saw.
      if (signal) process.kill(process.pid, signal);
      else process.exit(code ?? 1);
    });
  });
}

export function registerIdentityRuntimeCommands(program: Command): void {
  program
    .command('run')
    .description("run a command as a resource's managed identity (put the command after --)")
    .requiredOption('--as <resource>', 'resource id, or its name when unique')
    .option('--flavour <flavour>', "token endpoint flavour instead of the host type's")
    .option('--client-id <id>', 'set AZURE_CLIENT_ID (the user-assigned identity DefaultAzureCredential picks)')
    .option('--federated-token-file <file>', 'with --client-id: workload identity as AKS sets it up')
    .addOption(dataDirOption())
    .argument('<command...>', 'the command and its arguments')
    .action(async (command: string[], opts: AsOptions) => {
      const { env, result } = await asEnvironment(opts);
      printNotes(result);
      await runAs(command, env);
    });

  program
    .command('token')
    .description("print the token a resource's managed identity gets for a resource (audience)")
    .requiredOption('--as <resource>', 'resource id, or its name when unique')
    .requiredOption('--resource <uri>', 'the audience, e.g. https://management.azure.com/')
    .option('--client-id <id>', 'a user-assigned identity by client id')
    .option('--object-id <id>', 'a user-assigned identity by object (principal) id')
    .option('--mi-res-id <id>', 'a user-assigned identity by resource id')
    .option('--decode', 'print the token header and claims instead of the token')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { as: string; resource: string; clientId?: string; objectId?: string; miResId?: string; decode?: boolean; dataDir?: string; json?: boolean }) => {
      const c = await MimicClient.open(resolveDataDir(o.dataDir));
      const body = await c.arm<Record<string, string>>('POST', `${subPath(c)}/providers/${ADMIN_NAMESPACE}/tokens`, MIMIC_API, {
        host: o.as,
        resource: o.resource,
        ...(o.clientId ? { clientId: o.clientId } : {}),
        ...(o.objectId ? { objectId: o.objectId } : {}),
        ...(o.miResId ? { resourceId: o.miResId } : {}),
      });
      const token = body!.access_token!;
      if (o.decode) {
        const { header, claims } = decodeJwt(token);
        process.stdout.write(JSON.stringify({ header, claims }, null, 2) + '\n');
      } else if (o.json) {
        process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      } else {
        process.stdout.write(token + '\n');
      }
    });

  program
    .command('federated-token')
    .description('issue an assertion from a local OIDC issuer (for workload identity federation)')
    .requiredOption('--issuer <name-or-url>', "a local issuer's name (created on first use) or URL")
    .requiredOption('--subject <subject>', "the assertion's sub")
    .option('--audience <audience>', "the assertion's aud", 'api://AzureADTokenExchange')
    .option('--lifetime <seconds>', 'lifetime in seconds', '3600')
    .option('--claims <json>', 'extra claims as a JSON object')
    .option('--out <file>', 'write the token to this file (e.g. the AZURE_FEDERATED_TOKEN_FILE)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { issuer: string; subject: string; audience: string; lifetime: string; claims?: string; out?: string; dataDir?: string; json?: boolean }) => {
      const c = await MimicClient.open(resolveDataDir(o.dataDir));
      const prefix = `${c.endpoints.origin}${ISSUER_PATH}`;
      let name = o.issuer;
      if (/^https?:\/\//i.test(name)) {
        if (!name.startsWith(prefix)) throw new CliError(`'${o.issuer}' is not one of this Mimic's local issuers (${prefix}<name>)`, 2);
        name = name.slice(prefix.length).replace(/\/$/, '');
      }
      const lifetimeSeconds = Number(o.lifetime);
      if (!Number.isInteger(lifetimeSeconds)) throw new CliError(`invalid --lifetime '${o.lifetime}'`, 2);
      let claims: unknown;
      if (o.claims !== undefined) {
        try {
          claims = JSON.parse(o.claims);
        } catch {
          throw new CliError('--claims must be a JSON object', 2);
        }
      }
      const issued = await c.arm<{ token: string }>('POST', `${subPath(c)}/providers/${FEDERATION_NAMESPACE}/issuers/${encodeURIComponent(name)}/tokens`, MIMIC_API, {
        subject: o.subject,
        audience: o.audience,
        lifetimeSeconds,
        ...(claims !== undefined ? { claims } : {}),
      });
      if (o.out) await writeFile(o.out, issued!.token, { mode: 0o600 });
      if (o.json) process.stdout.write(JSON.stringify(issued, null, 2) + '\n');
      else if (!o.out) process.stdout.write(issued!.token + '\n');
    });
}
