// How vault contents are kept in the store. Two kinds:
//   kvObjects  `{vault}/{collection}/{name}`            one per secret/key/certificate name
//   kvVersions `{vault}/{collection}/{name}/{version}`  one per version
// Names are case-insensitive in Key Vault, so keys use the lower-cased name and records keep
// the spelling of the first version. Secret values and private keys are sealed with the
// instance master key, bound to the record they belong to.
export const KV_OBJECTS = 'kvObjects';
export const KV_VERSIONS = 'kvVersions';
/** Vault names are global: one entry per name, pointing at the vault's ARM id (kept while the vault is soft-deleted). */
export const KV_VAULT_NAMES = 'kvVaultNames';
/** Soft-deleted vaults by name, with the document to recover. */
export const KV_DELETED_VAULTS = 'kvDeletedVaults';

export interface VaultNameEntry {
  id: string;
  deleted?: boolean;
}

export type Collection = 'secrets' | 'keys' | 'certificates';

export interface Attributes {
  enabled: boolean;
  /** Epoch seconds. */
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  /** Keys only: whether the private key may be exported (release). */
  exportable?: boolean;
}

export interface DeletedState {
  deletedDate: number;
  scheduledPurgeDate: number;
}

export interface StoredKey {
  kty: string;
  keyOps: string[];
  /** RSA public parts (base64url). */
  n?: string;
  e?: string;
  /** EC public parts. */
  crv?: string;
  x?: string;
  y?: string;
  /** PKCS#8 DER of the private key, sealed. */
  sealedPrivateKey: string;
}

export interface CertificateMaterial {
  /** Base64 DER of the certificate. */
  cer: string;
  /** Base64url SHA-1 thumbprint. */
  x5t: string;
}

export interface VersionRecord {
  version: string;
  attributes: Attributes;
  tags?: Record<string, string>;
  /** Secrets: content type and the sealed value; kid when the secret backs a certificate. */
  contentType?: string;
  sealedValue?: string;
  kid?: string;
  /** Keys. */
  key?: StoredKey;
  /** Certificates. */
  cert?: CertificateMaterial;
}

export interface ObjectRecord {
  name: string;
  /** The current version (what a request without a version gets). */
  latest: string;
  /** A key or secret that belongs to a certificate of the same name. */
  managed?: boolean;
  deleted?: DeletedState;
  /** Keys: the rotation policy as Key Vault returns it (without id). */
  rotationPolicy?: Record<string, unknown>;
  /** Certificates: the policy in wire shape (without id), and the last issuance operation. */
  policy?: Record<string, unknown>;
  pending?: PendingOperation;
}

export interface PendingOperation {
  requestId: string;
  status: 'inProgress' | 'completed' | 'cancelled' | 'failed';
  /** Base64 DER of the certificate signing request. */
  csr: string;
  issuerName: string;
  cancellationRequested: boolean;
  /** The version the operation creates (its key is already generated). */
  version: string;
  /** Sealed PKCS#8 of the key waiting for a merged certificate (issuer Unknown). */
  sealedPrivateKey?: string;
  attributes?: { enabled?: boolean; nbf?: number; exp?: number };
  tags?: Record<string, string>;
  statusDetails?: string;
  error?: { code: string; message: string };
}

export const objectKey = (vault: string, coll: Collection, name: string) => `${vault}/${coll}/${name.toLowerCase()}`;
export const versionKey = (vault: string, coll: Collection, name: string, version: string) => `${objectKey(vault, coll, name)}/${version.toLowerCase()}`;

/** Associated data binding a sealed value to its vault, item and version. */
export const sealContext = (kind: 'kvsecret' | 'kvkey' | 'kvpending', vault: string, name: string, version: string) => `${kind}/${vault}/${name.toLowerCase()}/${version.toLowerCase()}`;
