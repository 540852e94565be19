// Wire format of the managed-identity endpoints: the token response (seconds as strings, as
// IMDS and App Service send them) and the `{error, error_description}` error bodies, with
// App Service's own fields added where that service sends them.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ownedUtf8, sendJson } from '../../server/http.js';
import { unknownResourceMessage } from '../errors.js';
import type { ServedFlavour } from './flavours.js';
import type { IdentityFailure } from './issuer.js';
import type { CachedToken } from './tokenCache.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** The token response body; the time-independent parts are rendered once per cached token. */
export function tokenBody(entry: CachedToken, nowSeconds: number): string {
  const t = entry.token;
  const parts = (entry.rendered ??= [
    `{"access_token":"${t.accessToken}","client_id":"${entry.clientId}","expires_in":"`,
    '","expires_on":"' + t.expiresOn + '","ext_expires_in":"',
    '","not_before":"' + t.notBefore + '","resource":' + JSON.stringify(t.resource) + ',"token_type":"Bearer"}',
  ]);
  const left = String(Math.max(0, t.expiresOn - nowSeconds));
  return parts[0] + left + parts[1] + left + parts[2];
}

/** Sends the token response; its bytes are kept for the rest of the second (only `expires_in` moves). */
export function sendToken(res: ServerResponse, entry: CachedToken, nowSeconds: number): void {
  let bytes = entry.bytes;
  if (bytes === undefined || bytes.at !== nowSeconds) bytes = entry.bytes = { at: nowSeconds, body: ownedUtf8(tokenBody(entry, nowSeconds)) };
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': bytes.body.length });
  res.end(bytes.body);
}

/** App Service's 2017-09-01 response: `expires_on` as "MM/DD/YYYY HH:MM:SS +00:00", no expires_in. */
export function sendDatedToken(res: ServerResponse, entry: CachedToken): void {
  const t = entry.token;
  const d = new Date(t.expiresOn * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const expiresOn = `${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +00:00`;
  sendJson(res, 200, { access_token: t.accessToken, expires_on: expiresOn, resource: t.resource, token_type: 'Bearer', client_id: entry.clientId });
}

export class MiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Extra fields (Entra's error_codes, trace ids...) passed through as Azure does. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description);
  }
}

export function sendMiError(res: ServerResponse, flavour: ServedFlavour, err: MiError, headers?: Record<string, string>): void {
  const body: Record<string, unknown> = { error: err.error, error_description: err.description, ...err.extra };
  if (flavour === 'appService') {
    // App Service's endpoint answers {statusCode, message, correlationId}; the SDKs read either form.
    body.statusCode = err.status;
    body.message = err.description;
    body.correlationId ??= randomUUID();
  }
  sendJson(res, err.status, body, err.status === 405 ? { allow: flavour === 'cloudShell' ? 'POST' : 'GET', ...headers } : headers);
}

export const invalidRequest = (description: string) => new MiError(400, 'invalid_request', description);

/** Errors of the identity subsystem, in the words of the flavour's service. */
export function failureError(flavour: ServedFlavour, failure: IdentityFailure, tenantId: string): MiError {
  switch (failure.kind) {
    case 'unknownResource':
      return entraError(400, 'invalid_resource', 500011, unknownResourceMessage(failure.resource, tenantId));
    case 'disabled':
      return entraError(400, 'unauthorized_client', 7000112, `Application '${failure.appId}' is disabled.`);
    case 'multipleUserAssigned':
      if (flavour === 'appService') return invalidRequest('Unable to load the proper Managed Identity.');
      return invalidRequest('Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request');
    case 'noIdentity':
    case 'identityNotFound':
      if (flavour === 'appService') return invalidRequest('Unable to load the proper Managed Identity.');
      return invalidRequest('Identity not found');
  }
}

/** An error as Entra ID words it, passed through by the endpoint. */
function entraError(status: number, error: string, code: number, message: string): MiError {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return new MiError(status, error, `AADSTS${code}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`, {
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  });
}
