// The gate in front of the emulator: one HTTPS listener per storage service. Every request
// is admitted the way Azure Storage admits it before the emulator sees it:
//  - a bearer token is fully verified (RS256 signature by this tenant's keys, issuer,
//    audience of Storage or this account's endpoint, lifetime), the operation is mapped to
//    its RBAC permission and the RBAC engine decides at the container/queue/table scope;
//  - Shared Key and account SAS go to the emulator, which checks them against the account
//    keys (refused when the account disallows key access); a user delegation SAS is also
//    held to its delegator's RBAC permissions;
//  - anything else is anonymous: refused with Storage's challenge unless the account allows
//    public blob access.
// Admitted bearer requests reach the emulator on this same socket with an internal token
// naming the caller (the emulator only checks a token's shape).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IncomingMessage as Message } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AuthzEngine } from '../../authz/index.js';
import type { UsageSink } from '../../advisor/usage.js';
import type { PrincipalState, TokenService } from '../../sts/tokens.js';
import { recordGonePrincipalAccess, type AuditLog } from '../../arm/authorization/audit.js';
import { TokenError, type TokenProblem } from '../../sts/jwt.js';
import type { StorageAccount, StorageAccounts } from './accounts.js';
import type { AzuriteBackend, RequestListener, StorageService } from './azurite.js';
import { verifySharedKey } from './sharedKey.js';
import {
  authenticationFailed,
  authorizationFailure,
  invalidAuthentication,
  invalidUri,
  keyBasedNotPermitted,
  noAuthentication,
  permissionMismatch,
  publicAccessNotPermitted,
  resourceNotFound,
  sendStorageError,
  serverBusy,
  StorageError,
  STORAGE_AUDIENCE,
} from './errors.js';
import { isDataAction, type AccessCheck, type Operation, type Target, type MirrorKind } from './operation.js';
import { classifyBlob, classifyBlobBatch, blobNeedsBody } from './blobOperations.js';
import { classifyQueue } from './queueOperations.js';
import { classifyTable, tableNeedsBody } from './tableOperations.js';
import { tagAttributes, ATTR } from './attributes.js';
import type { EmulatorCalls } from './emulatorCalls.js';
import type { AttributeValue } from '../../authz/index.js';
import type { FaultInjector } from '../../server/faults.js';
import type { AzureThrottle } from '../../server/throttle.js';

/** Largest body the gate reads itself (table batches, blob batches, Create Table). */
const MAX_INSPECTED_BODY = 4 * 1024 * 1024;
const INTERNAL_TOKEN_LIFETIME = 10 * 365 * 86_400;
const INTERNAL_TOKEN_CACHE = 10_000;

const TOKEN_DETAIL: Record<TokenProblem, string> = {
  malformed: 'The access token is malformed.',
  algorithm: 'Signature validation failed. The token signing algorithm is not accepted.',
  unknownKey: 'Signature validation failed. The token was signed by a key this tenant does not publish.',
  signature: 'Signature validation failed. The token signature is invalid.',
  issuer: 'Issuer validation failed. Issuer did not match.',
  audience: 'Audience validation failed. Audience did not match.',
  expired: 'Lifetime validation failed. The token is expired.',
  notYetValid: 'Lifetime validation failed. The token is not yet valid.',
  principalGone: 'The principal of the access token has been deleted or disabled.',
};

export interface MirrorEvent {
  account: StorageAccount;
  kind: MirrorKind;
  name: string;
  action: 'create' | 'delete';
  /** The principal that made the change (undefined for key and service SAS requests). */
  principalId?: string;
}

export interface GateOptions {
  service: StorageService;
  accounts: StorageAccounts;
  backend: AzuriteBackend;
  emulator: EmulatorCalls;
  tokens: TokenService;
  authz: AuthzEngine;
  /** Where each decision is recorded for the access advisor. */
  usage: UsageSink;
  /** Where decisions on tokens of deleted or disabled principals are noted. */
  audit?: AuditLog;
  tenantId: string;
  /** Token audiences this service accepts for an account. */
  audiences(account: StorageAccount): ReadonlySet<string>;
  /** Called after a data-plane create/delete of a container, queue or table succeeded. */
  onMirror(event: MirrorEvent): void;
  /** Storage's scalability targets (`--throttle azure`). */
  throttle?: AzureThrottle;
  /** Transient faults on request (`mimic fault add --service blob|queue|table`). */
  faults?: FaultInjector;
}

