// Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials: trust in an
// external token issuer for one subject and audience. Azure's rules: at most 20 per
// identity, issuer + subject unique within the identity, issuer and subject at most 600
// characters, exactly one audience, no wildcards (matching is exact), names 3-120 chars.
import type { Store } from '../store/types.js';
import { ArmError } from './errors.js';
import { keyOf } from './ids.js';
import { RESOURCES, type StoredResource } from './model.js';
import type { ResourceTypeHooks } from './resourceTypes.js';

export const FEDERATED_CREDENTIAL_TYPE = 'microsoft.managedidentity/userassignedidentities/federatedidentitycredentials';
export const MAX_FEDERATED_CREDENTIALS = 20;
const MAX_FIELD = 600;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;

export interface FederatedCredentialProperties {
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface FederatedCredential {
  id: string;
  name: string;
  properties: FederatedCredentialProperties;
}

/** The federated credentials of a user-assigned identity. */
export async function listFederatedCredentials(store: Store, identityId: string): Promise<FederatedCredential[]> {
  const prefix = `${keyOf(identityId)}/federatedidentitycredentials/`;
  const entries = await store.list<StoredResource>(RESOURCES, { prefix });
  return entries
    .filter((e) => !e.key.slice(prefix.length).includes('/'))
    .map((e) => ({ id: e.value.id, name: e.value.name, properties: e.value.properties as unknown as FederatedCredentialProperties }));
}

const bad = (message: string, target: string) => new ArmError(400, 'BadRequest', message, target);

function checkProperties(raw: unknown): FederatedCredentialProperties {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad("The property 'properties' with 'issuer', 'subject' and 'audiences' is required.", 'properties');
  const p = raw as Record<string, unknown>;
  const { issuer, subject, audiences } = p;
  if (typeof issuer !== 'string' || issuer.length === 0) throw bad("The property 'properties.issuer' is required.", 'properties.issuer');
  if (issuer.length > MAX_FIELD) throw bad(`The issuer is longer than ${MAX_FIELD} characters.`, 'properties.issuer');
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw bad(`The issuer '${issuer}' is not a valid URL.`, 'properties.issuer');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`The issuer '${issuer}' must be an http(s) URL.`, 'properties.issuer');
  if (typeof subject !== 'string' || subject.length === 0) throw bad("The property 'properties.subject' is required.", 'properties.subject');
  if (subject.length > MAX_FIELD) throw bad(`The subject is longer than ${MAX_FIELD} characters.`, 'properties.subject');
  if (!Array.isArray(audiences) || audiences.length !== 1) throw bad("The property 'properties.audiences' must hold exactly one audience.", 'properties.audiences');
  const [audience] = audiences as unknown[];
  if (typeof audience !== 'string' || audience.length === 0 || audience.length > MAX_FIELD) {
    throw bad(`The audience must be a non-empty string of at most ${MAX_FIELD} characters.`, 'properties.audiences');
  }
  return { issuer, subject, audiences: [audience] };
}

export function federatedIdentityCredentialHooks(store: Store): ResourceTypeHooks {
  return {
    type: FEDERATED_CREDENTIAL_TYPE,
    validateName(name) {
      if (!NAME.test(name)) {
        throw new ArmError(400, 'InvalidResourceName', `Resource name '${name}' is invalid. The name can contain only letters, numbers, hyphens and underscores, must start with a letter or number, and must be 3 to 120 characters long.`);
      }
    },
    async beforeWrite(doc, ctx) {
      const requested = ctx.mode === 'patch' ? { ...(ctx.previous?.properties ?? {}), ...((ctx.body.properties as object | undefined) ?? {}) } : ctx.body.properties;
      const props = checkProperties(requested);
      const identityId = doc.id.slice(0, doc.id.toLowerCase().lastIndexOf('/federatedidentitycredentials/'));
      const siblings = (await listFederatedCredentials(store, identityId)).filter((f) => keyOf(f.id) !== keyOf(doc.id));
      if (!ctx.previous && siblings.length >= MAX_FEDERATED_CREDENTIALS) {
        throw bad(`Too many federated identity credentials: a managed identity holds at most ${MAX_FEDERATED_CREDENTIALS}.`, 'name');
      }
      const same = siblings.find((f) => f.properties.issuer === props.issuer && f.properties.subject === props.subject);
      if (same) {
        throw bad(`The federated identity credential '${same.name}' of this identity already has issuer '${props.issuer}' and subject '${props.subject}'; the pair must be unique.`, 'properties');
      }
      // A child of the identity: no location, tags or other top-level fields of tracked resources.
      for (const f of ['location', 'tags', 'kind', 'sku', 'plan', 'zones', 'managedBy'] as const) delete doc[f];
      doc.properties = { ...props };
      return [];
    },
    view(doc) {
      return { id: doc.id, name: doc.name, type: doc.type, properties: doc.properties, systemData: doc.systemData };
    },
  };
}
