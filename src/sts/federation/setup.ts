// Wires workload identity federation: the federated identity credential resource type, the
// client-assertion validator of the token endpoint, and the local OIDC issuers (public
// discovery documents on the main origin, token issuing through the admin extension).
import { rootCertificates } from 'node:tls';
import type { AppContext } from '../../server/context.js';
import { federatedIdentityCredentialHooks } from '../../arm/federatedIdentityCredentials.js';
import { createAssertionValidator } from './assertion.js';
import { IssuerMetadataFetcher } from './issuerMetadata.js';
import { ISSUER_PATH, LocalIssuers } from './localIssuers.js';
import { federationAdminApi, FEDERATION_NAMESPACE } from './adminApi.js';

export async function setupFederation(ctx: AppContext): Promise<void> {
  ctx.types.register(federatedIdentityCredentialHooks(ctx.store));

  const issuers = new LocalIssuers(ctx.store, ctx.sealer, () => {
    if (!ctx.origin) throw new Error('the main origin is not listening yet');
    return ctx.origin;
  });
  ctx.originRoutes.push({ matches: (req) => req.path.startsWith(ISSUER_PATH), handle: (req, res) => issuers.handle(req, res) });
  ctx.armRouter.registerExtension(
    FEDERATION_NAMESPACE,
    federationAdminApi({ subscriptionId: ctx.tenant.subscriptionId, issuers, authorizer: () => ctx.arm.authorizer }),
  );

  // Public roots for real issuers (GitHub, AKS, ...), Mimic's CA for the local ones.
  const fetcher = new IssuerMetadataFetcher([...rootCertificates, ctx.tls.caCertPem]);
  ctx.tokenEndpoint.assertionValidator = createAssertionValidator({ store: ctx.store, directory: ctx.directory, tenantId: ctx.tenant.tenantId, fetcher });
}
