// Options and helpers every CLI command shares.
import { Option } from 'commander';
import { resolveDataDir } from '../server/config.js';
import { MimicClient } from './client.js';

export const dataDirOption = () => new Option('--data-dir <dir>', 'data directory (default: .mimic, or $MIMIC_DATA_DIR)');
export const jsonOption = () => new Option('--json', 'print JSON');

export async function client(opts: { dataDir?: string }): Promise<MimicClient> {
  return MimicClient.open(resolveDataDir(opts.dataDir));
}

export function subPath(c: MimicClient, rg?: string): string {
  return `/subscriptions/${c.endpoints.subscriptionId}${rg ? `/resourceGroups/${encodeURIComponent(rg)}` : ''}`;
}
