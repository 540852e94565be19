// `mimic keyvault ...`: vaults and their access policies through the Resource Manager, and
// secrets, keys and certificates through a vault's data plane, as `az keyvault` does. Data-plane
// commands act as the administrator, or with `--as RESOURCE` as that resource's managed
// identity (its token comes from Mimic's managed-identity service).
import type { Command } from 'commander';
import { CliError, type HttpResult, type MimicClient } from '../client.js';
import { addShowListDelete, client, dataDirOption, jsonOption, subPath, typePath } from '../common.js';
import { printResult } from '../output.js';
import { ADMIN_NAMESPACE } from '../../sts/managedIdentity/adminApi.js';

const KV_API = '2026-02-01';
const DATA_API = '2025-07-01';
const MIMIC_API = '2025-01-01';
const VAULT_RESOURCE = 'https://vault.azure.net';

interface DataOpts {
  vaultName: string;
  as?: string;
  clientId?: string;
  dataDir?: string;
  json?: boolean;
}

/** The caller's vault token: the administrator's, or the managed identity's of `--as`. */
async function vaultToken(c: MimicClient, o: DataOpts): Promise<string> {
  if (!o.as) return c.adminToken(VAULT_RESOURCE);
  const body = await c.arm<{ access_token: string }>('POST', `${subPath(c)}/providers/${ADMIN_NAMESPACE}/tokens`, MIMIC_API, {
    host: o.as,
    resource: VAULT_RESOURCE,
    ...(o.clientId ? { clientId: o.clientId } : {}),
  });
  return body!.access_token;
}

type Call = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T | undefined>;

