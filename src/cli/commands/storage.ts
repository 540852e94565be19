// `mimic storage container create|list|delete` (Resource Manager) and `mimic storage blob
// upload|download|list`: blobs through a storage account's data plane, as `az storage blob` does. As the administrator the CLI uses the account key (from listKeys,
// like `--auth-mode key`); with `--as RESOURCE` it uses a token of that resource's managed
// identity, so the call is allowed or refused by RBAC exactly as the resource's code would be.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, type MimicClient } from '../client.js';
import { client, dataDirOption, jsonOption, subPath } from '../common.js';
import { printResult } from '../output.js';
import { ADMIN_NAMESPACE } from '../../sts/managedIdentity/adminApi.js';
import { encodePath, errorCodeOf, storageCall, type StorageReply } from '../../services/storage/client.js';

const STORAGE_API = '2023-05-01';
const MIMIC_API = '2025-01-01';
const STORAGE_RESOURCE = 'https://storage.azure.com/';

interface BlobOpts {
  accountName: string;
  containerName: string;
  as?: string;
  clientId?: string;
  dataDir?: string;
  json?: boolean;
}

interface Session {
  /** Sends a request to `<blob endpoint><path>` with the caller's credentials. */
  send(method: string, path: string, headers?: Record<string, string>, body?: Buffer): Promise<StorageReply>;
}

interface AccountView {
  id: string;
  name: string;
  properties: { primaryEndpoints: { blob: string } };
}

async function findAccount(c: MimicClient, name: string): Promise<AccountView> {
  const list = await c.arm<{ value: AccountView[] }>('GET', `${subPath(c)}/providers/Microsoft.Storage/storageAccounts`, STORAGE_API);
  const account = list?.value.find((a) => a.name === name.toLowerCase());
  if (!account) throw new CliError(`storage account '${name}' not found`, 3);
  return account;
}

async function session(o: BlobOpts): Promise<Session> {
  const c = await client(o);
  const account = await findAccount(c, o.accountName);
  const endpoint = account.properties.primaryEndpoints.blob.replace(/\/?$/, '/');
  const ca = await readFile(c.endpoints.caCertFile, 'utf8');
  const credential = o.as ? { bearer: await identityToken(c, o) } : { sharedKey: { service: 'blob' as const, account: account.name, key: await accountKey(c, account.id) } };
  return {
    send: (method, path, headers = {}, body) => storageCall({ method, url: endpoint + path, headers, ...(body ? { body } : {}), ca, ...credential }),
  };
}

async function accountKey(c: MimicClient, accountId: string): Promise<Buffer> {
  const keys = await c.arm<{ keys: Array<{ value: string }> }>('POST', `${accountId}/listKeys`, STORAGE_API);
  const value = keys?.keys[0]?.value;
  if (!value) throw new CliError('the account has no keys');
  return Buffer.from(value, 'base64');
}

async function identityToken(c: MimicClient, o: BlobOpts): Promise<string> {
  const body = await c.arm<{ access_token: string }>('POST', `${subPath(c)}/providers/${ADMIN_NAMESPACE}/tokens`, MIMIC_API, {
    host: o.as,
    resource: STORAGE_RESOURCE,
    ...(o.clientId ? { clientId: o.clientId } : {}),
  });
  return body!.access_token;
}

function expect(reply: StorageReply, statuses: number[]): StorageReply {
  if (statuses.includes(reply.status)) return reply;
  const code = errorCodeOf(reply) ?? String(reply.status);
  const message = /<Message>([^<]*)/.exec(reply.body.toString('utf8'))?.[1]?.split('\n')[0];
  throw new CliError(`(${code}) ${message ?? `status ${reply.status}`}`, reply.status === 404 ? 3 : 1);
}

const blobPath = (o: BlobOpts, name: string) => `${encodePath(o.containerName)}/${encodePath(name)}`;

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--account-name <name>', 'storage account')
    .requiredOption('-c, --container-name <name>', 'container')
    .option('--as <resource>', "act as this resource's managed identity (resource id, or its name when unique)")
    .option('--client-id <id>', 'with --as: the user-assigned identity to use, by client id')
    .addOption(dataDirOption());
}

