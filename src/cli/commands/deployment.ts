// `mimic deployment group|sub create|show|list|delete|cancel` and `mimic deployment operation
// group|sub list`: ARM template deployments through the REST API, as `az deployment` does
// them. `create` sends the template inline, then follows the deployment, printing each
// resource as it completes when stdout is a terminal; `--json` prints the final deployment.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { CliError, type MimicClient } from '../client.js';
import { client, dataDirOption, jsonOption, subPath } from '../common.js';
import { printResult } from '../output.js';
import { printRows } from './role.js';

export const DEPLOYMENTS_API = '2024-03-01';
const POLL_MS = 400;

interface Deployment {
  id: string;
  name: string;
  properties: {
    provisioningState: string;
    outputs?: Record<string, { type: string; value: unknown }>;
    error?: { code: string; message: string; details?: Array<{ code: string; message: string; target?: string }> };
    duration?: string;
  };
}

interface Operation {
  operationId: string;
  properties: { provisioningState: string; provisioningOperation: string; statusCode?: string; statusMessage?: { error?: { code: string; message: string } }; targetResource?: { resourceType: string; resourceName: string } };
}

/** `--parameters` values as `az` takes them: `@file.json`, inline JSON, or `name=value` (value as JSON when it parses). */
export async function parseParameters(items: string[]): Promise<Record<string, { value: unknown }>> {
  const out: Record<string, { value: unknown }> = {};
  const merge = (doc: unknown, from: string) => {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CliError(`--parameters ${from}: expected a JSON object`, 2);
    // A parameters file (`{"$schema":..., "parameters": {...}}`) or the bare parameters object.
    const params = ('parameters' in doc && typeof (doc as { parameters: unknown }).parameters === 'object' ? (doc as { parameters: Record<string, unknown> }).parameters : doc) as Record<string, unknown>;
    for (const [k, v] of Object.entries(params)) {
      if (k === '$schema' || k === 'contentVersion') continue;
      out[k] = typeof v === 'object' && v !== null && ('value' in v || 'reference' in v) ? (v as { value: unknown }) : { value: v };
    }
  };
  for (const item of items) {
    if (item.startsWith('@')) {
      const file = item.slice(1);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read the parameters file ${file}: ${(err as Error).message}`, 2);
      }
      try {
        merge(JSON.parse(text), item);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`the parameters file ${file} is not valid JSON: ${(err as Error).message}`, 2);
      }
    } else if (item.trimStart().startsWith('{')) {
      try {
        merge(JSON.parse(item), 'JSON');
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`--parameters: invalid JSON: ${(err as Error).message}`, 2);
      }
    } else {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new CliError(`--parameters '${item}': expected name=value, @file.json or a JSON object`, 2);
      const raw = item.slice(eq + 1);
      let value: unknown = raw;
      try {
        value = JSON.parse(raw);
      } catch {
        // a plain string
      }
      out[item.slice(0, eq)] = { value };
    }
  }
  return out;
}

async function readTemplate(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the template file ${file}: ${(err as Error).message}`, 2);
  }
  if (extname(file).toLowerCase() === '.bicep') throw new CliError('Mimic deploys ARM JSON templates: compile the Bicep file first (az bicep build --file F, or bicep build F) and pass the .json', 2);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`the template file ${file} is not valid JSON: ${(err as Error).message}`, 2);
  }
}

interface CreateOptions {
  templateFile: string;
  parameters?: string[];
  name?: string;
  mode?: string;
  dataDir?: string;
  json?: boolean;
  noWait?: boolean;
}

