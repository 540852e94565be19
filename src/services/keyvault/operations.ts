// Every data-plane operation Mimic serves, with what each permission model requires for it:
// the RBAC data action (under Microsoft.KeyVault/vaults/) and the access-policy permission.
import type { PolicyCategory } from './accessPolicies.js';
import type { Collection } from './records.js';

export interface OperationSpec {
  coll: Collection;
  /** Data action without the `Microsoft.KeyVault/vaults/` prefix. */
  action: string;
  /** The full data action (`Microsoft.KeyVault/vaults/` + action). */
  dataAction: string;
  /** Access-policy permission (lower-case) in the collection's category. */
  permission: string;
  /** Decided at the item's own scope (`{vault}/secrets/{name}`) rather than the vault's. */
  itemScoped: boolean;
  /** A second access-policy permission that also grants the operation (`manageissuers`). */
  orPermission?: string;
}

export const DATA_ACTION_PREFIX = 'Microsoft.KeyVault/vaults/';

const op = (coll: Collection, action: string, permission: string, itemScoped = true, orPermission?: string): OperationSpec => ({
  coll,
  action,
  dataAction: DATA_ACTION_PREFIX + action,
  permission,
  itemScoped,
  ...(orPermission ? { orPermission } : {}),
});

export const OPERATIONS = {
  // secrets
  'secret.set': op('secrets', 'secrets/setSecret/action', 'set'),
  'secret.get': op('secrets', 'secrets/getSecret/action', 'get'),
  'secret.update': op('secrets', 'secrets/update/action', 'set'),
  'secret.delete': op('secrets', 'secrets/delete', 'delete'),
  'secret.list': op('secrets', 'secrets/readMetadata/action', 'list', false),
  'secret.versions': op('secrets', 'secrets/readMetadata/action', 'list'),
  'secret.backup': op('secrets', 'secrets/backup/action', 'backup'),
  'secret.restore': op('secrets', 'secrets/restore/action', 'restore', false),
  'secret.deletedList': op('secrets', 'secrets/readMetadata/action', 'list', false),
  'secret.deletedGet': op('secrets', 'secrets/readMetadata/action', 'get'),
  'secret.recover': op('secrets', 'secrets/recover/action', 'recover'),
  'secret.purge': op('secrets', 'secrets/purge/action', 'purge'),
  // keys
  'key.create': op('keys', 'keys/create/action', 'create'),
  'key.import': op('keys', 'keys/import/action', 'import'),
  'key.get': op('keys', 'keys/read', 'get'),
  'key.update': op('keys', 'keys/update/action', 'update'),
  'key.delete': op('keys', 'keys/delete', 'delete'),
  'key.list': op('keys', 'keys/read', 'list', false),
  'key.versions': op('keys', 'keys/read', 'list'),
  'key.backup': op('keys', 'keys/backup/action', 'backup'),
  'key.restore': op('keys', 'keys/restore/action', 'restore', false),
  'key.rotate': op('keys', 'keys/rotate/action', 'rotate'),
  'key.release': op('keys', 'keys/release/action', 'release'),
  'key.getRotationPolicy': op('keys', 'keyrotationpolicies/read', 'getrotationpolicy'),
  'key.setRotationPolicy': op('keys', 'keyrotationpolicies/write', 'setrotationpolicy'),
  'key.encrypt': op('keys', 'keys/encrypt/action', 'encrypt'),
  'key.decrypt': op('keys', 'keys/decrypt/action', 'decrypt'),
  'key.sign': op('keys', 'keys/sign/action', 'sign'),
  'key.verify': op('keys', 'keys/verify/action', 'verify'),
  'key.wrapKey': op('keys', 'keys/wrap/action', 'wrapkey'),
  'key.unwrapKey': op('keys', 'keys/unwrap/action', 'unwrapkey'),
  'key.deletedList': op('keys', 'keys/read', 'list', false),
  'key.deletedGet': op('keys', 'keys/read', 'get'),
  'key.recover': op('keys', 'keys/recover/action', 'recover'),
  'key.purge': op('keys', 'keys/purge/action', 'purge'),
  // certificates
  'certificate.create': op('certificates', 'certificates/create/action', 'create'),
  'certificate.import': op('certificates', 'certificates/import/action', 'import'),
  'certificate.get': op('certificates', 'certificates/read', 'get'),
  'certificate.update': op('certificates', 'certificates/update/action', 'update'),
  'certificate.delete': op('certificates', 'certificates/delete', 'delete'),
  'certificate.list': op('certificates', 'certificates/read', 'list', false),
  'certificate.versions': op('certificates', 'certificates/read', 'list'),
  'certificate.getPolicy': op('certificates', 'certificates/read', 'get'),
  'certificate.updatePolicy': op('certificates', 'certificates/update/action', 'update'),
  'certificate.getPending': op('certificates', 'certificates/read', 'get'),
  'certificate.updatePending': op('certificates', 'certificates/update/action', 'update'),
  'certificate.deletePending': op('certificates', 'certificates/delete', 'delete'),
  'certificate.merge': op('certificates', 'certificates/create/action', 'create'),
  'certificate.backup': op('certificates', 'certificates/backup/action', 'backup'),
  'certificate.restore': op('certificates', 'certificates/restore/action', 'restore', false),
  'certificate.deletedList': op('certificates', 'certificates/read', 'list', false),
  'certificate.deletedGet': op('certificates', 'certificates/read', 'get'),
  'certificate.recover': op('certificates', 'certificates/recover/action', 'recover'),
  'certificate.purge': op('certificates', 'certificates/purge/action', 'purge'),
  // vault-wide certificate settings: contacts have one data action (write) for every operation
  'certificate.setContacts': op('certificates', 'certificatecontacts/write', 'managecontacts', false),
  'certificate.getContacts': op('certificates', 'certificatecontacts/write', 'managecontacts', false),
  'certificate.deleteContacts': op('certificates', 'certificatecontacts/write', 'managecontacts', false),
  'certificate.setIssuer': op('certificates', 'certificatecas/write', 'setissuers', false, 'manageissuers'),
  'certificate.updateIssuer': op('certificates', 'certificatecas/write', 'setissuers', false, 'manageissuers'),
  'certificate.getIssuer': op('certificates', 'certificatecas/read', 'getissuers', false, 'manageissuers'),
  'certificate.deleteIssuer': op('certificates', 'certificatecas/delete', 'deleteissuers', false, 'manageissuers'),
  'certificate.listIssuers': op('certificates', 'certificatecas/read', 'listissuers', false, 'manageissuers'),
  // random bytes: Key Vault names no vault permission for it; Mimic asks for `rng/action` (as
  // Managed HSM's `managedHsm/rng/action`) under RBAC and the keys `get` permission under policies
  'key.randomBytes': op('keys', 'rng/action', 'get', false),
} as const satisfies Record<string, OperationSpec>;

export type OperationId = keyof typeof OPERATIONS;


export const POLICY_CATEGORY: Record<Collection, PolicyCategory> = { secrets: 'secrets', keys: 'keys', certificates: 'certificates' };
