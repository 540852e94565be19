// Microsoft.KeyVault/vaults/keys (and keys/versions) through the Resource Manager, as ARM
// templates and `@azure/arm-keyvault` use them. A PUT creates the first version of the key on
// the vault's data plane when the key does not exist, and otherwise changes nothing (Azure's
// "create if not exist"); it answers 200. Reads come from the data plane, so keys created or
// rotated there show too. Authorized by Resource Manager RBAC (`.../vaults/keys/write|read`)
// as in Azure, whatever the vault's data-plane permission model.
import { ArmError } from '../../arm/errors.js';
import { ITEM_NAME as NAME, attributeTime as epoch, badRequest as bad } from './armItemInput.js';
import { parseResourceId } from '../../arm/ids.js';
import type { ExtensionContext } from '../../arm/router.js';
import type { ResourceTypeHooks } from '../../arm/resourceTypes.js';
import type { ArmService } from '../../arm/service.js';
import type { StoredResource } from '../../arm/model.js';
import type { Sealer } from '../../crypto/masterKey.js';
import { sendJson } from '../../server/http.js';
import { KvError } from './errors.js';
import { newKeyVersion, parseKeySpec } from './keys.js';
import { KV_OBJECTS, objectKey, type ObjectRecord, type VersionRecord } from './records.js';
import type { VaultData } from './vaultData.js';
import { recoveryLevelOf, vaultHost, type VaultProperties } from './vaultModel.js';

export const VAULT_KEY_TYPE = 'microsoft.keyvault/vaults/keys';

/** The Key resource's properties from the data plane's object and version records. */
function keyProperties(vault: StoredResource, obj: ObjectRecord, rec: VersionRecord): Record<string, unknown> {
  const vp = (vault.properties ?? {}) as Partial<VaultProperties>;
  const k = rec.key!;
  const base = `https://${vaultHost(vault.name)}/keys/${obj.name}`;
  const a = rec.attributes;
  const attributes: Record<string, unknown> = {
    enabled: a.enabled,
    ...(a.nbf !== undefined ? { nbf: a.nbf } : {}),
    ...(a.exp !== undefined ? { exp: a.exp } : {}),
    created: a.created,
    updated: a.updated,
    recoveryLevel: recoveryLevelOf(vp.softDeleteRetentionInDays ?? 90, vp.enablePurgeProtection === true),
    exportable: a.exportable ?? false,
  };
  const props: Record<string, unknown> = { attributes, kty: k.kty, keyOps: k.keyOps };
  if (k.n) props.keySize = Buffer.from(k.n, 'base64url').length * 8;
  if (k.crv) props.curveName = k.crv;
  props.keyUri = base;
  props.keyUriWithVersion = `${base}/${rec.version}`;
  return props;
}

function keyResource(vault: StoredResource, obj: ObjectRecord, rec: VersionRecord, version?: string): Record<string, unknown> {
  const id = `${vault.id}/keys/${obj.name}${version ? `/versions/${version}` : ''}`;
  return {
    id,
    name: version ?? obj.name,
    type: version ? 'Microsoft.KeyVault/vaults/keys/versions' : 'Microsoft.KeyVault/vaults/keys',
    location: vault.location,
    tags: rec.tags ?? {},
    properties: keyProperties(vault, obj, rec),
  };
}

/** The ARM request body (camelCase KeyProperties) in the data plane's wire names. */
function dataPlaneRequest(props: Record<string, unknown>): Record<string, unknown> {
  return { kty: props.kty ?? 'RSA', key_size: props.keySize, crv: props.curveName, key_ops: props.keyOps, public_exponent: props.publicExponent };
}

