// Maps a data-plane request (method + path) to its operation and path parameters. Paths follow
// the REST API: /secrets, /secrets/{name}[/{version}], /secrets/{name}/versions|backup,
// /secrets/restore, /deletedsecrets[/{name}[/recover]], and the same shapes for keys (plus
// create, rotate, rotationpolicy and the cryptography operations) and certificates (plus
// create, import, policy, pending[/merge]). The SDK's empty version makes `/keys/{n}//sign`,
// which the request plumbing collapses to `/keys/{n}/sign`.
import { badParameter, KvError } from './errors.js';
import type { OperationId } from './operations.js';

export interface Route {
  op: OperationId;
  name: string;
  version?: string;
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;

type MethodMap = Partial<Record<string, OperationId>>;

const COLLECTIONS: Record<string, { prefix: 'secret' | 'key' | 'certificate' }> = {
  secrets: { prefix: 'secret' },
  keys: { prefix: 'key' },
  certificates: { prefix: 'certificate' },
};

/** What a key can do, on its latest version (`/keys/{name}/{op}`) or a given one (`/keys/{name}/{version}/{op}`). */
const KEY_OPERATIONS: Record<string, MethodMap> = {
  encrypt: { POST: 'key.encrypt' },
  decrypt: { POST: 'key.decrypt' },
  sign: { POST: 'key.sign' },
  verify: { POST: 'key.verify' },
  wrapkey: { POST: 'key.wrapKey' },
  unwrapkey: { POST: 'key.unwrapKey' },
  release: { POST: 'key.release' },
};

/** Sub-resources of one item (`/{coll}/{name}/{word}`), per collection. */
const ITEM_ACTIONS: Record<string, Record<string, MethodMap>> = {
  secrets: { versions: { GET: 'secret.versions' }, backup: { POST: 'secret.backup' } },
  keys: {
    versions: { GET: 'key.versions' },
    backup: { POST: 'key.backup' },
    create: { POST: 'key.create' },
    rotate: { POST: 'key.rotate' },
    rotationpolicy: { GET: 'key.getRotationPolicy', PUT: 'key.setRotationPolicy' },
    ...KEY_OPERATIONS,
  },
  certificates: {
    versions: { GET: 'certificate.versions' },
    backup: { POST: 'certificate.backup' },
    create: { POST: 'certificate.create' },
    import: { POST: 'certificate.import' },
    policy: { GET: 'certificate.getPolicy', PATCH: 'certificate.updatePolicy' },
    pending: { GET: 'certificate.getPending', PATCH: 'certificate.updatePending', DELETE: 'certificate.deletePending' },
  },
};

/** Operations on a specific version (`/{coll}/{name}/{version}/{word}`). */
const VERSION_ACTIONS: Record<string, Record<string, MethodMap>> = {
  keys: KEY_OPERATIONS,
  certificates: {},
  secrets: {},
};

function pick(map: MethodMap | undefined, method: string, path: string): OperationId {
  if (!map) throw new KvError(404, 'NotFound', `The path '${path}' is not a Key Vault operation.`);
  const op = map[method];
  if (!op) throw new KvError(405, 'MethodNotAllowed', `The method '${method}' is not supported for '${path}'.`);
  return op;
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw badParameter(`The request URI contains an invalid name: ${name}`);
  return name;
}

/** `/certificates/contacts` and `/certificates/issuers[/{name}]`: vault-wide settings, not certificates. */
function certificateSettingsRoute(method: string, path: string, segs: string[]): Route | undefined {
  const second = segs[1]!.toLowerCase();
  if (second === 'contacts' && segs.length === 2) {
    return { op: pick({ PUT: 'certificate.setContacts', GET: 'certificate.getContacts', DELETE: 'certificate.deleteContacts' }, method, path), name: '' };
  }
  if (second !== 'issuers') return undefined;
  if (segs.length === 2) return { op: pick({ GET: 'certificate.listIssuers' }, method, path), name: '' };
  if (segs.length === 3) {
    const op = pick({ PUT: 'certificate.setIssuer', PATCH: 'certificate.updateIssuer', GET: 'certificate.getIssuer', DELETE: 'certificate.deleteIssuer' }, method, path);
    return { op, name: checkName(segs[2]!) };
  }
  return { op: pick(undefined, method, path), name: '' };
}

export function resolveRoute(method: string, path: string, segs: string[]): Route {
  const first = segs[0]?.toLowerCase() ?? '';
  if (first === 'rng' && segs.length === 1) return { op: pick({ POST: 'key.randomBytes' }, method, path), name: '' };
  const deleted = first.startsWith('deleted') && COLLECTIONS[first.slice(7)] !== undefined;
  const collName = deleted ? first.slice(7) : first;
  const coll = COLLECTIONS[collName];
  if (!coll) throw new KvError(404, 'NotFound', `The path '${path}' is not a Key Vault operation.`);
  const p = coll.prefix;
  const n = segs.length;

  if (deleted) {
    if (n === 1) return { op: pick({ GET: `${p}.deletedList` as OperationId }, method, path), name: '' };
    const name = checkName(segs[1]!);
    if (n === 2) return { op: pick({ GET: `${p}.deletedGet` as OperationId, DELETE: `${p}.purge` as OperationId }, method, path), name };
    if (n === 3 && segs[2]!.toLowerCase() === 'recover') return { op: pick({ POST: `${p}.recover` as OperationId }, method, path), name };
    return { op: pick(undefined, method, path), name };
  }

  if (n === 1) return { op: pick({ GET: `${p}.list` as OperationId }, method, path), name: '' };
  if (n === 2 && segs[1]!.toLowerCase() === 'restore' && method === 'POST') return { op: `${p}.restore` as OperationId, name: '' };
  if (collName === 'certificates') {
    const settings = certificateSettingsRoute(method, path, segs);
    if (settings) return settings;
  }
  const name = checkName(segs[1]!);
  if (n === 2) {
    const item: MethodMap =
      collName === 'secrets'
        ? { PUT: 'secret.set', GET: 'secret.get', PATCH: 'secret.update', DELETE: 'secret.delete' }
        : collName === 'keys'
          ? { PUT: 'key.import', GET: 'key.get', PATCH: 'key.update', DELETE: 'key.delete' }
          : { GET: 'certificate.get', PATCH: 'certificate.update', DELETE: 'certificate.delete' };
    return { op: pick(item, method, path), name };
  }
  const third = segs[2]!;
  const action = ITEM_ACTIONS[collName]![third.toLowerCase()];
  if (n === 3 && action) return { op: pick(action, method, path), name };
  if (n === 4 && collName === 'certificates' && third.toLowerCase() === 'pending' && segs[3]!.toLowerCase() === 'merge') {
    return { op: pick({ POST: 'certificate.merge' }, method, path), name };
  }
  if (n === 3) {
    const versioned: MethodMap = { GET: `${p}.get` as OperationId, PATCH: `${p}.update` as OperationId };
    return { op: pick(versioned, method, path), name, version: third };
  }
  if (n === 4) return { op: pick(VERSION_ACTIONS[collName]![segs[3]!.toLowerCase()], method, path), name, version: third };
  return { op: pick(undefined, method, path), name };
}