export function registerStorageCommands(program: Command): void {
  const storage = program.command('storage').description('storage accounts: containers and blobs');
  const container = storage.command('container').description('containers, through the Resource Manager (so role assignments can target them)');
  const containerPath = async (c: MimicClient, o: { accountName: string }, name = '') => `${(await findAccount(c, o.accountName)).id}/blobServices/default/containers${name ? `/${encodeURIComponent(name)}` : ''}`;
  container
    .command('create')
    .requiredOption('--account-name <name>', 'storage account')
    .requiredOption('-n, --name <name>', 'container name')
    .option('--public-access <level>', 'None, Blob or Container', 'None')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { accountName: string; name: string; publicAccess: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult(await c.arm('PUT', await containerPath(c, o, o.name), STORAGE_API, { properties: { publicAccess: o.publicAccess } }), !!o.json);
    });
  container
    .command('list')
    .requiredOption('--account-name <name>', 'storage account')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { accountName: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult((await c.arm<{ value: unknown[] }>('GET', await containerPath(c, o), STORAGE_API))?.value ?? [], !!o.json);
    });
  container
    .command('delete')
    .requiredOption('--account-name <name>', 'storage account')
    .requiredOption('-n, --name <name>', 'container name')
    .addOption(dataDirOption())
    .action(async (o: { accountName: string; name: string; dataDir?: string }) => {
      const c = await client(o);
      await c.arm('DELETE', await containerPath(c, o, o.name), STORAGE_API);
      process.stdout.write(`Deleted container ${o.name}\n`);
    });

  const blob = storage.command('blob').description('upload, download and list blobs');

  common(blob.command('upload').description('upload a file (or standard input with --file -) as a block blob'))
    .requiredOption('-n, --name <blob>', 'blob name')
    .requiredOption('-f, --file <path>', "file to upload ('-' for standard input)")
    .option('--overwrite', 'replace an existing blob (by default the upload fails if it exists)')
    .addOption(jsonOption())
    .action(async (o: BlobOpts & { name: string; file: string; overwrite?: boolean }) => {
      const data = o.file === '-' ? await readStdin() : await readFile(o.file);
      const s = await session(o);
      const reply = expect(await s.send('PUT', blobPath(o, o.name), { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/octet-stream', ...(o.overwrite ? {} : { 'if-none-match': '*' }) }, data), [201]);
      printResult({ container: o.containerName, name: o.name, size: data.length, etag: reply.headers.etag, lastModified: reply.headers['last-modified'] }, !!o.json);
    });

  common(blob.command('download').description('download a blob to a file or standard output'))
    .requiredOption('-n, --name <blob>', 'blob name')
    .option('-f, --file <path>', 'write to this file instead of standard output')
    .action(async (o: BlobOpts & { name: string; file?: string }) => {
      const s = await session(o);
      const reply = expect(await s.send('GET', blobPath(o, o.name)), [200]);
      if (o.file) await writeFile(o.file, reply.body);
      else process.stdout.write(reply.body);
    });

  common(blob.command('list').description('list the blobs of a container'))
    .option('--prefix <prefix>', 'only blobs whose names start with this')
    .addOption(jsonOption())
    .action(async (o: BlobOpts & { prefix?: string }) => {
      const s = await session(o);
      const blobs: Array<{ name: string; size: number; lastModified: string }> = [];
      let marker = '';
      for (let page = 0; page < 1000; page++) {
        const q = new URLSearchParams({ restype: 'container', comp: 'list', ...(o.prefix ? { prefix: o.prefix } : {}), ...(marker ? { marker } : {}) });
        const xml = expect(await s.send('GET', `${encodePath(o.containerName)}?${q.toString()}`), [200]).body.toString('utf8');
        for (const m of xml.matchAll(/<Blob>([\s\S]*?)<\/Blob>/g)) {
          const part = m[1]!;
          blobs.push({ name: unescape(/<Name>([^<]*)<\/Name>/.exec(part)?.[1] ?? ''), size: Number(/<Content-Length>(\d+)</.exec(part)?.[1] ?? 0), lastModified: /<Last-Modified>([^<]*)</.exec(part)?.[1] ?? '' });
        }
        marker = /<NextMarker>([^<]*)<\/NextMarker>/.exec(xml)?.[1] ?? '';
        if (!marker) break;
      }
      if (o.json) printResult(blobs, true);
      else process.stdout.write(blobs.length ? blobs.map((b) => `${b.name}\t${b.size}\t${b.lastModified}`).join('\n') + '\n' : '(none)\n');
    });
}

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