export function vaultKeyHooks(data: VaultData, sealer: Sealer): ResourceTypeHooks {
  return {
    type: VAULT_KEY_TYPE,
    createdStatus: 200,
    validateName(name) {
      if (!NAME.test(name)) throw bad(`The key name '${name}' is invalid: use 1 to 127 letters, digits and hyphens.`);
    },
    async beforeWrite(doc, ctx) {
      const vaultDoc = ctx.parent!;
      const vault = parseResourceId(doc.id)!.names[0]!.toLowerCase();
      const ref = { vault, coll: 'keys' as const, name: doc.name };
      const current = await data.object(ref);
      if (current?.value.deleted) throw new ArmError(409, 'Conflict', `Key ${doc.name} is deleted but recoverable in vault '${vault}'; recover or purge it first.`);
      let obj = current?.value;
      let rec = obj ? await data.version(ref, obj.latest) : undefined;
      const ops = [];
      if (!obj || !rec) {
        const props = (ctx.body.properties ?? {}) as Record<string, unknown>;
        if (typeof props !== 'object' || Array.isArray(props)) throw bad("The property 'properties' must be an object.");
        if (props.release_policy !== undefined || props.releasePolicy !== undefined) throw bad('Key release policies (secure key release) are not supported by Mimic.');
        const a = (props.attributes ?? {}) as Record<string, unknown>;
        if (a.exportable === true) throw bad('An exportable key needs a release policy.');
        let spec;
        try {
          spec = parseKeySpec(dataPlaneRequest(props), { premium: String(((vaultDoc.properties ?? {}) as Partial<VaultProperties>).sku?.name).toLowerCase() === 'premium' });
        } catch (err) {
          if (err instanceof KvError) throw bad(err.message);
          throw err;
        }
        const nbf = epoch(a.nbf, 'nbf');
        const exp = epoch(a.exp, 'exp');
        rec = await newKeyVersion(sealer, vault, doc.name, spec, { enabled: typeof a.enabled === 'boolean' ? a.enabled : true, ...(nbf !== undefined ? { nbf } : {}), ...(exp !== undefined ? { exp } : {}) }, doc.tags);
        obj = { name: doc.name, latest: rec.version };
        ops.push(data.putVersionOp(ref, rec, { mustBeNew: true }), { op: 'put' as const, kind: KV_OBJECTS, key: objectKey(vault, 'keys', doc.name), value: obj, ifVersion: current?.version ?? 0 });
      } else if (obj.managed) {
        throw bad(`Key ${doc.name} belongs to a certificate.`);
      }
      doc.location = vaultDoc.location;
      doc.properties = keyProperties(vaultDoc, obj, rec);
      return ops;
    },
  };
}

/**
 * GET `vaults/{v}/keys`, `vaults/{v}/keys/{k}`, `vaults/{v}/keys/{k}/versions[/{ver}]` from the
 * data plane; declines every other path.
 */
export function vaultKeyReads(arm: ArmService, data: VaultData): (x: ExtensionContext) => Promise<void | false> {
  return async (x) => {
    const scope = x.scope.split('/').filter((s) => s);
    const rest = x.rest.map((s) => s.toLowerCase());
    if (x.req.method !== 'GET' || scope.length !== 4 || scope[2]!.toLowerCase() !== 'resourcegroups') return false;
    if (rest[0] !== 'vaults' || rest[2] !== 'keys' || rest.length < 3 || rest.length > 6 || (rest.length >= 5 && rest[4] !== 'versions')) return false;
    arm.requireSubscription(scope[1]!);
    const vaultId = `${x.scope}/providers/Microsoft.KeyVault/vaults/${x.rest[1]}`;
    const vaultDoc = (await arm.findResource(vaultId)) ?? (await arm.readResource(parseResourceId(vaultId)!));
    const vault = vaultDoc.name.toLowerCase();
    if (rest.length === 3) {
      arm.authorizer.check(x.caller, 'Microsoft.KeyVault/vaults/keys/read', vaultDoc.id);
      const value: Record<string, unknown>[] = [];
      for (const e of await data.objects(vault, 'keys')) {
        if (e.value.deleted) continue;
        const rec = await data.version({ vault, coll: 'keys', name: e.value.name }, e.value.latest);
        if (rec?.key) value.push(keyResource(vaultDoc, e.value, rec));
      }
      return sendJson(x.res, 200, { value });
    }
    const name = x.rest[3]!;
    const ref = { vault, coll: 'keys' as const, name };
    const keyId = `${vaultDoc.id}/keys/${name}`;
    arm.authorizer.check(x.caller, rest.length === 4 ? 'Microsoft.KeyVault/vaults/keys/read' : 'Microsoft.KeyVault/vaults/keys/versions/read', keyId);
    const obj = (await data.object(ref))?.value;
    if (!obj || obj.deleted) throw new ArmError(404, 'ResourceNotFound', `The key '${name}' was not found in vault '${vaultDoc.name}'.`);
    if (rest.length === 4) {
      const rec = await data.version(ref, obj.latest);
      if (!rec?.key) throw new ArmError(404, 'ResourceNotFound', `The key '${name}' was not found in vault '${vaultDoc.name}'.`);
      return sendJson(x.res, 200, keyResource(vaultDoc, obj, rec));
    }
    if (rest.length === 5) {
      const versions = (await data.versions(ref)).filter((r) => r.key).sort((a, b) => a.attributes.created - b.attributes.created);
      return sendJson(x.res, 200, { value: versions.map((r) => keyResource(vaultDoc, obj, r, r.version)) });
    }
    const rec = await data.version(ref, x.rest[5]!);
    if (!rec?.key) throw new ArmError(404, 'ResourceNotFound', `The version '${x.rest[5]}' of key '${name}' was not found.`);
    return sendJson(x.res, 200, keyResource(vaultDoc, obj, rec, rec.version));
  };
}
