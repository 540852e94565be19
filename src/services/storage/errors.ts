// Storage's error responses, as the SDKs parse them: Blob and Queue answer an XML <Error>
// body, Table an OData JSON error; both carry the code in `x-ms-error-code`. Authentication
// failures add Storage's bearer challenge, whose values are unquoted (the SDKs split the
// header on spaces and '=').
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StorageService } from './azurite.js';

export const STORAGE_AUDIENCE = 'https://storage.azure.com';

export class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra detail element for authentication failures. */
    readonly authenticationDetail?: string,
    /** Extra response headers (Retry-After of an injected fault). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

export const MESSAGES = {
  permissionMismatch: 'This request is not authorized to perform this operation using this permission.',
  authorizationFailure: 'This request is not authorized to perform this operation.',
  authenticationFailed: 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
  keyBasedNotPermitted: 'Key based authentication is not permitted on this storage account.',
  signatureMismatch: 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
  resourceNotFound: 'The specified resource does not exist.',
  invalidUri: 'The requested URI does not represent any resource on the server.',
} as const;

export const permissionMismatch = () => new StorageError(403, 'AuthorizationPermissionMismatch', MESSAGES.permissionMismatch);
export const authorizationFailure = () => new StorageError(403, 'AuthorizationFailure', MESSAGES.authorizationFailure);
export const noAuthentication = () => new StorageError(401, 'NoAuthenticationInformation', MESSAGES.authenticationFailed);
export const invalidAuthentication = (detail: string) => new StorageError(401, 'InvalidAuthenticationInfo', MESSAGES.authenticationFailed, detail);
export const authenticationFailed = (detail: string) => new StorageError(403, 'AuthenticationFailed', MESSAGES.signatureMismatch, detail);
export const keyBasedNotPermitted = () => new StorageError(403, 'KeyBasedAuthenticationNotPermitted', MESSAGES.keyBasedNotPermitted);
export const publicAccessNotPermitted = () => new StorageError(409, 'PublicAccessNotPermitted', 'Public access is not permitted on this storage account.');
export const resourceNotFound = () => new StorageError(404, 'ResourceNotFound', MESSAGES.resourceNotFound);
export const invalidUri = () => new StorageError(400, 'InvalidUri', MESSAGES.invalidUri);
/** Storage's throttling answer (it sends 503 ServerBusy, not 429), naming the target exceeded. */
export const serverBusy = (over: 'account' | 'partition', headers?: Record<string, string>) =>
  new StorageError(503, 'ServerBusy', over === 'account' ? 'Operations per second is over the account limit.' : 'The server is busy.', undefined, headers);

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function challengeHeader(tenantId: string): string {
  return `Bearer authorization_uri=https://login.microsoftonline.com/${tenantId}/oauth2/authorize resource_id=${STORAGE_AUDIENCE}`;
}

export function sendStorageError(req: IncomingMessage, res: ServerResponse, service: StorageService, err: StorageError, tenantId: string): void {
  const requestId = randomUUID();
  const message = `${err.message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`;
  let body: string;
  let contentType: string;
  if (service === 'table') {
    contentType = 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8';
    body = JSON.stringify({ 'odata.error': { code: err.code, message: { lang: 'en-US', value: message } } });
  } else {
    contentType = 'application/xml';
    body =
      `<?xml version="1.0" encoding="utf-8"?><Error><Code>${err.code}</Code><Message>${xmlEscape(message)}</Message>` +
      (err.authenticationDetail ? `<AuthenticationErrorDetail>${xmlEscape(err.authenticationDetail)}</AuthenticationErrorDetail>` : '') +
      '</Error>';
  }
  const headers: Record<string, string> = {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    'x-ms-request-id': requestId,
    'x-ms-error-code': err.code,
    'x-ms-version': headerOf(req, 'x-ms-version') ?? '2025-11-05',
    date: new Date().toUTCString(),
  };
  const clientRequestId = headerOf(req, 'x-ms-client-request-id');
  if (clientRequestId) headers['x-ms-client-request-id'] = clientRequestId;
  if (err.status === 401) headers['www-authenticate'] = challengeHeader(tenantId);
  if (err.headers) Object.assign(headers, err.headers);
  // The request body (if any) is not read: drain it so a keep-alive connection stays usable.
  req.resume();
  res.writeHead(err.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
