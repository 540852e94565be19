// Microsoft.KeyVault/vaults/secrets through the Resource Manager (what ARM templates and Bicep
// use): a PUT with `properties.value` writes a new version of the vault's data-plane secret,
// authorized by Resource Manager RBAC (`.../vaults/secrets/write`) as in Azure, whatever the
// vault's data-plane permission model. The resource never returns the value; it records the
// version written (later data-plane changes do not show in it).
import { ArmError } from '../../arm/errors.js';
import { ITEM_NAME as NAME, attributeTime as epoch, badRequest as bad } from './armItemInput.js';
import { parseResourceId } from '../../arm/ids.js';
import type { ResourceTypeHooks } from '../../arm/resourceTypes.js';
import type { Sealer } from '../../crypto/masterKey.js';
import type { Op } from '../../store/types.js';
import { KV_OBJECTS, objectKey, type Attributes, type ObjectRecord, type VersionRecord } from './records.js';
import { MAX_SECRET_BYTES, sealSecret } from './secrets.js';
import { newVersionId, nowSeconds, type VaultData } from './vaultData.js';
import { vaultHost } from './vaultModel.js';

export const VAULT_SECRET_TYPE = 'microsoft.keyvault/vaults/secrets';

export function vaultSecretHooks(data: VaultData, sealer: Sealer): ResourceTypeHooks {
  return {
    type: VAULT_SECRET_TYPE,
    validateName(name) {
      if (!NAME.test(name)) throw bad(`The secret name '${name}' is invalid: use 1 to 127 letters, digits and hyphens.`);
    },
    async beforeWrite(doc, ctx) {
      const props = (ctx.body.properties ?? {}) as Record<string, unknown>;
      const value = props.value;
      if (value !== undefined && typeof value !== 'string') throw bad("The property 'properties.value' must be a string.");
      if (value === undefined && !ctx.previous) throw bad("The property 'properties.value' is required.");
      if (typeof value === 'string' && Buffer.byteLength(value) > MAX_SECRET_BYTES) throw bad(`A secret value can be at most ${MAX_SECRET_BYTES} bytes.`);
      if (props.contentType !== undefined && typeof props.contentType !== 'string') throw bad("The property 'properties.contentType' must be a string.");
      const a = (props.attributes ?? {}) as Record<string, unknown>;
      const previous = ctx.previous?.properties as { contentType?: string; attributes?: Attributes; secretUriWithVersion?: string } | undefined;
      const id = parseResourceId(doc.id)!;
      const vault = id.names[0]!.toLowerCase();
      const name = doc.name;
      const ref = { vault, coll: 'secrets' as const, name };
      const now = nowSeconds();
      const attributes: Attributes = {
        enabled: typeof a.enabled === 'boolean' ? a.enabled : (previous?.attributes?.enabled ?? true),
        created: previous?.attributes?.created ?? now,
        updated: now,
      };
      const nbf = 'nbf' in a ? epoch(a.nbf, 'nbf') : previous?.attributes?.nbf;
      const exp = 'exp' in a ? epoch(a.exp, 'exp') : previous?.attributes?.exp;
      if (nbf !== undefined) attributes.nbf = nbf;
      if (exp !== undefined) attributes.exp = exp;
      const contentType = typeof props.contentType === 'string' ? props.contentType : previous?.contentType;
      const base = `https://${vaultHost(vault)}/secrets/${name}`;
      let secretUriWithVersion = previous?.secretUriWithVersion;
      const ops: Op[] = [];
      if (typeof value === 'string') {
        const current = await data.object(ref);
        if (current?.value.deleted) throw new ArmError(409, 'Conflict', `Secret ${name} is deleted but recoverable in vault '${vault}'; recover or purge it first.`);
        if (current?.value.managed) throw bad(`Secret ${name} belongs to a certificate and cannot be set.`);
        const version = newVersionId();
        const rec: VersionRecord = { version, attributes: { ...attributes, created: now }, sealedValue: sealSecret(sealer, vault, name, version, value) };
        if (contentType !== undefined) rec.contentType = contentType;
        if (doc.tags) rec.tags = doc.tags;
        const obj: ObjectRecord = { ...(current?.value ?? {}), name: current?.value.name ?? name, latest: version };
        ops.push(data.putVersionOp(ref, rec, { mustBeNew: true }), { op: 'put', kind: KV_OBJECTS, key: objectKey(vault, 'secrets', name), value: obj, ifVersion: current?.version ?? 0 });
        secretUriWithVersion = `${base}/${version}`;
      }
      // Child resources of a vault carry its location, as in Azure.
      if (ctx.parent?.location) doc.location = ctx.parent.location;
      doc.properties = { ...(contentType !== undefined ? { contentType } : {}), attributes, secretUri: base, ...(secretUriWithVersion ? { secretUriWithVersion } : {}) };
      return ops;
    },
  };
}
