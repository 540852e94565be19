// Key Vault's error shape: `{"error":{"code","message","innererror"?:{"code"}}}`, plus the
// few codes the data plane uses often.
import type { ServerResponse } from 'node:http';
import { sendJson } from '../../server/http.js';

export class KvError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'KvError';
  }
}

export function sendKvError(res: ServerResponse, err: KvError, extraHeaders?: Record<string, string>): void {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.innerCode) error.innererror = { code: err.innerCode };
  sendJson(res, err.status, { error }, { ...extraHeaders, 'x-ms-error-code': err.code, ...err.headers });
}

export const badParameter = (message: string) => new KvError(400, 'BadParameter', message);

/** What the SDK and Azure call each collection's items in messages and codes. */
export const ITEM_LABEL = { secrets: 'Secret', keys: 'Key', certificates: 'Certificate' } as const;

export function itemNotFound(coll: keyof typeof ITEM_LABEL, name: string, version?: string): KvError {
  const label = ITEM_LABEL[coll];
  const what = version ? `${name}/${version}` : name;
  return new KvError(404, `${label}NotFound`, `A ${label.toLowerCase()} with (name/id) ${what} was not found in this key vault. A recently deleted ${label.toLowerCase()} may still be recoverable.`);
}

export function deletedNotFound(coll: keyof typeof ITEM_LABEL, name: string): KvError {
  const label = ITEM_LABEL[coll];
  return new KvError(404, `${label}NotFound`, `Deleted ${label} not found: ${name}`);
}

export function deletedButRecoverable(coll: keyof typeof ITEM_LABEL, name: string): KvError {
  const label = ITEM_LABEL[coll];
  return new KvError(409, 'Conflict', `${label} ${name} is in a deleted but recoverable state; its name cannot be reused until it is recovered or purged.`, 'ObjectIsDeletedButRecoverable');
}
