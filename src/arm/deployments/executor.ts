// Runs a deployment's plan: every resource starts as soon as the resources it depends on have
// succeeded (maximal parallelism), each one through the main origin's handler as the deploying
// caller, so it meets exactly the routing, RBAC checks and type hooks of a direct request.
// Each resource becomes a deployment operation; a failure stops what depends on it and fails
// the deployment with Azure's DeploymentFailed and per-resource details.
import { randomUUID } from 'node:crypto';
import type { Handler } from '../../server/http.js';
import { dispatchAs, type InternalResponse } from '../internalRequest.js';
import type { Caller } from '../model.js';
import { keyOf } from '../ids.js';
import { isoDuration, newOperationId, statusName, type ErrorResponse, type StoredOperation } from './model.js';

/** One resource of a plan, as the executor needs it. */
export interface ExecStep {
  id: string;
  type: string;
  name: string;
  apiVersion: string;
  /** Ids of steps of the same plan that must succeed first. */
  dependsOn: string[];
  /** `existing` resources are read, never written. */
  existing: boolean;
  /** The request body, evaluated when the step runs (reference() and list*() then see current state). */
  body(): Promise<Record<string, unknown>>;
  /** A nested deployment (`Microsoft.Resources/deployments`): what to plan for the child deployment. */
  nested?: { mode: string; prepare(): Promise<{ template: Record<string, unknown>; parameters: Record<string, unknown>; options: unknown }> };
}

export interface ExecHooks {
  /** Records an operation as it starts and as it ends. */
  record(op: StoredOperation): Promise<void>;
  /** Runs a nested deployment (a `Microsoft.Resources/deployments` step) and answers like a PUT that waited for it. */
  nested(step: ExecStep): Promise<InternalResponse>;
  /** Set when the deployment is canceled: steps not started then never start. */
  signal: AbortSignal;
}

export interface ExecResult {
  failed: Array<{ step: ExecStep; error: ErrorResponse }>;
  canceled: boolean;
}

export const DEPLOYMENT_FAILED_MESSAGE =
  'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.';

/** Sends one in-process request as the caller through the main origin. */
export function armCall(handle: Handler, caller: Caller) {
  return (method: string, id: string, apiVersion: string, body?: unknown) =>
    dispatchAs(handle, caller, method, `${id}?api-version=${encodeURIComponent(apiVersion)}`, body);
}

export function errorOf(res: InternalResponse, target?: string): ErrorResponse {
  const e = (res.body as { error?: ErrorResponse } | undefined)?.error;
  if (e && typeof e.code === 'string') return { code: e.code, message: String(e.message ?? ''), ...(target ? { target } : {}), ...(e.details ? { details: e.details } : {}) };
  return { code: statusName(res.status), message: `The request answered ${res.status}.`, ...(target ? { target } : {}) };
}

export async function execute(steps: ExecStep[], deploymentId: string, call: ReturnType<typeof armCall>, hooks: ExecHooks): Promise<ExecResult> {
  const byKey = new Map(steps.map((s) => [keyOf(s.id), s]));
  const waiting = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  for (const s of steps) {
    const k = keyOf(s.id);
    const deps = new Set(s.dependsOn.map(keyOf).filter((d) => d !== k && byKey.has(d)));
    waiting.set(k, deps);
    for (const d of deps) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(k);
  }
  const failed: ExecResult['failed'] = [];
  const blocked = new Set<string>();
  const running = new Set<Promise<void>>();

  const start = (k: string) => {
    const step = byKey.get(k)!;
    const p = runStep(step, deploymentId, call, hooks).then((error) => {
      running.delete(p);
      if (error) {
        failed.push({ step, error });
        // Nothing that depends on a failed resource runs (transitively).
        const stack = [...(dependents.get(k) ?? [])];
        while (stack.length) {
          const d = stack.pop()!;
          if (blocked.has(d)) continue;
          blocked.add(d);
          stack.push(...(dependents.get(d) ?? []));
        }
        return;
      }
      for (const d of dependents.get(k) ?? []) {
        const w = waiting.get(d)!;
        w.delete(k);
        if (w.size === 0 && !blocked.has(d) && !hooks.signal.aborted) start(d);
      }
    });
    running.add(p);
  };
  for (const [k, w] of waiting) if (w.size === 0) start(k);
  while (running.size > 0) await Promise.race(running);
  return { failed, canceled: hooks.signal.aborted };
}

async function runStep(step: ExecStep, deploymentId: string, call: ReturnType<typeof armCall>, hooks: ExecHooks): Promise<ErrorResponse | undefined> {
  // One resource per turn of the event loop, so requests (reads, a cancel) are served during a run;
  // a resource not started when the deployment is canceled never starts.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (hooks.signal.aborted) return undefined;
  const operationId = newOperationId();
  const started = Date.now();
  const op: StoredOperation = {
    id: `${deploymentId}/operations/${operationId}`,
    operationId,
    properties: {
      provisioningOperation: step.existing ? 'Read' : 'Create',
      provisioningState: 'Running',
      timestamp: new Date(started).toISOString(),
      duration: 'PT0S',
      trackingId: randomUUID(),
      serviceRequestId: randomUUID(),
      targetResource: { id: step.id, resourceType: step.type, resourceName: step.name, apiVersion: step.apiVersion },
    },
  };
  await hooks.record(op);
  let res: InternalResponse;
  try {
    if (step.existing) res = await call('GET', step.id, step.apiVersion);
    else if (step.nested) res = await hooks.nested(step);
    else res = await call('PUT', step.id, step.apiVersion, await step.body());
  } catch (err) {
    // Expressions evaluated at run time (reference() to a resource that failed to read, ...) fail this resource only.
    const e = err as { code?: unknown; message?: unknown; status?: unknown };
    const status = typeof e.status === 'number' ? e.status : 400;
    res = { status, headers: {}, body: { error: { code: typeof e.code === 'string' ? e.code : 'InvalidTemplate', message: String(e.message ?? err) } } };
  }
  const ok = res.status >= 200 && res.status < 300;
  const error = ok ? undefined : errorOf(res, step.id);
  op.properties.provisioningState = ok ? 'Succeeded' : 'Failed';
  op.properties.duration = isoDuration(Date.now() - started);
  op.properties.statusCode = statusName(res.status);
  op.properties.statusMessage = ok ? { status: 'OK' } : { status: 'Failed', error };
  await hooks.record(op);
  return error;
}
