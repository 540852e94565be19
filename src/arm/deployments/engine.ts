// Microsoft.Resources/deployments at resource-group and subscription scope: the REST surface
// (create/update as a long-running operation, get, list, delete, cancel, validate,
// exportTemplate, existence, deployment operations) and the runs behind it. A run plans the
// template (the template language), executes the plan (executor.ts) and keeps the deployment
// and its operations in the store, so they survive a restart (a run cut short is marked Failed).
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ConflictError, StoreUnavailableError, type Op, type Store } from '../../store/types.js';
import { sendEmpty, sendJson, type Handler, type Request } from '../../server/http.js';
import { ArmError, invalidContent, resourceGroupNotFound } from '../errors.js';
import { keyOf } from '../ids.js';
import { lookupType } from '../providers.js';
import { RESOURCES, type Caller, type StoredResource } from '../model.js';
import type { ExtensionContext } from '../router.js';
import { normalizeLocation, type ArmService } from '../service.js';
import { armCall, DEPLOYMENT_FAILED_MESSAGE, errorOf, execute, type ExecStep } from './executor.js';
import type { InternalResponse } from '../internalRequest.js';
import {
  DEPLOYMENTS,
  DEPLOYMENT_OPERATIONS,
  DEPLOYMENT_TYPE,
  deploymentView,
  isoDuration,
  newOperationId,
  statusName,
  type ErrorResponse,
  type StoredDeployment,
  type StoredOperation,
} from './model.js';
import type { ExecPlan, PlanError, PlanScope, Planner } from './planner.js';

const ACTIONS = {
  read: 'Microsoft.Resources/deployments/read',
  write: 'Microsoft.Resources/deployments/write',
  delete: 'Microsoft.Resources/deployments/delete',
  cancel: 'Microsoft.Resources/deployments/cancel/action',
  validate: 'Microsoft.Resources/deployments/validate/action',
  exportTemplate: 'Microsoft.Resources/deployments/exportTemplate/action',
  operationsRead: 'Microsoft.Resources/deployments/operations/read',
  statusRead: 'Microsoft.Resources/deployments/operationstatuses/read',
};

/** Abort reason of runs stopped because the process shuts down (they end Failed, not Canceled). */
const SHUTDOWN = 'shutdown';
/** How often instances sharing PostgreSQL look for deployments of instances that went away. */
const SWEEP_MS = 10_000;

const interrupted = (name: string): ErrorResponse => ({ code: 'DeploymentInterrupted', message: `The deployment '${name}' was interrupted: Mimic stopped while it was running. Deploy again.` });

const NAME_PATTERN = /^[-\w._()]{1,64}$/;
/** Azure keeps at most 800 deployments per group; Mimic refuses past that rather than pruning. */
const MAX_DEPLOYMENTS = 800;

interface DeploymentScope {
  /** `/subscriptions/{s}` or the group's id, as stored. */
  id: string;
  subscriptionId: string;
  resourceGroup?: { id: string; name: string; location: string; tags?: Record<string, string> };
}

interface DeploymentInput {
  template: Record<string, unknown>;
  parameters: Record<string, unknown>;
  mode: 'Incremental' | 'Complete';
  location?: string;
  tags?: Record<string, string>;
  debugSetting?: { detailLevel: string };
}

interface Run {
  abort: AbortController;
  done: Promise<void>;
}

