// Data-plane api-versions Key Vault answers to (the SDKs send `api%2Dversion=2025-07-01`;
// the request plumbing decodes the key).
import { badParameter } from './errors.js';

export const KEY_VAULT_DATA_API_VERSIONS: ReadonlySet<string> = new Set([
  '2015-06-01',
  '2016-10-01',
  '7.0',
  '7.0-preview',
  '7.1',
  '7.1-preview',
  '7.2',
  '7.2-preview',
  '7.3',
  '7.3-preview',
  '7.4',
  '7.4-preview.1',
  '7.5',
  '7.5-preview.1',
  '7.6',
  '7.6-preview.1',
  '7.6-preview.2',
  '2025-07-01',
]);

export const LATEST_DATA_API_VERSION = '2025-07-01';

/** The request's api-version, or a 400 as Key Vault answers a missing or unknown one. */
export function requireDataApiVersion(query: URLSearchParams): string {
  const v = query.get('api-version');
  if (!v) throw badParameter('The api-version query parameter is required.');
  if (!KEY_VAULT_DATA_API_VERSIONS.has(v)) {
    throw badParameter(`The specified version (${v}) is not recognized. The latest supported version is ${LATEST_DATA_API_VERSION}.`);
  }
  return v;
}
