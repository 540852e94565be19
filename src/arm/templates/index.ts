// The ARM template language, as a pure module: parse and evaluate template expressions, validate a
// template against its parameters, and expand it into a plan of resources for the deployments
// engine. No I/O: everything outside the template (the scope, reference(), list*()) comes through
// `TemplateHost`. The engine (src/arm/deployments) owns HTTP, persistence and running resources.
//
// Interface changes after the first commit are additive only; they are noted here.
// - 04:40 UTC: DeploymentPlan.externalReferences (resources outside the template that resource
//   bodies reference unconditionally; check they exist before creating anything);
//   TemplateHost.subscriptionDisplayName/tenantDisplayName (optional); resourceInfo();
//   PlanOptions.source and locateTemplatePath() (line/column of a template path).
export { TemplateError } from './errors.js';
export type { TemplateErrorDetail } from './errors.js';
export { parseExpression, isExpression } from './parser.js';
export { guid, uniqueString } from './hashes.js';
export { planDeployment } from './plan.js';
export { locateTemplatePath } from './sourceMap.js';
export type { SourcePosition } from './sourceMap.js';

/** Everything a template can learn about the world outside it. */
export interface TemplateHost {
  subscriptionId: string;
  tenantId: string;
  subscriptionDisplayName?: string;
  tenantDisplayName?: string;
  /** Absent at subscription scope (resourceGroup() is then an InvalidTemplate error). */
  resourceGroup?: { id: string; name: string; location: string; tags?: Record<string, string>; managedBy?: string; properties?: Record<string, unknown> };
  /** What deployment() returns: name, plus Azure's properties (templateLink, etc.); location at subscription scope. */
  deployment: { name: string; location?: string; properties?: Record<string, unknown> };
  /** Azure's environment() object with Mimic's endpoints. Optional: a default Azure-cloud-shaped object is used. */
  environment?(): Record<string, unknown>;
  /** A resource's state for reference(): its `properties` when !full, the whole resource when full. Throws (e.g. ResourceNotFound) when absent. */
  reference(resourceId: string, apiVersion: string | undefined, full: boolean): Promise<unknown>;
  /** POST {resourceId}/{functionName}?api-version=...: listKeys, listSecrets, ... */
  list(resourceId: string, functionName: string, apiVersion: string, body?: unknown): Promise<unknown>;
  /** utcNow() base time (default: new Date()). */
  now?(): Date;
  /** newGuid() source (default: crypto.randomUUID). */
  newGuid?(): string;
}

/** A nested deployment's scope, when the engine plans an inner template with `expressionEvaluationOptions.scope: 'outer'`. */
export interface PlanScope {
  parameters: Record<string, unknown>;
  variables: Record<string, unknown>;
}

export interface PlanOptions {
  /** For nested deployments with outer scope: the outer template's evaluated parameters and variables. */
  outer?: PlanScope;
  /** The template's JSON text, when the caller has it: InvalidTemplate messages then give line and column. */
  source?: string;
}

export interface PlannedResource {
  /** Template-level key: the symbolic name (languageVersion 2.0), else the full resource id (copy instances have distinct ids). */
  key: string;
  /** Full resource id (for extension resources: `{scope}/providers/{type}/{name}`). */
  id: string;
  /** Full type, children flattened: `Microsoft.Web/sites/config`. */
  type: string;
  /** Full name, `parent/child` for child resources. */
  name: string;
  apiVersion: string;
  /** Extension resources: the resource id they extend (from `scope`, a resource id or a symbolic name). */
  scope?: string;
  /** Target subscription / resource group (from `subscriptionId`/`resourceGroup` on the resource, e.g. nested deployments). */
  subscriptionId: string;
  resourceGroup?: string;
  /** `existing: true`: only read (reference()), never created. */
  existing: boolean;
  /** Result of `condition` (false: skipped, but its dependents still wait on nothing). */
  condition: boolean;
  /** Keys of planned resources this one waits for (explicit dependsOn + implicit reference()/list*()). */
  dependsOn: string[];
  /** Copy loop this resource instance belongs to. */
  copy?: { name: string; index: number; count: number; mode: 'parallel' | 'serial'; batchSize?: number };
  /** The symbolic name or template path of the resource (for messages): e.g. `resources[2]`. */
  templatePath: string;
  /** Evaluate the resource's body (location, tags, kind, sku, identity, properties, zones, plan, ...) now. Call after dependencies are deployed. */
  body(): Promise<Record<string, unknown>>;
  /** Present for Microsoft.Resources/deployments resources. */
  nested?: NestedDeployment;
}

export interface NestedDeployment {
  /** `properties.expressionEvaluationOptions.scope` ('outer' is Azure's default). */
  scope: 'inner' | 'outer';
  mode: string;
  /**
   * Evaluates properties (template, parameters, mode) in the outer context and returns what to plan:
   * for 'inner', `parameters` are the nested deployment's parameters in Azure's `{name:{value}}` form;
   * for 'outer', the template is unevaluated and `outer` gives the outer parameters/variables to pass to planDeployment.
   */
  prepare(): Promise<{ template: Record<string, unknown>; parameters: Record<string, unknown>; options: PlanOptions }>;
}

export interface DeploymentPlan {
  /** Resources in template order (copy instances expanded); dependsOn forms a DAG (cycles are rejected). */
  resources: PlannedResource[];
  /**
   * Resources outside the template that reference()/list*() read unconditionally (not inside
   * if()/and()/or()/coalesce()/lambdas) from resources whose condition is true. Azure fails such a
   * deployment with ResourceNotFound; checking these before creating anything keeps a failed
   * deployment from leaving half its resources behind.
   */
  externalReferences: Array<{ id: string; apiVersion?: string; templatePath: string }>;
  /** Evaluated parameter values (after defaults), by name. */
  parameters: Record<string, { type: string; value: unknown }>;
  /** Evaluated variables (for nested deployments with outer scope). */
  variables: Record<string, unknown>;
  /** Evaluated after all resources are deployed; secure outputs are omitted as Azure does. */
  outputs(): Promise<Record<string, { type: string; value: unknown }>>;
  /** The outer scope a nested deployment with `scope: 'outer'` needs. */
  scope: PlanScope;
}
