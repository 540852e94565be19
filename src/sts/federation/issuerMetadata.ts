// Fetches an OIDC issuer's discovery document and signing keys over HTTPS, the way Entra
// does before it trusts a federated assertion: `{issuer}/.well-known/openid-configuration`,
// whose `issuer` must equal the assertion's, then its `jwks_uri`. Results are cached; an
// unknown key id triggers one early refetch (issuers rotate keys).
import { request } from 'node:https';
import type { JsonWebKey } from 'node:crypto';

const TTL_MS = 10 * 60 * 1000;
const MIN_REFETCH_MS = 10 * 1000;
const TIMEOUT_MS = 5000;
const MAX_BYTES = 512 * 1024;

export class IssuerMetadataError extends Error {}

interface CachedKeys {
  keys: JsonWebKey[];
  fetchedAt: number;
}

export class IssuerMetadataFetcher {
  private readonly cache = new Map<string, CachedKeys>();
  private readonly inflight = new Map<string, Promise<CachedKeys>>();

  /** `ca`: trusted roots (the public ones plus Mimic's CA, so local issuers verify too). */
  constructor(private readonly ca: string[]) {}

  /** The issuer's key with this kid (or its only key when the assertion names none). */
  async key(issuer: string, kid: string | undefined): Promise<JsonWebKey | undefined> {
    const now = Date.now();
    let cached = this.cache.get(issuer);
    if (!cached || now - cached.fetchedAt > TTL_MS) cached = await this.refresh(issuer);
    let found = pick(cached.keys, kid);
    if (!found && now - cached.fetchedAt > MIN_REFETCH_MS) found = pick((await this.refresh(issuer)).keys, kid);
    return found;
  }

  private refresh(issuer: string): Promise<CachedKeys> {
    let p = this.inflight.get(issuer);
    if (!p) {
      p = this.load(issuer).finally(() => this.inflight.delete(issuer));
      this.inflight.set(issuer, p);
    }
    return p;
  }

  private async load(issuer: string): Promise<CachedKeys> {
    const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = (await this.getJson(discoveryUrl)) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== issuer) throw new IssuerMetadataError(`the discovery document at ${discoveryUrl} names issuer '${String(doc.issuer)}', not '${issuer}'`);
    if (typeof doc.jwks_uri !== 'string') throw new IssuerMetadataError(`the discovery document at ${discoveryUrl} has no jwks_uri`);
    const jwks = (await this.getJson(doc.jwks_uri)) as { keys?: unknown };
    if (!Array.isArray(jwks.keys)) throw new IssuerMetadataError(`the key set at ${doc.jwks_uri} has no keys`);
    const entry = { keys: jwks.keys.filter((k): k is JsonWebKey => typeof k === 'object' && k !== null && (k as JsonWebKey).use !== 'enc'), fetchedAt: Date.now() };
    this.cache.set(issuer, entry);
    return entry;
  }

  private getJson(url: string): Promise<unknown> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return Promise.reject(new IssuerMetadataError(`'${url}' is not a URL`));
    }
    if (parsed.protocol !== 'https:') return Promise.reject(new IssuerMetadataError(`'${url}' is not an https URL`));
    return new Promise((resolve, reject) => {
      const req = request(parsed, { method: 'GET', ca: this.ca, timeout: TIMEOUT_MS, headers: { accept: 'application/json' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new IssuerMetadataError(`GET ${url} answered ${res.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BYTES) {
            req.destroy();
            reject(new IssuerMetadataError(`GET ${url} returned more than ${MAX_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(new IssuerMetadataError(`GET ${url} did not return JSON`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new IssuerMetadataError(`GET ${url} timed out`)));
      req.on('error', (err) => reject(err instanceof IssuerMetadataError ? err : new IssuerMetadataError(`GET ${url} failed: ${err.message}`)));
      req.end();
    });
  }
}

function pick(keys: JsonWebKey[], kid: string | undefined): JsonWebKey | undefined {
  if (kid === undefined) return keys.length === 1 ? keys[0] : undefined;
  return keys.find((k) => (k as { kid?: string }).kid === kid);
}