/** Sends the deployment, then follows it to the end; exits non-zero when it fails. */
async function create(c: MimicClient, scope: string, o: CreateOptions, location?: string): Promise<void> {
  const template = await readTemplate(o.templateFile);
  const parameters = await parseParameters(o.parameters ?? []);
  const name = o.name ?? basename(o.templateFile, extname(o.templateFile));
  const path = `${scope}/providers/Microsoft.Resources/deployments/${encodeURIComponent(name)}`;
  const mode = o.mode ?? 'Incremental';
  await c.arm('PUT', path, DEPLOYMENTS_API, { ...(location ? { location } : {}), properties: { mode, template, parameters } });
  if (o.noWait) return printResult({ name, provisioningState: 'Accepted' }, !!o.json);
  const progress = !o.json && process.stdout.isTTY === true;
  const shown = new Set<string>();
  let d: Deployment;
  for (;;) {
    d = (await c.arm<Deployment>('GET', path, DEPLOYMENTS_API))!;
    const state = d.properties.provisioningState;
    const done = state !== 'Accepted' && state !== 'Running';
    if (progress || (done && !o.json)) {
      const ops = (await c.arm<{ value: Operation[] }>('GET', `${path}/operations`, DEPLOYMENTS_API))?.value ?? [];
      for (const op of ops) {
        const p = op.properties;
        if (p.provisioningState === 'Running' || shown.has(op.operationId)) continue;
        shown.add(op.operationId);
        const t = p.targetResource;
        const why = p.statusMessage?.error ? `  ${p.statusMessage.error.code}: ${p.statusMessage.error.message}` : '';
        process.stdout.write(`  ${p.provisioningState.padEnd(9)}  ${p.provisioningOperation.padEnd(6)}  ${t ? `${t.resourceType}/${t.resourceName}` : ''}${why}\n`);
      }
    }
    if (done) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (o.json) process.stdout.write(JSON.stringify(d, null, 2) + '\n');
  else {
    process.stdout.write(`Deployment ${d.name}: ${d.properties.provisioningState}${d.properties.duration ? ` (${d.properties.duration})` : ''}\n`);
    for (const [k, v] of Object.entries(d.properties.outputs ?? {})) process.stdout.write(`  output ${k} = ${JSON.stringify(v.value)}\n`);
  }
  if (d.properties.provisioningState !== 'Succeeded') {
    const e = d.properties.error;
    const details = (e?.details ?? []).map((x) => `\n  ${x.target ? `${x.target}: ` : ''}(${x.code}) ${x.message}`).join('');
    throw new CliError(e ? `(${e.code}) ${e.message}${details}` : `the deployment ended ${d.properties.provisioningState}`);
  }
}

function addScopeCommands(parent: Command, level: 'group' | 'sub'): void {
  const scopeOf = (c: MimicClient, rg?: string) => subPath(c, level === 'group' ? rg : undefined);
  const withScope = (cmd: Command) => (level === 'group' ? cmd.requiredOption('-g, --resource-group <rg>') : cmd);
  const createCmd = withScope(parent.command('create').description(`deploy an ARM template (JSON; compile Bicep first) to a ${level === 'group' ? 'resource group' : 'subscription'}`));
  if (level === 'sub') createCmd.requiredOption('-l, --location <location>', 'where the deployment is recorded');
  createCmd
    .requiredOption('-f, --template-file <file>')
    .option('-p, --parameters <values...>', '@params.json, a JSON object, or name=value (several, and repeatable)')
    .option('-n, --name <name>', 'deployment name (default: the template file name)')
    .option('--mode <mode>', 'Incremental (default) or Complete (deletes what the template does not declare)')
    .option('--no-wait', 'return once the deployment is accepted')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: CreateOptions & { resourceGroup?: string; location?: string; wait?: boolean }) => {
      const c = await client(o);
      await create(c, scopeOf(c, o.resourceGroup), { ...o, noWait: o.wait === false }, o.location);
    });
  const path = (c: MimicClient, o: { resourceGroup?: string; name?: string }) => `${scopeOf(c, o.resourceGroup)}/providers/Microsoft.Resources/deployments${o.name ? `/${encodeURIComponent(o.name)}` : ''}`;
  withScope(parent.command('show').description('show a deployment'))
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup?: string; name: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      printResult(await c.arm('GET', path(c, o), DEPLOYMENTS_API), !!o.json);
    });
  withScope(parent.command('list').description('list deployments'))
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (o: { resourceGroup?: string; dataDir?: string; json?: boolean }) => {
      const c = await client(o);
      const list = (await c.arm<{ value: Deployment[] }>('GET', path(c, { resourceGroup: o.resourceGroup }), DEPLOYMENTS_API))?.value ?? [];
      printRows(list.map((d) => ({ Name: d.name, State: d.properties.provisioningState, Duration: d.properties.duration ?? '' })), !!o.json, list);
    });
  withScope(parent.command('delete').description('delete a deployment from the history (its resources stay)'))
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .action(async (o: { resourceGroup?: string; name: string; dataDir?: string }) => {
      const c = await client(o);
      await c.arm('DELETE', path(c, o), DEPLOYMENTS_API);
      process.stdout.write(`Deleted deployment ${o.name}\n`);
    });
  withScope(parent.command('cancel').description('cancel a running deployment'))
    .requiredOption('-n, --name <name>')
    .addOption(dataDirOption())
    .action(async (o: { resourceGroup?: string; name: string; dataDir?: string }) => {
      const c = await client(o);
      await c.arm('POST', `${path(c, o)}/cancel`, DEPLOYMENTS_API);
      process.stdout.write(`Canceled deployment ${o.name}\n`);
    });
}

export function registerDeploymentCommands(program: Command): void {
  const deployment = program.command('deployment').description('ARM template deployments (az deployment)');
  addScopeCommands(deployment.command('group').description('deployments to a resource group'), 'group');
  addScopeCommands(deployment.command('sub').description('deployments to the subscription'), 'sub');
  const operation = deployment.command('operation').description("a deployment's operations (one per resource)");
  for (const level of ['group', 'sub'] as const) {
    const cmd = operation.command(level).command('list').description("list a deployment's operations").requiredOption('-n, --name <name>');
    if (level === 'group') cmd.requiredOption('-g, --resource-group <rg>');
    cmd
      .addOption(dataDirOption())
      .addOption(jsonOption())
      .action(async (o: { resourceGroup?: string; name: string; dataDir?: string; json?: boolean }) => {
        const c = await client(o);
        const p = `${subPath(c, level === 'group' ? o.resourceGroup : undefined)}/providers/Microsoft.Resources/deployments/${encodeURIComponent(o.name)}/operations`;
        const ops = (await c.arm<{ value: Operation[] }>('GET', p, DEPLOYMENTS_API))?.value ?? [];
        const rows = ops.map((op) => {
          const p = op.properties;
          return { Operation: p.provisioningOperation, State: p.provisioningState, Status: p.statusCode ?? '', Type: p.targetResource?.resourceType ?? '', Name: p.targetResource?.resourceName ?? '', Error: p.statusMessage?.error?.code ?? '' };
        });
        printRows(rows, !!o.json, ops);
      });
  }
}