export class StorageGate {
  private readonly service: StorageService;
  private readonly hostPattern: RegExp;
  private readonly internalTokens = new Map<string, string>();

  constructor(private readonly o: GateOptions) {
    this.service = o.service;
    this.hostPattern = new RegExp(`^([a-z0-9]+)\\.${o.service}\\.core\\.windows\\.net$`);
  }

  /** Node request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.process(req, res).catch((err: unknown) => {
      if (err instanceof StorageError) return this.fail(req, res, err);
      console.error('mimic: storage gate error on', req.method, req.url, err);
      if (!res.headersSent) this.fail(req, res, new StorageError(500, 'InternalError', 'Server encountered an internal error. Please try again after some time.'));
      else res.destroy();
    });
  };

  private fail(req: IncomingMessage, res: ServerResponse, err: StorageError): void {
    sendStorageError(req, res, this.service, err, this.o.tenantId);
  }

  private async process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = this.parse(req);
    const { account } = target;
    const auth = req.headers.authorization;
    /** Who RBAC judges: the bearer token's principal or a user delegation SAS's delegator. */
    let principalId: string | undefined;
    let tenantId = this.o.tenantId;
    let gone: { state: PrincipalState; appId: string } | undefined;
    if (auth !== undefined) {
      if (auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
        const claims = this.verify(auth.slice(7).trim(), account);
        principalId = claims.oid;
        tenantId = claims.tid ?? tenantId;
        if (claims.principalState) gone = { state: claims.principalState, appId: claims.appid };
      } else if (auth.startsWith('SharedKey ')) {
        if (!account.allowSharedKeyAccess) throw keyBasedNotPermitted();
        this.checkSharedKey(req, target, auth);
      } else if (auth.startsWith('SharedKeyLite ')) {
        // The emulator checks the Lite variant itself.
        if (!account.allowSharedKeyAccess) throw keyBasedNotPermitted();
      } else {
        throw invalidAuthentication('The authorization scheme is not supported; use Bearer or SharedKey.');
      }
    } else if (target.query.has('sig')) {
      const delegator = target.query.get('skoid');
      // Service and account SAS are signed with an account key.
      if (delegator) principalId = delegator;
      else if (!account.allowSharedKeyAccess) throw keyBasedNotPermitted();
    } else if (req.method === 'OPTIONS' || (this.service === 'blob' && account.allowBlobPublicAccess)) {
      // CORS preflight, or anonymous access the emulator judges per container.
      return this.forward(req, res, undefined);
    } else {
      throw noAuthentication();
    }

