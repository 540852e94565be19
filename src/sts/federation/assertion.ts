// Workload identity federation on the token endpoint: a client assertion issued by an
// external OIDC issuer is exchanged for a token of the user-assigned identity whose
// federated credential names that issuer, subject and audience exactly. The credential is
// matched before anything is fetched, so only issuers an administrator configured are ever
// contacted; then the signature is checked against the issuer's published keys, and the
// assertion's lifetime. Failures carry Entra's error codes.
import type { Store } from '../../store/types.js';
import type { Directory } from '../../directory/directory.js';
import type { AssertionValidator } from '../tokenEndpoint.js';
import { decodeJwt, TokenError } from '../jwt.js';
import { listFederatedCredentials } from '../../arm/federatedIdentityCredentials.js';
import { IssuerMetadataError, type IssuerMetadataFetcher } from './issuerMetadata.js';
import { verifyWithJwk } from './jws.js';

/** Seconds of clock skew tolerated on the assertion's nbf and exp. */
const CLOCK_SKEW = 300;
const GUIDANCE = 'Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

type Failure = { status: number; error: string; code: number; message: string };
const invalidClient = (code: number, message: string): Failure => ({ status: 401, error: 'invalid_client', code, message });

export interface AssertionDeps {
  store: Store;
  directory: Directory;
  tenantId: string;
  fetcher: IssuerMetadataFetcher;
  now?: () => number;
}

export function createAssertionValidator(deps: AssertionDeps): AssertionValidator {
  return async (clientId, assertion) => {
    const sp = deps.directory.byApp(clientId);
    if (!sp) {
      return { status: 400, error: 'unauthorized_client', code: 700016, message: `Application with identifier '${clientId}' was not found in the directory '${deps.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.` };
    }
    let decoded;
    try {
      decoded = decodeJwt(assertion);
    } catch (err) {
      if (err instanceof TokenError) return { status: 400, error: 'invalid_request', code: 50027, message: 'JWT token is invalid or malformed.' };
      throw err;
    }
    const { header, claims, signingInput, signature } = decoded;
    const iss = claims.iss;
    const sub = claims.sub;
    // The certificate-credential form (private_key_jwt: the client is the issuer and subject, the
    // key named by the x5t/x5t#S256 header). Mimic registers no certificates on applications, so
    // no such key is ever found; Entra answers a key it does not know this way, before anything else.
    if (iss === clientId && sub === clientId) {
      const named = header as Record<string, unknown>;
      const thumbprint = [named.x5t, named['x5t#S256']].find((v): v is string => typeof v === 'string') ?? '';
      return invalidClient(700027, `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprintHex(thumbprint)}'. Mimic registers no certificate credentials on applications; use a client secret or a federated identity credential.]`);
    }
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
    if (typeof iss !== 'string' || typeof sub !== 'string' || audiences.length === 0 || typeof claims.exp !== 'number') {
      return { status: 400, error: 'invalid_request', code: 50027, message: "JWT token is invalid or malformed: the assertion needs 'iss', 'sub', 'aud' and 'exp' claims." };
    }

    // Only user-assigned identities carry federated credentials in Mimic; any other client has none.
    const credentials = sp.servicePrincipalType === 'ManagedIdentity' && !sp.isSystemAssigned && sp.managedIdentityResourceId ? await listFederatedCredentials(deps.store, sp.managedIdentityResourceId) : [];
    const byIssuer = credentials.filter((c) => c.properties.issuer === iss);
    if (byIssuer.length === 0) return invalidClient(700211, `No matching federated identity record found for presented assertion issuer '${iss}'. ${GUIDANCE}`);
    const bySubject = byIssuer.filter((c) => c.properties.subject === sub);
    if (bySubject.length === 0) return invalidClient(700213, `No matching federated identity record found for presented assertion subject '${sub}'. ${GUIDANCE}`);
    if (!bySubject.some((c) => c.properties.audiences.some((a) => audiences.includes(a)))) {
      return invalidClient(700212, `No matching federated identity record found for presented assertion audience '${audiences.join(',')}'. ${GUIDANCE}`);
    }

    let key;
    try {
      key = await deps.fetcher.key(iss, typeof header.kid === 'string' ? header.kid : undefined);
    } catch (err) {
      if (!(err instanceof IssuerMetadataError)) throw err;
      return invalidClient(50166, `Request to External OIDC endpoint failed: ${err.message}.`);
    }
    if (!key || typeof header.alg !== 'string' || !verifyWithJwk(header.alg, key, signingInput, signature)) {
      return invalidClient(700027, 'Client assertion failed signature validation.');
    }

    const now = deps.now?.() ?? Math.floor(Date.now() / 1000);
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : undefined;
    if (claims.exp + CLOCK_SKEW <= now || (nbf !== undefined && nbf - CLOCK_SKEW > now)) {
      const iso = (s: number) => new Date(s * 1000).toISOString();
      return invalidClient(700024, `Client assertion is not within its valid time range. Current time: ${iso(now)}, assertion valid from ${nbf !== undefined ? iso(nbf) : 'unspecified'}, expiry time of assertion ${iso(claims.exp)}.`);
    }
    return { principal: sp };
  };
}

/** Entra names a certificate by its thumbprint in upper-case hex; the header carries it in base64url. */
function thumbprintHex(x5t: string): string {
  return Buffer.from(x5t.slice(0, 128), 'base64url').toString('hex').toUpperCase();
}
