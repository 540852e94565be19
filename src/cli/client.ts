// A small HTTPS client the CLI uses to drive a running Mimic exactly as `az` drives Azure:
// it gets a token for its principal and calls the REST API.
import { request } from 'node:https';
import { readFile } from 'node:fs/promises';
import { readEndpoints, type Endpoints } from '../server/config.js';
import { readAdminCredentials } from '../directory/bootstrap.js';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = unknown>(): T;
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export class MimicClient {
  private token?: { value: string; expiresOn: number };

  private constructor(
    readonly endpoints: Endpoints,
    private readonly ca: string,
    private readonly dataDir: string,
  ) {}

  static async open(dataDir: string): Promise<MimicClient> {
    const endpoints = await readEndpoints(dataDir);
    return new MimicClient(endpoints, await readFile(endpoints.caCertFile, 'utf8'), dataDir);
  }

  send(method: string, url: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, ca: this.ca, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      });
      req.on('error', (err) => reject(new CliError(`cannot reach Mimic at ${url}: ${err.message} (is \`mimic start\` running?)`)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** A management token for the administrator, from Mimic's token endpoint. */
  async adminToken(resource = 'https://management.azure.com/'): Promise<string> {
    if (this.token && this.token.expiresOn > Date.now() / 1000 + 60) return this.token.value;
    const creds = await readAdminCredentials(this.dataDir);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret, scope: `${resource}.default`.replace(/\/?\.default$/, '/.default') });
    const res = await this.send('POST', `${this.endpoints.authorityHost}/${creds.tenantId}/oauth2/v2.0/token`, form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    if (res.status !== 200) throw new CliError(`token request failed (${res.status}): ${res.text}`);
    const body = res.json<{ access_token: string; expires_in: number }>();
    this.token = { value: body.access_token, expiresOn: Date.now() / 1000 + body.expires_in };
    return body.access_token;
  }

  /** Calls the Resource Manager; throws CliError with ARM's message on failure. */
  async arm<T = unknown>(method: string, path: string, apiVersion: string, body?: unknown): Promise<T | undefined> {
    const token = await this.adminToken();
    const sep = path.includes('?') ? '&' : '?';
    const res = await this.send(method, `${this.endpoints.armEndpoint}${path}${sep}api-version=${apiVersion}`, body === undefined ? undefined : JSON.stringify(body), {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    if (res.status >= 400) {
      let message = res.text;
      try {
        const e = res.json<{ error?: { code?: string; message?: string } }>().error;
        if (e) message = `(${e.code}) ${e.message}`;
      } catch {
        // not JSON: show the text
      }
      throw new CliError(message, res.status === 404 ? 3 : 1);
    }
    return res.text ? res.json<T>() : undefined;
  }
}
