// Local OIDC issuers: stand-ins for GitHub Actions, a Kubernetes service-account issuer or
// any other workload identity provider, so federated credentials can be tried without one.
// Each named issuer has its own RSA key (private half sealed in the store), publishes an
// OIDC discovery document and a JWKS at `{origin}/mimic/issuers/{name}`, and signs
// assertions only on an administrator's request (`mimic federated-token`).
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { ServerResponse } from 'node:http';
import { ConflictError, type Store } from '../../store/types.js';
import type { Sealer } from '../../crypto/masterKey.js';
import { sendJson, segments, type Request } from '../../server/http.js';
import { signJwt } from '../jwt.js';

const generateKeyPairAsync = promisify(generateKeyPair);
export const LOCAL_ISSUERS = 'federationIssuers';
export const ISSUER_PATH = '/mimic/issuers/';
export const ISSUER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';
export const MAX_ASSERTION_LIFETIME = 24 * 3600;

interface StoredIssuer {
  name: string;
  kid: string;
  publicKeyPem: string;
  sealedPrivateKey: string;
  createdAt: string;
}

interface LoadedIssuer {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export interface FederatedTokenRequest {
  subject: string;
  audience?: string;
  lifetimeSeconds?: number;
  /** Extra claims (e.g. GitHub's `repository`), never overriding the registered ones. */
  claims?: Record<string, unknown>;
}

export interface IssuedAssertion {
  token: string;
  issuer: string;
  subject: string;
  audience: string;
  expiresOn: number;
}

export class LocalIssuers {
  private readonly loaded = new Map<string, LoadedIssuer>();

  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
    private readonly origin: () => string,
  ) {}

  url(name: string): string {
    return `${this.origin()}${ISSUER_PATH}${name}`;
  }

  /** The issuer name behind a local issuer URL, or the name itself. */
  nameOf(issuerOrName: string): string | undefined {
    const prefix = `${this.origin()}${ISSUER_PATH}`;
    const name = issuerOrName.startsWith(prefix) ? issuerOrName.slice(prefix.length).replace(/\/$/, '') : issuerOrName;
    return ISSUER_NAME.test(name) ? name : undefined;
  }

  async mint(name: string, req: FederatedTokenRequest): Promise<IssuedAssertion> {
    const issuer = await this.ensure(name);
    const now = Math.floor(Date.now() / 1000);
    const lifetime = req.lifetimeSeconds ?? 3600;
    const audience = req.audience ?? DEFAULT_AUDIENCE;
    const claims = {
      ...(req.claims ?? {}),
      iss: this.url(name),
      sub: req.subject,
      aud: audience,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      jti: randomUUID(),
    };
    const token = signJwt({ typ: 'JWT', alg: 'RS256', kid: issuer.kid }, claims, issuer.privateKey);
    return { token, issuer: claims.iss, subject: req.subject, audience, expiresOn: claims.exp };
  }

  /** Serves `{name}/.well-known/openid-configuration` and `{name}/keys` (public, like any issuer's). */
  async handle(req: Request, res: ServerResponse): Promise<void> {
    const segs = segments(req.path.slice(ISSUER_PATH.length));
    const name = segs[0] ?? '';
    const rest = segs.slice(1).join('/');
    const issuer = ISSUER_NAME.test(name) ? await this.find(name) : undefined;
    if (!issuer || (rest !== '.well-known/openid-configuration' && rest !== 'keys')) {
      return sendJson(res, 404, { error: 'not_found', error_description: `No local issuer document at '${req.path}'.` });
    }
    if (rest === 'keys') return sendJson(res, 200, { keys: [issuer.jwk] }, { 'cache-control': 'max-age=300' });
    const url = this.url(name);
    sendJson(res, 200, {
      issuer: url,
      jwks_uri: `${url}/keys`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti'],
    });
  }

  private async find(name: string): Promise<LoadedIssuer | undefined> {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    const e = await this.store.get<StoredIssuer>(LOCAL_ISSUERS, name);
    return e ? this.load(e.value) : undefined;
  }

  /** The issuer, created with a fresh key on first use. */
  private async ensure(name: string): Promise<LoadedIssuer> {
    const existing = await this.find(name);
    if (existing) return existing;
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
    const kid = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('base64url').slice(0, 27);
    const stored: StoredIssuer = {
      name,
      kid,
      publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      sealedPrivateKey: this.sealer.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }), `${LOCAL_ISSUERS}/${name}`),
      createdAt: new Date().toISOString(),
    };
    try {
      await this.store.apply([{ op: 'put', kind: LOCAL_ISSUERS, key: name, value: stored, ifAbsent: true }]);
    } catch (err) {
      // Another request (or instance) created it first: use that one.
      if (err instanceof ConflictError) return (await this.find(name))!;
      throw err;
    }
    return this.load(stored);
  }

  private load(stored: StoredIssuer): LoadedIssuer {
    const publicKey = createPublicKey(stored.publicKeyPem);
    const loaded: LoadedIssuer = {
      kid: stored.kid,
      privateKey: createPrivateKey(this.sealer.open(stored.sealedPrivateKey, `${LOCAL_ISSUERS}/${stored.name}`)),
      jwk: { ...publicKey.export({ format: 'jwk' }), kid: stored.kid, use: 'sig', alg: 'RS256' },
    };
    this.loaded.set(stored.name, loaded);
    return loaded;
  }
}
