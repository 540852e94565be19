// Resource Manager errors: `{"error":{"code","message","target"?,"details"?}}` with Azure's codes.
import type { ServerResponse } from 'node:http';
import { sendJson } from '../server/http.js';

export class ArmError extends Error {
  /** Nested errors (e.g. a template validation's per-expression problems). */
  details?: unknown[];

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ArmError';
  }
}

export function sendArmError(res: ServerResponse, err: ArmError): void {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.target) error.target = err.target;
  if (err.details && err.details.length > 0) error.details = err.details;
  sendJson(res, err.status, { error }, { 'x-ms-failure-cause': 'gateway', ...err.headers });
}

export const notFound = (type: string, name: string, rg?: string) =>
  new ArmError(404, 'ResourceNotFound', `The Resource '${type}/${name}'${rg ? ` under resource group '${rg}'` : ''} was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);

export const resourceGroupNotFound = (rg: string) => new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);

/** A write in (or of) a resource group whose deletion has begun: Azure's words. */
export const resourceGroupBeingDeleted = (rg: string) => new ArmError(409, 'ResourceGroupBeingDeleted', `The resource group '${rg}' is in deprovisioning state and cannot perform this operation.`);

export const invalidContent = (message: string) => new ArmError(400, 'InvalidRequestContent', message);
