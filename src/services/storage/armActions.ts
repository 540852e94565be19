// Resource Manager POST actions of Microsoft.Storage, served on the main origin ahead of the
// generic Resource Manager router (which has no POST actions): `listKeys`, `regenerateKey`
// and `checkNameAvailability`. Same authentication and authorization as every ARM call.
import type { ServerResponse } from 'node:http';
import type { OriginRoute } from '../../server/context.js';
import { sendJson, type Request } from '../../server/http.js';
import { authenticateArm } from '../../arm/auth.js';
import { ArmError, sendArmError } from '../../arm/errors.js';
import { keyOf } from '../../arm/ids.js';
import { API_VERSION_PATTERN } from '../../arm/providers.js';
import type { ArmService } from '../../arm/service.js';
import type { TokenService } from '../../sts/tokens.js';
import type { Directory } from '../../directory/directory.js';
import type { Sealer } from '../../crypto/masterKey.js';
import type { Store } from '../../store/types.js';
import { KEY_NAMES, keysOp, newAccountKeys, STORAGE_KEYS, type KeyName, type StorageAccounts, type StoredAccountKeys } from './accounts.js';
import { validateAccountName } from './armTypes.js';

const ACCOUNT_ACTION = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.storage\/storageaccounts\/([^/]+)\/(listkeys|regeneratekey)$/i;
const CHECK_NAME = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.storage\/checknameavailability$/i;

export interface StorageActionDeps {
  arm: ArmService;
  tokens: TokenService;
  directory: Directory;
  accounts: StorageAccounts;
  store: Store;
  sealer: Sealer;
}

export function storageActionsRoute(d: StorageActionDeps): OriginRoute {
  return {
    matches: (req) => req.method === 'POST' && (ACCOUNT_ACTION.test(req.path) || CHECK_NAME.test(req.path)),
    handle: async (req, res) => {
      try {
        await handle(d, req, res);
      } catch (err) {
        if (err instanceof ArmError) return sendArmError(res, err);
        throw err;
      }
    },
  };
}

async function handle(d: StorageActionDeps, req: Request, res: ServerResponse): Promise<void> {
  const caller = authenticateArm(req, d.tokens, d.directory);
  const apiVersion = req.query.get('api-version');
  if (!apiVersion) throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  if (!API_VERSION_PATTERN.test(apiVersion)) throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${apiVersion}' is invalid.`);

  const check = CHECK_NAME.exec(req.path);
  if (check) {
    d.arm.requireSubscription(check[1]!);
    d.arm.authorizer.check(caller, 'Microsoft.Storage/checknameavailability/read', `/subscriptions/${d.arm.tenant.subscriptionId}`);
    const body = await jsonBody(req);
    const name = typeof body.name === 'string' ? body.name : '';
    try {
      validateAccountName(name);
    } catch (err) {
      return sendJson(res, 200, { nameAvailable: false, reason: 'AccountNameInvalid', message: (err as Error).message });
    }
    if (d.accounts.get(name)) return sendJson(res, 200, { nameAvailable: false, reason: 'AlreadyExists', message: `The storage account named ${name} is already taken.` });
    return sendJson(res, 200, { nameAvailable: true });
  }

  const m = ACCOUNT_ACTION.exec(req.path)!;
  d.arm.requireSubscription(m[1]!);
  const id = `/subscriptions/${m[1]}/resourceGroups/${m[2]}/providers/Microsoft.Storage/storageAccounts/${m[3]}`;
  const doc = await d.arm.findResource(id);
  if (!doc) throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.Storage/storageAccounts/${m[3]}' under resource group '${m[2]}' was not found.`);
  const action = m[4]!.toLowerCase();
  const key = keyOf(doc.id);
  if (action === 'listkeys') {
    d.arm.authorizer.check(caller, 'Microsoft.Storage/storageAccounts/listkeys/action', doc.id);
    return sendKeys(d, res, doc.id);
  }
  d.arm.authorizer.check(caller, 'Microsoft.Storage/storageAccounts/regeneratekey/action', doc.id);
  const body = await jsonBody(req);
  const keyName = typeof body.keyName === 'string' ? body.keyName.toLowerCase() : '';
  if (!(KEY_NAMES as readonly string[]).includes(keyName)) throw new ArmError(400, 'InvalidValuesForRequestParameters', `'keyName' must be key1 or key2.`, 'keyName');
  const previous = await d.store.get<StoredAccountKeys>(STORAGE_KEYS, key);
  await d.store.apply([keysOp(key, newAccountKeys(d.sealer, key, doc.id, previous?.value, keyName as KeyName))]);
  return sendKeys(d, res, doc.id);
}

function sendKeys(d: StorageActionDeps, res: ServerResponse, accountId: string): void {
  const keys = d.accounts.keysOf(accountId).map((k) => ({ creationTime: k.creationTime, keyName: k.keyName, value: k.value, permissions: 'Full' }));
  sendJson(res, 200, { keys });
}

async function jsonBody(req: Request): Promise<Record<string, unknown>> {
  const raw = await req.body(64 * 1024);
  if (raw.length === 0) return {};
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch (err) {
    throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(err as Error).message}'.`);
  }
}