    let body: Buffer | undefined;
    if ((this.service === 'table' && tableNeedsBody(target)) || (this.service === 'blob' && blobNeedsBody(target))) body = await readBody(req);
    const op = this.classify(target, body);
    if (this.o.throttle) {
      const over = this.o.throttle.storage(account.name, this.service, partitionOf(target, op));
      if (over) throw serverBusy(over);
    }
    if (this.o.faults?.active && this.injectFault(req, res, op)) return;
    if (principalId !== undefined) {
      if (!op.check) {
        if (op.name === 'Unknown') throw authorizationFailure();
        throw permissionMismatch();
      }
      for (const check of [op.check, ...(op.extra ?? [])]) {
        const allowed = await this.admits(principalId, check, op, account);
        if (gone) recordGonePrincipalAccess(this.o.audit, { caller: { objectId: principalId, appId: gone.appId }, principalState: gone.state, action: check.grants[0]?.actions[0] ?? op.name, scope: check.scope, allowed });
        if (!allowed) throw permissionMismatch();
      }
    }
    if ((op.name === 'CreateContainer' || op.name === 'SetContainerACL') && !account.allowBlobPublicAccess && req.headers['x-ms-blob-public-access']) {
      throw publicAccessNotPermitted();
    }
    if (op.mirror) {
      const mirror = op.mirror;
      res.once('finish', () => {
        if (mirror.statuses.includes(res.statusCode)) this.o.onMirror({ account, kind: mirror.kind, name: mirror.name, action: mirror.action, principalId });
      });
    }
    if (op.name === 'GetUserDelegationKey') {
      // The emulator answers this one without Storage's standard response headers.
      res.setHeader('x-ms-request-id', randomUUID());
      res.setHeader('x-ms-version', String(req.headers['x-ms-version'] ?? UDK_VERSION));
    }
    // Key and SAS requests keep their own credentials; bearer requests carry the internal token.
    const bearer = auth !== undefined && principalId !== undefined;
    return this.forward(body ? replay(req, body) : req, res, bearer ? this.internalToken(principalId, tenantId) : undefined);
  }

  /** Answers an injected fault in Storage's shape (503 ServerBusy, 500 InternalError); true when one was. */
  private injectFault(req: IncomingMessage, res: ServerResponse, op: Operation): boolean {
    return this.o.faults!.strike(this.service, [op.name], res, (status, retryAfter) => {
      if (status === 500) this.fail(req, res, new StorageError(500, 'InternalError', 'Server encountered an internal error. Please try again after some time.', undefined, retryAfter));
      else this.fail(req, res, new StorageError(status, 'ServerBusy', 'The server is busy.', undefined, retryAfter));
    });
  }


  private parse(req: IncomingMessage): Target & { account: StorageAccount } {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    let path: string;
    try {
      path = rawPath.includes('%') ? decodeURIComponent(rawPath) : rawPath;
    } catch {
      throw invalidUri();
    }
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const colon = hostHeader.lastIndexOf(':');
    const hostname = colon > 0 && !hostHeader.endsWith(']') ? hostHeader.slice(0, colon) : hostHeader;
    const parts = path.split('/');
    // parts[0] is the empty string before the leading slash.
    let accountName: string | undefined;
    let i = 1;
    const vhost = this.hostPattern.exec(hostname);
    const pathStyle = !vhost;
    if (vhost) accountName = vhost[1];
    else if (hostname.endsWith('.core.windows.net')) throw invalidUri();
    else accountName = parts[i++];
    const account = accountName ? this.o.accounts.get(accountName) : undefined;
    if (!account) throw resourceNotFound();
    const first = parts[i];
    const rest = parts.length > i + 1 ? parts.slice(i + 1).join('/') : undefined;
    return { service: this.service, account, pathStyle, method: req.method ?? 'GET', first, rest, query, headers: req.headers };
  }

  /** Shared Key is checked here so a wrong signature gets Storage's 403 AuthenticationFailed. */
  private checkSharedKey(req: IncomingMessage, target: Target, authorization: string): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const keys = this.o.accounts.keysOf(target.account).map((k) => k.bytes);
    const r = verifySharedKey(this.service, target.account.name, keys, { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), rawQuery: q < 0 ? '' : url.slice(q + 1), headers: req.headers }, authorization);
    if (r.ok) return;
    throw r.reason === 'account'
      ? authenticationFailed(`The account named in the Authorization header is not '${target.account.name}'.`)
      : authenticationFailed(`The MAC signature '${r.signed}' in the request matches no computed signature. The string to sign was '${r.stringToSign}'.`);
  }

  private verify(token: string, account: StorageAccount): { oid: string; tid?: string; appid: string; principalState?: PrincipalState } {
    let claims;
    try {
      claims = this.o.tokens.verify(token, this.o.audiences(account));
    } catch (err) {
      if (err instanceof TokenError) throw invalidAuthentication(TOKEN_DETAIL[err.problem]);
      throw err;
    }
    if (typeof claims.oid !== 'string' || claims.oid.length === 0) throw invalidAuthentication('The access token names no principal (oid).');
    const principalState = this.o.tokens.principalState(claims);
    return { oid: claims.oid, appid: String(claims.appid ?? ''), ...(typeof claims.tid === 'string' ? { tid: claims.tid } : {}), ...(principalState ? { principalState } : {}) };
  }

  private classify(t: Target, body: Buffer | undefined): Operation {
    switch (this.service) {
      case 'blob':
        return body ? classifyBlobBatch(t, body) : classifyBlob(t);
      case 'queue':
        return classifyQueue(t);
      case 'table':
        return classifyTable(t, body);
    }
  }

  /** True when one of the check's alternatives is fully granted to the principal. */
  private async admits(principalId: string, check: AccessCheck, op: Operation, account: StorageAccount): Promise<boolean> {
    let tagsLoaded = false;
    // The usage record gets the outcome, not every alternative tried: the granted actions, or
    // the first refused action of the first alternative.
    let refused: string | undefined;
    for (;;) {
      let conditionOnTags = false;
      for (const grant of check.grants) {
        let granted = true;
        const grantedBy: (string | undefined)[] = [];
        for (const action of grant.actions) {
          const d = this.o.authz.decide({
            principalId,
            action,
            isDataAction: isDataAction(action),
            scope: check.scope,
            attributes: check.attributes,
            ...(check.subOperation ? { subOperation: check.subOperation } : {}),
          });
          if (!d.allowed) {
            granted = false;
            refused ??= action;
            if (d.reason === 'ConditionNotMet' && d.assignment?.condition?.includes(`${ATTR.tags}`)) conditionOnTags = true;
            break;
          }
          grantedBy.push(d.assignment?.id);
        }
        if (!granted) continue;
        if (grant.onlyIfNew && op.blob && (await this.o.emulator.blobExists(account, op.blob))) continue;
        grant.actions.forEach((action, i) => this.o.usage.note(principalId, action, isDataAction(action), check.scope, true, grantedBy[i]));
        return true;
      }
      // A condition on the blob's index tags can only be judged once the tags are known.
      if (!conditionOnTags || tagsLoaded || !op.blob) {
        if (refused !== undefined) this.o.usage.note(principalId, refused, isDataAction(refused), check.scope, false);
        return false;
      }
      const tags = await this.o.emulator.blobTags(account, op.blob);
      if (!tags) return false;
      tagAttributes('Resource', tags, check.attributes as Record<string, AttributeValue>);
      tagsLoaded = true;
    }
  }

  /** An unsigned token in the shape the emulator's bearer check wants, naming the caller. */
  private internalToken(oid: string | undefined, tid: string): string {
    const key = `${oid ?? ''}|${tid}`;
    let t = this.internalTokens.get(key);
    if (t === undefined) {
      const now = Math.floor(Date.now() / 1000);
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      t = `Bearer ${enc({ alg: 'none', typ: 'JWT' })}.${enc({ aud: STORAGE_AUDIENCE, iss: `https://sts.windows.net/${tid}/`, iat: now - 300, nbf: now - 300, exp: now + INTERNAL_TOKEN_LIFETIME, oid, tid })}.internal`;
      if (this.internalTokens.size >= INTERNAL_TOKEN_CACHE) this.internalTokens.clear();
      this.internalTokens.set(key, t);
    }
    return t;
  }

  private forward(req: IncomingMessage, res: ServerResponse, authorization: string | undefined): void | Promise<void> {
    if (authorization !== undefined) req.headers.authorization = authorization;
    const listener = this.o.backend.listener(this.service);
    if (listener) return listener(req, res);
    return this.o.backend.start().then(() => (this.o.backend.listener(this.service) as RequestListener)(req, res));
  }
}

