// `mimic ca export`: Mimic's CA for clients that take a trust file: PEM (curl, Python, Go, .NET on
// Linux via SSL_CERT_FILE) or a PKCS#12 trust store for Java (`-Djavax.net.ssl.trustStore`).
// Java's trustStore replaces its default roots, so the store also carries the system roots
// unless --ca-only. Reads the data dir's files; Mimic need not be running.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { resolveDataDir } from '../../server/config.js';
import { CliError } from '../client.js';
import { dataDirOption } from '../common.js';
import { pkcs12TrustStore, SYSTEM_ROOTS_FILE } from '../../crypto/trustStore.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Aliases keytool shows: Mimic's CA, then each system root by its subject's CN (made unique). */
async function trustedCertificates(caPem: string, caOnly: boolean): Promise<Array<{ alias: string; pem: string }>> {
  const out = [{ alias: 'mimic-local-ca', pem: caPem }];
  if (caOnly) return out;
  let roots = '';
  try {
    roots = await readFile(SYSTEM_ROOTS_FILE, 'utf8');
  } catch {
    return out;
  }
  const used = new Set(out.map((c) => c.alias));
  for (const pem of roots.match(PEM_CERT) ?? []) {
    let cn = 'root';
    try {
      cn = /CN=([^\n]+)/.exec(new X509Certificate(pem).subject)?.[1] ?? 'root';
    } catch {
      continue; // not a certificate Node can read: leave it out rather than write a broken store
    }
    const base = cn.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'root';
    let alias = base;
    for (let i = 2; used.has(alias); i++) alias = `${base}-${i}`;
    used.add(alias);
    out.push({ alias, pem });
  }
  return out;
}

export function registerCaCommands(program: Command): void {
  const ca = program.command('ca').description("Mimic's local certificate authority");
  ca.command('export')
    .description("write Mimic's CA certificate as PEM, or a PKCS#12 trust store for Java")
    .option('--format <format>', 'pem or p12', 'pem')
    .option('--out <file>', 'write to this file (default: standard output)')
    .option('--password <password>', "p12: the store's password (Java's default store password)", 'changeit')
    .option('--ca-only', 'p12: only Mimic\'s CA, without the system roots')
    .addOption(dataDirOption())
    .action(async (o: { format: string; out?: string; password: string; caOnly?: boolean; dataDir?: string }) => {
      const dataDir = resolveDataDir(o.dataDir);
      let caPem: string;
      try {
        caPem = await readFile(join(dataDir, 'ca.crt'), 'utf8');
      } catch {
        throw new CliError(`no CA in ${dataDir}: run \`mimic start --data-dir ${dataDir}\` once first`, 3);
      }
      let data: Buffer;
      if (o.format === 'pem') data = Buffer.from(caPem);
      else if (o.format === 'p12') {
        if (!o.password) throw new CliError('--password must not be empty (Java checks the store with it)', 2);
        if (!o.out && process.stdout.isTTY) throw new CliError('a p12 store is binary: give --out FILE', 2);
        data = pkcs12TrustStore(await trustedCertificates(caPem, !!o.caOnly), o.password);
      } else throw new CliError(`unknown --format '${o.format}': use pem or p12`, 2);
      if (o.out) await writeFile(o.out, data, { mode: 0o644 });
      else process.stdout.write(data);
    });
}