export class DeploymentEngine {
  private readonly runs = new Map<string, Run>();
  /** Deployments being planned: a second PUT under the same name meanwhile is refused like a running one. */
  private readonly planning = new Set<string>();
  private closing = false;
  private sweep?: NodeJS.Timeout;
  /** Runners of unfinished deployments found not connected at the previous sweep. */
  private missingRunners = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly arm: ArmService,
    private readonly planner: Planner,
    /** The main origin's handler (known once the server is built). */
    private readonly handle: () => Handler,
  ) {}

  /**
   * A deployment whose runner has stopped will never finish: mark it Failed. With the embedded
   * store that is every unfinished one at start (the previous process is gone). Instances sharing
   * PostgreSQL fail only the runs of instances no longer connected, at start and then every
   * SWEEP_MS, so an instance starting does not fail another's running deployment, and one that
   * died does not leave its deployments Running while the others stay up.
   */
  async failInterrupted(opts: { sweeping?: boolean } = {}): Promise<void> {
    const live = await this.store.liveInstances?.();
    // While PostgreSQL restarts, a live instance's listener is briefly away: a sweep fails a
    // runner only once it was missing at the previous sweep too (SWEEP_MS is well above the
    // listener's longest reconnection delay).
    const missing = new Set<string>();
    for (const e of await this.store.list<StoredDeployment>(DEPLOYMENTS)) {
      const d = e.value;
      if (d.properties.provisioningState !== 'Accepted' && d.properties.provisioningState !== 'Running') continue;
      if (this.runs.has(e.key) || (live && d.runner !== undefined && live.has(d.runner))) continue;
      if (opts.sweeping && d.runner !== undefined) {
        missing.add(d.runner);
        if (!this.missingRunners.has(d.runner)) continue;
      }
      d.properties.provisioningState = 'Failed';
      d.properties.error = interrupted(d.name);
      d.properties.duration = isoDuration(Date.now() - d.startedAt);
      try {
        // At the version read: a run that moved on meanwhile (or a new run) is left alone.
        await this.store.apply([{ op: 'put', kind: DEPLOYMENTS, key: e.key, value: d, ifVersion: e.version }]);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    if (opts.sweeping) this.missingRunners = missing;
  }

  /** On a shared store, keeps failing the runs of instances that went away (see failInterrupted). */
  sweepInterrupted(everyMs = SWEEP_MS): void {
    if (!this.store.liveInstances) return;
    this.sweep = setInterval(() => {
      this.failInterrupted({ sweeping: true }).catch((err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) console.error('mimic: could not check for interrupted deployments:', err);
      });
    }, everyMs).unref();
  }

  /** A deleted resource group takes its deployment history with it, as in Azure (its runs are canceled). */
  async forgetGroup(groupKey: string): Promise<void> {
    const prefix = `${groupKey}/providers/${DEPLOYMENT_TYPE.toLowerCase()}/`;
    for (const [key, run] of this.runs) if (key.startsWith(prefix)) run.abort.abort();
    const ops: Op[] = [];
    for (const kind of [DEPLOYMENTS, DEPLOYMENT_OPERATIONS]) for (const e of await this.store.list(kind, { prefix })) ops.push({ op: 'delete', kind, key: e.key });
    if (ops.length > 0) await this.store.apply(ops);
  }

  /** Waits for every run (at shutdown, after canceling them). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweep);
    for (const r of this.runs.values()) r.abort.abort(SHUTDOWN);
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }

  /** Resolves when the named deployment's current run ends (at once when none is running). */
  async settled(id: string): Promise<void> {
    await this.runs.get(keyOf(id))?.done;
  }

  // ---- REST ------------------------------------------------------------------------------

  /** `{scope}/providers/Microsoft.Resources/deployments[/...]` (and `{group}/deployments/...`). */
  async serve(x: ExtensionContext): Promise<void | false> {
    if (x.rest[0]?.toLowerCase() !== 'deployments') return false;
    const scope = await this.resolveScope(x.scope);
    const { req, res, caller, rest } = x;
    if (rest.length === 1) {
      if (req.method !== 'GET') throw methodNotAllowed(req);
      return this.list(req, res, caller, scope);
    }
    const name = rest[1]!;
    const id = `${scope.id}/providers/${DEPLOYMENT_TYPE}/${name}`;
    if (rest.length === 2) {
      switch (req.method) {
        case 'GET':
          return sendJson(res, 200, deploymentView(await this.get(caller, id, name)));
        case 'HEAD':
          this.arm.authorizer.check(caller, ACTIONS.read, id);
          return sendEmpty(res, (await this.find(id)) ? 204 : 404);
        case 'PUT':
          return this.put(x, scope, id, name);
        case 'DELETE':
          return this.delete(req, res, caller, scope, id, name);
        default:
          throw methodNotAllowed(req);
      }
    }
    const what = rest[2]!.toLowerCase();
    if (rest.length === 3 && req.method === 'POST') {
      if (what === 'validate') return this.validate(x, scope, id, name);
      if (what === 'cancel') return this.cancel(res, caller, id, name);
      if (what === 'exporttemplate') {
        const d = await this.get(caller, id, name, ACTIONS.exportTemplate);
        return sendJson(res, 200, { template: d.template });
      }
      if (what === 'whatif') throw new ArmError(400, 'UnsupportedOperation', 'Mimic does not implement what-if; deploy to a scratch resource group and compare instead.');
    }
    if (what === 'operations' && req.method === 'GET' && rest.length <= 4) {
      const d = await this.get(caller, id, name, ACTIONS.operationsRead);
      // In the order the resources started.
      const ops = (await this.store.list<StoredOperation>(DEPLOYMENT_OPERATIONS, { prefix: keyOf(d.id) + '/operations/' })).map((e) => e.value).sort((a, b) => (a.properties.timestamp < b.properties.timestamp ? -1 : a.properties.timestamp > b.properties.timestamp ? 1 : 0));
      if (rest.length === 3) return sendJson(res, 200, { value: ops });
      const op = ops.find((o) => o.operationId.toLowerCase() === rest[3]!.toLowerCase());
      if (!op) throw new ArmError(404, 'DeploymentOperationNotFound', `Deployment operation '${rest[3]}' of deployment '${name}' could not be found.`);
      return sendJson(res, 200, op);
    }
    if (what === 'operationstatuses' && req.method === 'GET' && rest.length === 4) {
      const d = await this.get(caller, id, name, ACTIONS.statusRead);
      if (d.asyncOperationId.toLowerCase() !== rest[3]!.toLowerCase()) throw new ArmError(404, 'OperationNotFound', `The operation '${rest[3]}' could not be found.`);
      const state = d.properties.provisioningState;
      const status = state === 'Accepted' || state === 'Running' ? 'Running' : state;
      return sendJson(res, 200, { status, ...(state === 'Failed' && d.properties.error ? { error: d.properties.error } : {}) });
    }
    throw new ArmError(404, 'InvalidResourceType', `The resource path '${req.path}' is not a valid Resource Manager path.`);
  }

  private async resolveScope(scope: string): Promise<DeploymentScope> {
    const segs = scope.split('/').filter((s) => s.length > 0);
    const lower = segs.map((s) => s.toLowerCase());
    if (lower[0] !== 'subscriptions' || (segs.length !== 2 && !(segs.length === 4 && lower[2] === 'resourcegroups'))) {
      throw new ArmError(400, 'InvalidDeploymentScope', `Mimic serves deployments at resource-group and subscription scope, not at '${scope}'.`);
    }
    this.arm.requireSubscription(segs[1]!);
    const subscriptionId = this.arm.tenant.subscriptionId;
    if (segs.length === 2) return { id: `/subscriptions/${subscriptionId}`, subscriptionId };
    const group = await this.arm.resourceGroupExists(subscriptionId, segs[3]!);
    if (!group) throw resourceGroupNotFound(segs[3]!);
    return { id: group.id, subscriptionId, resourceGroup: { id: group.id, name: group.name, location: group.location, ...(group.tags ? { tags: group.tags } : {}) } };
  }

  private async find(id: string): Promise<StoredDeployment | undefined> {
    return (await this.store.get<StoredDeployment>(DEPLOYMENTS, keyOf(id)))?.value;
  }

  private async get(caller: Caller, id: string, name: string, action = ACTIONS.read): Promise<StoredDeployment> {
    this.arm.authorizer.check(caller, action, id);
    const d = await this.find(id);
    if (!d) throw new ArmError(404, 'DeploymentNotFound', `Deployment '${name}' could not be found.`);
    return d;
  }

  private async list(req: Request, res: ServerResponse, caller: Caller, scope: DeploymentScope): Promise<void> {
    this.arm.authorizer.check(caller, ACTIONS.read, scope.id);
    const prefix = keyOf(`${scope.id}/providers/${DEPLOYMENT_TYPE}/`);
    let items = (await this.store.list<StoredDeployment>(DEPLOYMENTS, { prefix })).map((e) => e.value);
    // `$filter=provisioningState eq '{state}'`, the one filter Azure documents here.
    const filter = req.query.get('$filter');
    if (filter) {
      const m = /^\s*provisioningState\s+eq\s+'([A-Za-z]+)'\s*$/i.exec(filter);
      if (!m) throw new ArmError(400, 'InvalidFilterParameter', `The filter '${filter}' is not supported. Use provisioningState eq '{state}'.`);
      items = items.filter((d) => d.properties.provisioningState.toLowerCase() === m[1]!.toLowerCase());
    }
    const top = Number(req.query.get('$top') ?? NaN);
    if (Number.isInteger(top) && top > 0) items = items.slice(0, top);
    return sendJson(res, 200, { value: items.map(deploymentView) });
  }

  /** Checks the request body; answers what a run needs. */
  private parseRequest(body: Record<string, unknown>, scope: DeploymentScope): DeploymentInput {
    const props = body.properties;
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw invalidContent("The request content was invalid: the property 'properties' is required and must be an object.");
    const p = props as Record<string, unknown>;
    for (const link of ['templateLink', 'parametersLink'] as const) {
      const l = p[link] as { uri?: unknown; id?: unknown } | undefined;
      if (l !== undefined && l !== null) {
        throw new ArmError(400, 'InvalidContentLink', `Mimic cannot fetch '${link}' ('${String(l.uri ?? l.id ?? '')}'): it has no internet access and no template specs. Send the template inline in 'properties.template' and the parameters in 'properties.parameters' (az deployment group create --template-file does).`, `properties.${link}`);
      }
    }
    const template = p.template;
    if (typeof template !== 'object' || template === null || Array.isArray(template)) throw new ArmError(400, 'InvalidRequestContent', "The deployment has no template: 'properties.template' must be a JSON object.", 'properties.template');
    const parameters = p.parameters ?? {};
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) throw invalidContent("The property 'properties.parameters' must be a JSON object.");
    for (const [k, v] of Object.entries(parameters as Record<string, unknown>)) {
      if (typeof v === 'object' && v !== null && 'reference' in v) {
        throw new ArmError(400, 'InvalidDeploymentParameterKeyVaultReference', `The parameter '${k}' is a Key Vault reference; Mimic takes parameter values inline only.`, `properties.parameters.${k}`);
      }
    }
    const mode = p.mode === undefined ? 'Incremental' : p.mode;
    if (mode !== 'Incremental' && mode !== 'Complete') throw new ArmError(400, 'InvalidDeploymentMode', `The deployment mode '${String(mode)}' is not valid. Allowed values are 'Incremental' and 'Complete'.`, 'properties.mode');
    if (mode === 'Complete' && !scope.resourceGroup) throw new ArmError(400, 'InvalidDeploymentMode', "The deployment mode 'Complete' is only supported for deployments at resource group scope.", 'properties.mode');
    let location: string | undefined;
    if (!scope.resourceGroup) {
      if (typeof body.location !== 'string' || body.location.length === 0) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
      location = normalizeLocation(body.location);
    }
    const debug = p.debugSetting as { detailLevel?: unknown } | undefined;
    return {
      template: template as Record<string, unknown>,
      parameters: parameters as Record<string, unknown>,
      mode: mode as 'Incremental' | 'Complete',
      location,
      tags: body.tags as Record<string, string> | undefined,
      ...(debug && typeof debug.detailLevel === 'string' ? { debugSetting: { detailLevel: debug.detailLevel } } : {}),
    };
  }

  /** Plans the template as the caller; validation errors answer 400 before anything is created. */
  private async plan(caller: Caller, scope: DeploymentScope, name: string, input: DeploymentInput, options?: unknown): Promise<ExecPlan> {
    const call = armCall(this.handle(), caller);
    const planScope: PlanScope = {
      subscriptionId: scope.subscriptionId,
      tenantId: this.arm.tenant.tenantId,
      ...(scope.resourceGroup ? { resourceGroup: scope.resourceGroup } : {}),
      deploymentName: name,
      ...(input.location ? { location: input.location } : {}),
    };
    let plan: ExecPlan;
    try {
      plan = await this.planner(input.template, input.parameters, planScope, {
        async reference(id, apiVersion, full) {
          const r = await call('GET', id, apiVersion ?? (await defaultApiVersion(id)));
          if (r.status !== 200) throw Object.assign(new Error(errorOf(r).message), { code: errorOf(r).code, status: r.status });
          const body = r.body as Record<string, unknown>;
          return full ? body : body.properties ?? {};
        },
        async list(id, apiVersion, action, body) {
          const r = await call('POST', `${id}/${action}`, apiVersion, body);
          if (r.status !== 200) throw Object.assign(new Error(errorOf(r).message), { code: errorOf(r).code, status: r.status });
          return r.body;
        },
      }, options);
    } catch (err) {
      if (err instanceof ArmError) throw err;
      const e = err as Partial<PlanError>;
      if (typeof e.code === 'string' && typeof e.message === 'string') {
        const error = new ArmError(400, e.code, e.message, e.target);
        if (e.details) error.details = e.details;
        throw error;
      }
      throw err;
    }
    await this.checkExternalReferences(call, name, plan);
    return plan;
  }

  /**
   * Resources outside the template that the template reads must exist (and be readable by the
   * caller) before anything is created: otherwise the PUT answers 400 InvalidTemplateDeployment
   * with each missing resource in the details.
   */
  private async checkExternalReferences(call: ReturnType<typeof armCall>, name: string, plan: ExecPlan): Promise<void> {
    const seen = new Set<string>();
    const refs = plan.externalReferences.filter((r) => !seen.has(keyOf(r.id)) && seen.add(keyOf(r.id)));
    const problems = await Promise.all(
      refs.map(async (r) => {
        const res = await call('GET', r.id, r.apiVersion ?? (await defaultApiVersion(r.id)));
        return res.status === 200 ? undefined : ({ ...errorOf(res), target: r.templatePath } as ErrorResponse);
      }),
    );
    const details = problems.filter((p): p is ErrorResponse => p !== undefined);
    if (details.length === 0) return;
    const error = new ArmError(
      400,
      'InvalidTemplateDeployment',
      `The template deployment '${name}' is not valid according to the validation procedure: it reads ${details.length === 1 ? 'a resource' : 'resources'} that could not be read (${refs.filter((_, i) => problems[i]).map((r) => r.id).join(', ')}). See inner errors for details.`,
    );
    error.details = details;
    throw error;
  }

  private async put(x: ExtensionContext, scope: DeploymentScope, id: string, name: string): Promise<void> {
    const { req, res, caller } = x;
    this.arm.authorizer.check(caller, ACTIONS.write, id);
    if (!NAME_PATTERN.test(name)) throw new ArmError(400, 'InvalidDeploymentName', `The deployment name '${name}' is invalid: it must be 1-64 letters, digits, '-', '_', '.', '(' or ')'.`);
    const input = this.parseRequest(await x.body(), scope);
    const key = keyOf(id);
    const previous = await this.find(id);
    if (this.runs.has(key) || this.planning.has(key)) throw new ArmError(409, 'DeploymentActive', `The deployment '${name}' is already running. Wait for it to finish or cancel it before deploying again under this name.`);
    if (!previous) {
      const count = (await this.store.list(DEPLOYMENTS, { prefix: keyOf(`${scope.id}/providers/${DEPLOYMENT_TYPE}/`) })).length;
      if (count >= MAX_DEPLOYMENTS) throw new ArmError(400, 'DeploymentQuotaExceeded', `Creating the deployment '${name}' would exceed the quota of ${MAX_DEPLOYMENTS} deployments at this scope. Delete some deployments first.`);
    }
    this.planning.add(key);
    let d: StoredDeployment;
    try {
      const plan = await this.plan(caller, scope, name, input);
      d = await this.start(caller, scope, id, name, input, plan, previous);
    } finally {
      this.planning.delete(key);
    }
    const apiVersion = encodeURIComponent(x.apiVersion);
    const host = req.header('host') ?? 'management.azure.com';
    return sendJson(res, previous ? 200 : 201, deploymentView(d), {
      'azure-asyncoperation': `https://${host}${d.id}/operationStatuses/${d.asyncOperationId}?api-version=${apiVersion}`,
      'retry-after': '1',
    });
  }

  /** Records a new run of the deployment (replacing the previous run's operations) and starts it. */
  private async start(caller: Caller, scope: DeploymentScope, id: string, name: string, input: DeploymentInput, plan: ExecPlan, previous?: StoredDeployment): Promise<StoredDeployment> {
    const key = keyOf(id);
    const now = Date.now();
    const d: StoredDeployment = {
      id: previous?.id ?? id,
      name: previous?.name ?? name,
      type: DEPLOYMENT_TYPE,
      ...(input.location ? { location: input.location } : {}),
      ...(input.tags ? { tags: input.tags } : {}),
      properties: {
        templateHash: templateHash(input.template),
        parameters: plan.parameters,
        mode: input.mode,
        provisioningState: 'Accepted',
        timestamp: new Date(now).toISOString(),
        duration: 'PT0S',
        correlationId: randomUUID(),
        providers: providersOf(plan.steps),
        dependencies: dependenciesOf(plan.steps),
        ...(input.debugSetting ? { debugSetting: input.debugSetting } : {}),
      },
      template: input.template,
      asyncOperationId: randomUUID(),
      startedAt: now,
      runner: this.store.instanceId,
    };
    const old = await this.store.list(DEPLOYMENT_OPERATIONS, { prefix: key + '/operations/' });
    await this.store.apply([...old.map((e) => ({ op: 'delete' as const, kind: DEPLOYMENT_OPERATIONS, key: e.key })), { op: 'put', kind: DEPLOYMENTS, key, value: d }]);
    this.launch(caller, scope, d, plan);
    return d;
  }

  private launch(caller: Caller, scope: DeploymentScope, d: StoredDeployment, plan: ExecPlan): void {
    const key = keyOf(d.id);
    const abort = new AbortController();
    const run: Run = { abort, done: Promise.resolve() };
    run.done = this.run(caller, scope, d, plan, abort.signal)
      .catch(async (err: unknown) => {
        if (err instanceof StoreUnavailableError) {
          await this.finish(d, 'Failed', { error: { code: 'ServiceUnavailable', message: 'The deployment stopped: the database could not be reached. Deploy again.' } }).catch(() => undefined);
          return;
        }
        console.error('mimic: deployment', d.id, 'failed unexpectedly:', err);
        await this.finish(d, 'Failed', { error: { code: 'InternalServerError', message: 'The deployment stopped on an internal error; see the Mimic log.' } }).catch(() => undefined);
      })
      .finally(() => this.runs.delete(key));
    this.runs.set(key, run);
  }

  private async run(caller: Caller, scope: DeploymentScope, d: StoredDeployment, plan: ExecPlan, signal: AbortSignal): Promise<void> {
    const key = keyOf(d.id);
    // The PUT answers first (with Accepted), then the run starts.
    await yieldToIo();
    d.properties.provisioningState = 'Running';
    await this.store.put(DEPLOYMENTS, key, d);
    const call = armCall(this.handle(), caller);
    const recorder = new OperationRecorder(this.store);
    const record = async (op: StoredOperation) => recorder.record(op);
    let result;
    try {
      result = await execute(plan.steps, d.id, call, {
        signal,
        record,
        nested: (step) => this.nested(caller, step, d.location ?? scope.resourceGroup?.location ?? 'global'),
      });
    } finally {
      await recorder.flush();
    }
    if (signal.reason === SHUTDOWN) return this.finish(d, 'Failed', { error: interrupted(d.name) });
    if (result.canceled && result.failed.length === 0) return this.finish(d, 'Canceled', {});
    if (result.failed.length > 0) {
      const details = result.failed.map(({ error }) => error);
      return this.finish(d, 'Failed', { error: { code: 'DeploymentFailed', target: d.id, message: DEPLOYMENT_FAILED_MESSAGE, details } });
    }
    if (d.properties.mode === 'Complete' && scope.resourceGroup) {
      const errors = await this.deleteUnlisted(call, scope.resourceGroup.id, d.id, plan.steps, record);
      await recorder.flush();
      if (errors.length > 0) return this.finish(d, 'Failed', { error: { code: 'DeploymentFailed', target: d.id, message: DEPLOYMENT_FAILED_MESSAGE, details: errors } });
    }
    let outputs: Record<string, { type: string; value: unknown }>;
    try {
      outputs = await plan.outputs();
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      return this.finish(d, 'Failed', { error: { code: 'DeploymentOutputEvaluationFailed', target: d.id, message: `Unable to evaluate template outputs. ${String(e.message ?? err)}`, details: [{ code: typeof e.code === 'string' ? e.code : 'InvalidTemplate', message: String(e.message ?? err) }] } });
    }
    const outputResources = plan.steps.filter((s) => !s.existing).map((s) => ({ id: s.id }));
    return this.finish(d, 'Succeeded', { outputs, outputResources });
  }

  private async finish(d: StoredDeployment, state: 'Succeeded' | 'Failed' | 'Canceled', extra: { error?: ErrorResponse; outputs?: StoredDeployment['properties']['outputs']; outputResources?: Array<{ id: string }> }): Promise<void> {
    d.properties.provisioningState = state;
    d.properties.duration = isoDuration(Date.now() - d.startedAt);
    if (extra.error) d.properties.error = extra.error;
    if (extra.outputs) d.properties.outputs = extra.outputs;
    if (extra.outputResources) d.properties.outputResources = extra.outputResources;
    // A deployment always ends: if the database is unreachable (PostgreSQL restarting), the end is
    // written once it answers again, rather than the deployment staying Running for good. Given up
    // at shutdown only (the next start marks it interrupted).
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.store.put(DEPLOYMENTS, keyOf(d.id), d);
        return;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || this.closing) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Complete mode: the group's top-level resources the template does not declare are deleted,
   * each through a DELETE as the caller (so the caller needs delete rights on them).
   */
  private async deleteUnlisted(call: ReturnType<typeof armCall>, groupId: string, deploymentId: string, steps: ExecStep[], record: (op: StoredOperation) => Promise<void>): Promise<ErrorResponse[]> {
    const declared = new Set(steps.map((s) => keyOf(s.id)));
    const groupKey = keyOf(groupId);
    const errors: ErrorResponse[] = [];
    const inGroup = await this.store.list<StoredResource>(RESOURCES, { prefix: groupKey + '/' });
    // Top-level resources only: `/providers/{ns}/{type}/{name}` below the group; children go with their parent.
    const unlisted = inGroup.filter((e) => e.key.slice(groupKey.length).split('/').length === 5 && !declared.has(e.key));
    await Promise.all(
      unlisted.map(async ({ value: r }) => {
        const started = Date.now();
        const operationId = newOperationId();
        const res = await call('DELETE', r.id, await defaultApiVersion(r.id));
        const ok = res.status >= 200 && res.status < 300;
        const error = ok ? undefined : errorOf(res, r.id);
        if (error) errors.push(error);
        await record({
          id: `${deploymentId}/operations/${operationId}`,
          operationId,
          properties: {
            provisioningOperation: 'Delete',
            provisioningState: ok ? 'Succeeded' : 'Failed',
            timestamp: new Date(started).toISOString(),
            duration: isoDuration(Date.now() - started),
            trackingId: randomUUID(),
            serviceRequestId: randomUUID(),
            statusCode: statusName(res.status),
            statusMessage: ok ? { status: 'OK' } : { status: 'Failed', error },
            targetResource: { id: r.id, resourceType: r.type, resourceName: r.name },
          },
        });
      }),
    );
    return errors;
  }

  /**
   * A nested deployment: a real child deployment at the scope its id names (another resource
   * group, the subscription), under the same write check as a PUT, planned with the outer
   * scope when the template asks for it, and waited for.
   */
  private async nested(caller: Caller, step: ExecStep, location: string): Promise<InternalResponse> {
    try {
      const segs = step.id.split('/');
      const p = segs.map((x) => x.toLowerCase()).lastIndexOf('providers');
      const scope = await this.resolveScope(segs.slice(0, p).join('/'));
      const name = segs[segs.length - 1]!;
      const id = `${scope.id}/providers/${DEPLOYMENT_TYPE}/${name}`;
      this.arm.authorizer.check(caller, ACTIONS.write, id);
      if (this.runs.has(keyOf(id))) throw new ArmError(409, 'DeploymentActive', `The deployment '${name}' is already running.`);
      const prepared = await step.nested!.prepare();
      // The template and parameters come evaluated from the outer template; a nested deployment
      // at subscription scope is recorded where the outer one is.
      const input = this.parseRequest({ location: scope.resourceGroup ? undefined : location, properties: { mode: step.nested!.mode || 'Incremental', template: prepared.template, parameters: prepared.parameters } }, scope);
      const plan = await this.plan(caller, scope, name, input, prepared.options);
      const d = await this.start(caller, scope, id, name, input, plan, await this.find(id));
      await this.settled(d.id);
      const done = (await this.find(d.id))!;
      if (done.properties.provisioningState === 'Succeeded') return { status: 200, headers: {}, body: deploymentView(done) };
      return { status: 400, headers: {}, body: { error: done.properties.error ?? { code: 'DeploymentFailed', message: `The nested deployment '${name}' ended ${done.properties.provisioningState}.` } } };
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      return { status: err.status, headers: {}, body: { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } } };
    }
  }

  private async cancel(res: ServerResponse, caller: Caller, id: string, name: string): Promise<void> {
    await this.get(caller, id, name, ACTIONS.cancel);
    const run = this.runs.get(keyOf(id));
    if (!run) throw new ArmError(409, 'DeploymentCannotBeCancelled', `The deployment '${name}' cannot be canceled: only a deployment that is running can be canceled.`);
    run.abort.abort();
    return sendEmpty(res, 204);
  }

  private async delete(req: Request, res: ServerResponse, caller: Caller, scope: DeploymentScope, id: string, name: string): Promise<void> {
    this.arm.authorizer.check(caller, ACTIONS.delete, id);
    const key = keyOf(id);
    if (!(await this.find(id))) return sendEmpty(res, 204);
    if (this.runs.has(key)) throw new ArmError(409, 'DeploymentActive', `The deployment '${name}' is running and cannot be deleted. Cancel it first.`);
    // Deleting a deployment removes its history only; the resources it created stay (as in Azure).
    const ops = await this.store.list(DEPLOYMENT_OPERATIONS, { prefix: key + '/operations/' });
    await this.store.apply([...ops.map((e) => ({ op: 'delete' as const, kind: DEPLOYMENT_OPERATIONS, key: e.key })), { op: 'delete', kind: DEPLOYMENTS, key }]);
    const location = `https://${req.header('host') ?? 'management.azure.com'}/subscriptions/${scope.subscriptionId}/operationresults/${randomUUID()}?api-version=${encodeURIComponent(req.query.get('api-version') ?? '')}`;
    return sendEmpty(res, 202, { location, 'retry-after': '0' });
  }

  private async validate(x: ExtensionContext, scope: DeploymentScope, id: string, name: string): Promise<void> {
    this.arm.authorizer.check(x.caller, ACTIONS.validate, id);
    const input = this.parseRequest(await x.body(), scope);
    let plan: ExecPlan;
    try {
      plan = await this.plan(x.caller, scope, name, input);
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      const details = err.details;
      return sendJson(x.res, 400, { error: { code: err.code, message: err.message, ...(err.target ? { target: err.target } : {}), ...(details ? { details } : {}) } });
    }
    return sendJson(x.res, 200, {
      id,
      name,
      type: DEPLOYMENT_TYPE,
      ...(input.location ? { location: input.location } : {}),
      properties: {
        templateHash: templateHash(input.template),
        parameters: plan.parameters,
        mode: input.mode,
        provisioningState: 'Succeeded',
        timestamp: new Date().toISOString(),
        duration: 'PT0S',
        correlationId: randomUUID(),
        providers: providersOf(plan.steps),
        dependencies: dependenciesOf(plan.steps),
        validatedResources: plan.steps.map((s) => ({ id: s.id })),
      },
    });
  }
}