/**
 * The partition a request's scalability target applies to: one blob (500 requests/s), one queue's
 * messages (2,000/s), one table partition when the path names its PartitionKey (2,000 entities/s).
 */
function partitionOf(t: Target, op: Operation): string | undefined {
  switch (t.service) {
    case 'blob':
      return op.blob ? `${op.blob.container}/${op.blob.name}` : undefined;
    case 'queue':
      return t.first !== undefined && t.rest?.toLowerCase().startsWith('messages') ? t.first : undefined;
    case 'table': {
      const m = t.first === undefined ? null : /^([^(]+)\(PartitionKey='((?:[^']|'')*)'/.exec(t.first);
      return m ? `${m[1]}/${m[2]}` : undefined;
    }
  }
}

/** The service version named when the request names none (User Delegation Keys need 2018-11-09 or later). */
const UDK_VERSION = '2025-01-05';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_INSPECTED_BODY) {
      reject(new StorageError(413, 'RequestBodyTooLarge', 'The request body is too large and exceeds the maximum permissible limit.'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_INSPECTED_BODY) {
        req.destroy();
        reject(new StorageError(413, 'RequestBodyTooLarge', 'The request body is too large and exceeds the maximum permissible limit.'));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A copy of a request whose body the gate has already read, for the emulator to read again. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new Message(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  // Marks the message as fully received, so ending it does not count as an abort (which
  // would destroy the shared socket).
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}