/** Data-plane calls to the Mimic origin with the vault's host name (Host header), as the SDKs reach it. */
async function session(o: DataOpts): Promise<Call> {
  const c = await client(o);
  const token = await vaultToken(c, o);
  const host = `${o.vaultName.toLowerCase()}.vault.azure.net`;
  return async <T>(method: string, path: string, body?: unknown) => {
    const sep = path.includes('?') ? '&' : '?';
    const res: HttpResult = await c.send(method, `${c.endpoints.origin}${path}${sep}api-version=${DATA_API}`, body === undefined ? undefined : JSON.stringify(body), {
      host,
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    if (res.status >= 400) {
      let message = res.text;
      try {
        const e = res.json<{ error?: { code?: string; message?: string; innererror?: { code?: string } } }>().error;
        if (e) message = `(${e.innererror?.code ?? e.code}) ${e.message}`;
      } catch {
        // not JSON: show the text
      }
      throw new CliError(message, res.status === 404 ? 3 : 1);
    }
    return res.text ? res.json<T>() : undefined;
  };
}

async function data<T = unknown>(o: DataOpts, method: string, path: string, body?: unknown): Promise<T | undefined> {
  return (await session(o))<T>(method, path, body);
}

/** Every page of a list operation (following nextLink). */
async function all(o: DataOpts, path: string): Promise<Array<Record<string, unknown>>> {
  const call = await session(o);
  const out: Array<Record<string, unknown>> = [];
  let next: string | undefined = path;
  for (let page = 0; next && page < 1000; page++) {
    const r: { value: Array<Record<string, unknown>>; nextLink: string | null } | undefined = await call('GET', next);
    out.push(...(r?.value ?? []));
    if (!r?.nextLink) break;
    const u: URL = new URL(r.nextLink);
    u.searchParams.delete('api-version');
    next = u.pathname + u.search;
  }
  return out;
}

const nameOf = (id: unknown) => String(id).split('/')[4] ?? String(id);
const epoch = (v: unknown) => (typeof v === 'number' ? new Date(v * 1000).toISOString() : undefined);

function summarize(item: Record<string, unknown>, idField: 'id' | 'kid' = 'id'): Record<string, unknown> {
  const a = (item.attributes ?? {}) as Record<string, unknown>;
  return {
    name: nameOf(item[idField]),
    id: item[idField],
    enabled: a.enabled,
    ...(a.exp ? { expires: epoch(a.exp) } : {}),
    ...(item.contentType ? { contentType: item.contentType } : {}),
    ...(item.managed ? { managed: true } : {}),
  };
}

function dataCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .requiredOption('--vault-name <vault>', 'the vault')
    .option('--as <resource>', "act as this resource's managed identity (resource id, or its name when unique)")
    .option('--client-id <id>', 'with --as: the user-assigned identity to use, by client id')
    .addOption(dataDirOption())
    .addOption(jsonOption());
}

const VAULT_TYPE = 'Microsoft.KeyVault/vaults';
const vaultPath = (c: MimicClient, rg: string, name?: string) => typePath(c, VAULT_TYPE, rg, name);

const list = (v: string | undefined) => (v ? v.split(/[ ,]+/).filter((x) => x.length > 0) : undefined);

export function registerKeyVaultCommands(program: Command): void {
  const kv = program.command('keyvault').description('manage key vaults and their secrets, keys and certificates');

  // ---- vaults (Resource Manager) ---------------------------------------------------------------
  kv.command('create')
    .description('create or update a vault (Azure RBAC permission model unless --access-policies)')
    .requiredOption('-g, --resource-group <rg>')
    .requiredOption('-n, --name <name>')
    .option('-l, --location <location>', 'location', 'eastus')
    .option('--sku <sku>', 'standard or premium', 'standard')
    .option('--access-policies', 'use the access-policy permission model instead of Azure RBAC')
    .option('--retention-days <n>', 'soft-delete retention (7-90)', '90')
    .option('--enable-purge-protection', 'refuse purges until the retention period ends')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup: string; name: string; location: string; sku: string; accessPolicies?: boolean; retentionDays: string; enablePurgeProtection?: boolean; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const properties = {
        tenantId: c.endpoints.tenantId,
        sku: { family: 'A', name: o.sku },
        enableRbacAuthorization: !o.accessPolicies,
        softDeleteRetentionInDays: Number(o.retentionDays),
        ...(o.enablePurgeProtection ? { enablePurgeProtection: true } : {}),
      };
      printResult(await c.arm('PUT', vaultPath(c, o.resourceGroup, o.name), KV_API, { location: o.location, properties }), !!o.json);
    });
  addShowListDelete(kv, { type: VAULT_TYPE, apiVersion: KV_API, noun: 'vault', deleteNote: 'it stays recoverable for its retention period' });
  kv.command('list-deleted')
    .description('list soft-deleted vaults')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const value = (await c.arm<{ value: Array<{ name: string; properties: Record<string, unknown> }> }>('GET', `${subPath(c)}/providers/Microsoft.KeyVault/deletedVaults`, KV_API))?.value ?? [];
      printResult(o.json ? value : value.map((d) => ({ name: d.name, location: d.properties.location, vaultId: d.properties.vaultId, scheduledPurgeDate: d.properties.scheduledPurgeDate })), !!o.json);
    });
  const deletedVault = async (c: MimicClient, name: string) => {
    const value = (await c.arm<{ value: Array<{ name: string; properties: { location: string; vaultId: string } }> }>('GET', `${subPath(c)}/providers/Microsoft.KeyVault/deletedVaults`, KV_API))?.value ?? [];
    const found = value.find((d) => d.name.toLowerCase() === name.toLowerCase());
    if (!found) throw new CliError(`no deleted vault named '${name}'`, 3);
    return found;
  };
  kv.command('recover')
    .description('recover a soft-deleted vault with its contents')
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { name: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const d = await deletedVault(c, o.name);
      const body = { location: d.properties.location, properties: { tenantId: c.endpoints.tenantId, sku: { family: 'A', name: 'standard' }, createMode: 'recover' } };
      printResult(await c.arm('PUT', d.properties.vaultId, KV_API, body), !!o.json);
    });
  kv.command('purge')
    .description('purge a soft-deleted vault: its contents are gone and its name is free')
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .action(async (o: { name: string; dataDir?: string }) => {
      const c = await client(o);
      const d = await deletedVault(c, o.name);
      await c.arm('POST', `${subPath(c)}/providers/Microsoft.KeyVault/locations/${d.properties.location}/deletedVaults/${encodeURIComponent(d.name)}/purge`, KV_API);
      process.stdout.write(`Purged vault ${d.name}\n`);
    });
  const policyOp = (op: 'add' | 'remove', description: string) =>
    kv
      .command(op === 'add' ? 'set-policy' : 'delete-policy')
      .description(description)
      .requiredOption('-g, --resource-group <rg>')
      .requiredOption('-n, --name <name>', 'the vault')
      .requiredOption('--object-id <id>', 'the principal (objectId / principalId)')
      .option('--application-id <id>', 'the application acting for the principal (compound identity)')
      .option('--secret-permissions <list>', 'e.g. "get list"')
      .option('--key-permissions <list>', 'e.g. "get sign"')
      .option('--certificate-permissions <list>', 'e.g. "get list"')
      .addOption(dataDirOption())
      .addOption(jsonOption())
      .action(async (o: { resourceGroup: string; name: string; objectId: string; applicationId?: string; secretPermissions?: string; keyPermissions?: string; certificatePermissions?: string; dataDir?: string; json?: boolean }) => {
        const c = await client(o);
        const permissions = { secrets: list(o.secretPermissions), keys: list(o.keyPermissions), certificates: list(o.certificatePermissions) };
        const entry = { tenantId: c.endpoints.tenantId, objectId: o.objectId, ...(o.applicationId ? { applicationId: o.applicationId } : {}), permissions: op === 'remove' && !o.secretPermissions && !o.keyPermissions && !o.certificatePermissions ? {} : permissions };
        printResult(await c.arm('PUT', `${vaultPath(c, o.resourceGroup, o.name)}/accessPolicies/${op}`, KV_API, { properties: { accessPolicies: [entry] } }), !!o.json);
      });
  policyOp('add', "grant permissions to a principal (vaults using access policies)");
  policyOp('remove', "take permissions away from a principal (all of them when none is listed)");

  // ---- secrets ---------------------------------------------------------------------------------
  const secret = kv.command('secret').description('manage secrets');
  dataCommand(secret, 'set', 'set a secret (a new version)')
    .requiredOption('-n, --name <name>')
    .requiredOption('--value <value>')
    .option('--content-type <type>')
    .action(async (o: DataOpts & { name: string; value: string; contentType?: string }) => {
      const r = await data(o, 'PUT', `/secrets/${encodeURIComponent(o.name)}`, { value: o.value, ...(o.contentType ? { contentType: o.contentType } : {}) });
      printResult(o.json ? r : summarize(r as Record<string, unknown>), !!o.json);
    });
  dataCommand(secret, 'show', "show a secret's value (latest version, or --version)")
    .requiredOption('-n, --name <name>')
    .option('--version <version>')
    .action(async (o: DataOpts & { name: string; version?: string }) => {
      const r = await data<Record<string, unknown>>(o, 'GET', `/secrets/${encodeURIComponent(o.name)}/${o.version ?? ''}`);
      printResult(o.json ? r : { ...summarize(r!), value: r!.value }, !!o.json);
    });
  dataCommand(secret, 'list', 'list secrets (no values)').action(async (o: DataOpts) => {
    const r = await all(o, '/secrets');
    printResult(o.json ? r : r.map((i) => summarize(i)), !!o.json);
  });
  dataCommand(secret, 'list-versions', "list a secret's versions")
    .requiredOption('-n, --name <name>')
    .action(async (o: DataOpts & { name: string }) => {
      const r = await all(o, `/secrets/${encodeURIComponent(o.name)}/versions`);
      printResult(o.json ? r : r.map((i) => ({ ...summarize(i), version: String(i.id).split('/')[5] })), !!o.json);
    });
  dataCommand(secret, 'delete', 'delete a secret (soft delete)')
    .requiredOption('-n, --name <name>')
    .action(async (o: DataOpts & { name: string }) => {
      const r = await data<Record<string, unknown>>(o, 'DELETE', `/secrets/${encodeURIComponent(o.name)}`);
      printResult(o.json ? r : { name: o.name, recoveryId: r!.recoveryId, scheduledPurgeDate: epoch(r!.scheduledPurgeDate) }, !!o.json);
    });
  dataCommand(secret, 'list-deleted', 'list deleted secrets').action(async (o: DataOpts) => {
    const r = await all(o, '/deletedsecrets');
    printResult(o.json ? r : r.map((i) => ({ ...summarize(i), scheduledPurgeDate: epoch(i.scheduledPurgeDate) })), !!o.json);
  });
  dataCommand(secret, 'recover', 'recover a deleted secret')
    .requiredOption('-n, --name <name>')
    .action(async (o: DataOpts & { name: string }) => {
      const r = await data<Record<string, unknown>>(o, 'POST', `/deletedsecrets/${encodeURIComponent(o.name)}/recover`);
      printResult(o.json ? r : summarize(r!), !!o.json);
    });
  dataCommand(secret, 'purge', 'purge a deleted secret')
    .requiredOption('-n, --name <name>')
    .action(async (o: DataOpts & { name: string }) => {
      await data(o, 'DELETE', `/deletedsecrets/${encodeURIComponent(o.name)}`);
      process.stdout.write(`Purged secret ${o.name}\n`);
    });

  // ---- keys ------------------------------------------------------------------------------------
  const key = kv.command('key').description('manage keys');
  dataCommand(key, 'create', 'create a key (a new version when it exists)')
    .requiredOption('-n, --name <name>')
    .option('--kty <type>', 'RSA, RSA-HSM, EC or EC-HSM', 'RSA')
    .option('--size <bits>', 'RSA key size (2048, 3072, 4096)')
    .option('--curve <curve>', 'EC curve (P-256, P-384, P-521, P-256K)')
    .option('--ops <list>', 'key operations, e.g. "sign verify"')
    .action(async (o: DataOpts & { name: string; kty: string; size?: string; curve?: string; ops?: string }) => {
      const r = await data<Record<string, unknown>>(o, 'POST', `/keys/${encodeURIComponent(o.name)}/create`, {
        kty: o.kty,
        ...(o.size ? { key_size: Number(o.size) } : {}),
        ...(o.curve ? { crv: o.curve } : {}),
        ...(o.ops ? { key_ops: list(o.ops) } : {}),
      });
      printResult(o.json ? r : { ...summarize(r!.key as Record<string, unknown>, 'kid'), kty: (r!.key as Record<string, unknown>).kty }, !!o.json);
    });
  dataCommand(key, 'show', "show a key's public part")
    .requiredOption('-n, --name <name>')
    .option('--version <version>')
    .action(async (o: DataOpts & { name: string; version?: string }) => {
      const r = await data<Record<string, unknown>>(o, 'GET', `/keys/${encodeURIComponent(o.name)}/${o.version ?? ''}`);
      const jwk = r!.key as Record<string, unknown>;
      printResult(o.json ? r : { name: o.name, kid: jwk.kid, kty: jwk.kty, ops: jwk.key_ops, ...(jwk.crv ? { crv: jwk.crv } : {}) }, !!o.json);
    });
  dataCommand(key, 'list', 'list keys').action(async (o: DataOpts) => {
    const r = await all(o, '/keys');
    printResult(o.json ? r : r.map((i) => summarize(i, 'kid')), !!o.json);
  });
  dataCommand(key, 'delete', 'delete a key (soft delete)')
    .requiredOption('-n, --name <name>')
    .action(async (o: DataOpts & { name: string }) => {
      const r = await data<Record<string, unknown>>(o, 'DELETE', `/keys/${encodeURIComponent(o.name)}`);
      printResult(o.json ? r : { name: o.name, recoveryId: r!.recoveryId, scheduledPurgeDate: epoch(r!.scheduledPurgeDate) }, !!o.json);
    });

  // ---- certificates ----------------------------------------------------------------------------
  const cert = kv.command('certificate').description('manage certificates');
  dataCommand(cert, 'create', 'create a self-signed certificate')
    .requiredOption('-n, --name <name>')
    .option('--subject <dn>', 'subject', 'CN=mimic')
    .option('--dns-names <list>', 'DNS names for the subject alternative names')
    .option('--validity <months>', 'validity in months', '12')
    .option('--content-type <type>', 'application/x-pkcs12 or application/x-pem-file', 'application/x-pkcs12')
    .action(async (o: DataOpts & { name: string; subject: string; dnsNames?: string; validity: string; contentType: string }) => {
      const policy = {
        issuer: { name: 'Self' },
        secret_props: { contentType: o.contentType },
        x509_props: { subject: o.subject, validity_months: Number(o.validity), ...(o.dnsNames ? { sans: { dns_names: list(o.dnsNames) } } : {}) },
      };
      const call = await session(o);
      await call('POST', `/certificates/${encodeURIComponent(o.name)}/create`, { policy });
      const r = await call<Record<string, unknown>>('GET', `/certificates/${encodeURIComponent(o.name)}/`);
      printResult(o.json ? r : { ...summarize(r!), x5t: r!.x5t, sid: r!.sid }, !!o.json);
    });
  dataCommand(cert, 'show', 'show a certificate')
    .requiredOption('-n, --name <name>')
    .action(async (o: DataOpts & { name: string }) => {
      const r = await data<Record<string, unknown>>(o, 'GET', `/certificates/${encodeURIComponent(o.name)}/`);
      printResult(o.json ? r : { ...summarize(r!), x5t: r!.x5t, kid: r!.kid, sid: r!.sid }, !!o.json);
    });
  dataCommand(cert, 'list', 'list certificates').action(async (o: DataOpts) => {
    const r = await all(o, '/certificates');
    printResult(o.json ? r : r.map((i) => ({ ...summarize(i), x5t: i.x5t })), !!o.json);
  });
  dataCommand(cert, 'delete', 'delete a certificate with its key and secret (soft delete)')
    .requiredOption('-n, --name <name>')
    .action(async (o: DataOpts & { name: string }) => {
      const r = await data<Record<string, unknown>>(o, 'DELETE', `/certificates/${encodeURIComponent(o.name)}`);
      printResult(o.json ? r : { name: o.name, recoveryId: r!.recoveryId, scheduledPurgeDate: epoch(r!.scheduledPurgeDate) }, !!o.json);
    });
}
