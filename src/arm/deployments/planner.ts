// The seam between the deployments engine and the template language (`src/arm/templates`):
// what a plan must give the executor. `templatePlanner` adapts the language module to it.
import type { ExecStep } from './executor.js';

export interface PlanScope {
  subscriptionId: string;
  tenantId: string;
  /** Absent at subscription scope. */
  resourceGroup?: { id: string; name: string; location: string; tags?: Record<string, string> };
  deploymentName: string;
  /** The deployment's location (subscription scope). */
  location?: string;
}

/** Reads the Resource Manager as the deploying caller (reference(), list*(), existence). */
export interface PlanHost {
  reference(id: string, apiVersion: string | undefined, full: boolean): Promise<unknown>;
  list(id: string, apiVersion: string, action: string, body?: unknown): Promise<unknown>;
}

export interface ExecPlan {
  steps: ExecStep[];
  /** The parameters as the deployment shows them (securestring/secureObject values left out). */
  parameters: Record<string, unknown>;
  /** Resources outside the template that the resources read unconditionally (checked before anything is created). */
  externalReferences: Array<{ id: string; apiVersion?: string; templatePath: string }>;
  /** Evaluated after every resource succeeded. */
  outputs(): Promise<Record<string, { type: string; value: unknown }>>;
}

/** Errors that fail a deployment before anything is created (answered 400 to the PUT). */
export interface PlanError {
  code: string;
  message: string;
  target?: string;
  details?: Array<{ code: string; message: string; target?: string }>;
}

/** `options` is the language's own (a nested deployment's outer scope), passed through untouched. */
export type Planner = (template: Record<string, unknown>, parameters: Record<string, unknown>, scope: PlanScope, host: PlanHost, options?: unknown) => Promise<ExecPlan>;