/**
 * Deployment operations are written in batches (every few milliseconds, and at the end of the
 * run): one durable write per resource state change would cost more than the resource itself.
 */
class OperationRecorder {
  private pending = new Map<string, StoredOperation>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store) {}

  record(op: StoredOperation): void {
    // The same object is updated in place (Running, then its end), so the latest state is what is written.
    this.pending.set(keyOf(op.id), op);
    this.timer ??= setTimeout(() => void this.flush().catch((err: unknown) => console.error('mimic: deployment operations not recorded:', err)), OPERATION_FLUSH_MS);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending].map(([key, value]) => ({ op: 'put' as const, kind: DEPLOYMENT_OPERATIONS, key, value }));
    this.pending.clear();
    this.writing = this.writing.then(() => (batch.length > 0 ? this.store.apply(batch) : undefined));
    await this.writing;
  }
}

const OPERATION_FLUSH_MS = 25;

/** Azure's templateHash is a decimal number derived from the template's content. */
function templateHash(template: Record<string, unknown>): string {
  return BigInt('0x' + createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 16)).toString();
}

function providersOf(steps: ExecStep[]): StoredDeployment['properties']['providers'] {
  const byNs = new Map<string, Set<string>>();
  for (const s of steps) {
    const [ns, ...rest] = s.type.split('/');
    (byNs.get(ns!) ?? byNs.set(ns!, new Set()).get(ns!)!).add(rest.join('/'));
  }
  return [...byNs].map(([namespace, types]) => ({ namespace, resourceTypes: [...types].map((resourceType) => ({ resourceType, locations: [] })) }));
}

