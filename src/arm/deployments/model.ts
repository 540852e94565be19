// What the deployments module stores: one document per deployment (its public view plus the
// template, for exportTemplate) and one per deployment operation (a resource the deployment
// touched). Kinds `deployments` and `deploymentOperations`, keyed by lower-cased ARM id.
import { randomBytes } from 'node:crypto';

export const DEPLOYMENTS = 'deployments';
export const DEPLOYMENT_OPERATIONS = 'deploymentOperations';
export const NAMESPACE = 'Microsoft.Resources';
export const DEPLOYMENT_TYPE = 'Microsoft.Resources/deployments';

export type ProvisioningState = 'Accepted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

export interface ErrorResponse {
  code: string;
  message: string;
  target?: string;
  details?: ErrorResponse[];
}

export interface DeploymentProperties {
  templateHash: string;
  parameters?: Record<string, unknown>;
  mode: 'Incremental' | 'Complete';
  provisioningState: ProvisioningState;
  timestamp: string;
  duration: string;
  correlationId: string;
  providers: Array<{ namespace: string; resourceTypes: Array<{ resourceType: string; locations: string[] }> }>;
  dependencies: Array<{ id: string; resourceType: string; resourceName: string; dependsOn: Array<{ id: string; resourceType: string; resourceName: string }> }>;
  outputs?: Record<string, { type: string; value: unknown }>;
  outputResources?: Array<{ id: string }>;
  error?: ErrorResponse;
  debugSetting?: { detailLevel: string };
}

export interface StoredDeployment {
  id: string;
  name: string;
  type: typeof DEPLOYMENT_TYPE;
  location?: string;
  tags?: Record<string, string>;
  properties: DeploymentProperties;
  /** Not part of the view: the template as sent (exportTemplate), the async operation of the latest run, its start. */
  template: Record<string, unknown>;
  asyncOperationId: string;
  startedAt: number;
  /** The store instance running it (instances sharing PostgreSQL fail only the runs of dead ones). */
  runner?: string;
}

export interface OperationProperties {
  provisioningOperation: 'Create' | 'Read' | 'Action' | 'Delete' | 'EvaluateDeploymentOutput';
  provisioningState: ProvisioningState;
  timestamp: string;
  duration: string;
  trackingId: string;
  serviceRequestId: string;
  statusCode?: string;
  statusMessage?: unknown;
  targetResource?: { id: string; resourceType: string; resourceName: string; apiVersion?: string };
}

export interface StoredOperation {
  id: string;
  operationId: string;
  properties: OperationProperties;
}

/** Azure's deployment operation ids: 16 upper-case hex digits. */
export function newOperationId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** ISO 8601 duration as Azure writes it (`PT1.2345678S`). */
export function isoDuration(ms: number): string {
  return `PT${(Math.max(0, ms) / 1000).toFixed(7).replace(/\.?0+$/, '')}S`;
}

/** HTTP status as Azure's operations name it (`OK`, `Created`, `Forbidden`, ...). */
export function statusName(status: number): string {
  const names: Record<number, string> = {
    200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'NoContent', 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden',
    404: 'NotFound', 409: 'Conflict', 412: 'PreconditionFailed', 429: 'TooManyRequests', 500: 'InternalServerError',
  };
  return names[status] ?? String(status);
}

export function deploymentView(d: StoredDeployment): Record<string, unknown> {
  const { template: _t, asyncOperationId: _a, startedAt: _s, runner: _r, ...view } = d;
  return view;
}