function dependenciesOf(steps: ExecStep[]): StoredDeployment['properties']['dependencies'] {
  const byKey = new Map(steps.map((s) => [keyOf(s.id), s]));
  return steps
    .filter((s) => s.dependsOn.length > 0)
    .map((s) => ({
      id: s.id,
      resourceType: s.type,
      resourceName: s.name,
      dependsOn: s.dependsOn.map((d) => byKey.get(keyOf(d))).filter((t): t is ExecStep => t !== undefined).map((t) => ({ id: t.id, resourceType: t.type, resourceName: t.name })),
    }));
}

/** For a GET or DELETE the template gave no api-version for: the newest the catalog accepts. */
async function defaultApiVersion(id: string): Promise<string> {
  const segs = id.split('/').filter((s) => s.length > 0);
  const p = segs.map((s) => s.toLowerCase()).lastIndexOf('providers');
  if (p < 0) return FALLBACK_API_VERSION;
  const namespace = segs[p + 1]!;
  if (namespace.toLowerCase() === 'microsoft.authorization') return '2022-04-01';
  const types = segs.slice(p + 2).filter((_, i) => i % 2 === 0);
  const versions = lookupType(namespace, types).versions;
  return versions && versions.length > 0 ? [...versions].filter((v) => !v.includes('preview')).sort().pop() ?? versions[versions.length - 1]! : FALLBACK_API_VERSION;
}

/** Types without a version list accept any well-formed api-version. */
const FALLBACK_API_VERSION = '2023-01-01';

/** Lets pending I/O (other requests, a cancel) be served: the store may resolve without ever reaching the event loop. */
export const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

function methodNotAllowed(req: Request): ArmError {
  return new ArmError(405, 'MethodNotAllowed', `The HTTP method '${req.method}' is not supported for '${req.path}'.`);
}
