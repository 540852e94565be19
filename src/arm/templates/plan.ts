// Template processing: validation, parameters, variables, resource expansion (copy loops, child
// resources, symbolic names, extension scopes), dependencies (explicit and implicit), outputs.
// Everything that can fail before a resource is created fails here with InvalidTemplate.
import type { DeploymentPlan, NestedDeployment, PlanOptions, PlannedResource, TemplateHost } from './index.js';
import { ExpressionError, TemplateError, type TemplateErrorDetail } from './errors.js';
import { checkExpr, defaultNewGuid, evaluateExpr, evaluateValue, expandCopy, NeedsRuntime, type Ctx, type UserFunction } from './evaluate.js';
import { isExpression, parseExpression, type Expr } from './parser.js';
import { defaultEnvironment } from './environment.js';
import { locateTemplatePath } from './sourceMap.js';
import { deepEqual, isObject, toStringValue, typeName, type Obj } from './values.js';

const PREFIX = 'Deployment template validation failed: ';
const invalid = (message: string, target?: string, details?: TemplateErrorDetail[]) => new TemplateError('InvalidTemplate', `${PREFIX}'${message}'.`, target, details);

/** Resource fields that are not part of the body sent to the resource provider. */
const NON_BODY = new Set(['name', 'type', 'apiversion', 'dependson', 'condition', 'copy', 'scope', 'comments', 'existing', 'resources', 'subscriptionid', 'resourcegroup', 'import', 'metadata']);

const PARAM_TYPES = new Set(['string', 'securestring', 'int', 'bool', 'object', 'secureobject', 'array']);

interface RawResource {
  def: Obj;
  path: string;
  symbol?: string;
  parent?: { type: string; nameExpr: unknown[]; key?: string };
}

export async function planDeployment(template: unknown, parameters: Record<string, unknown>, host: TemplateHost, opts: PlanOptions = {}): Promise<DeploymentPlan> {
  try {
    return await plan(template, parameters, host, opts);
  } catch (e) {
    throw opts.source && e instanceof TemplateError ? withPosition(e, opts.source) : e;
  }
}

/** Adds Azure's "line 'L' and column 'C'" for the error's template path. */
function withPosition(e: TemplateError, source: string): TemplateError {
  if (!e.target) return e;
  const pos = locateTemplatePath(source, e.target) ?? locateTemplatePath(source, `parameters.${e.target}`);
  if (!pos) return e;
  const message = e.message.replace(/'\.$/, `' at line '${pos.line}' and column '${pos.column}'.`);
  return new TemplateError(e.code, message === e.message ? `${e.message} Line '${pos.line}', column '${pos.column}'.` : message, e.target, e.details);
}

async function plan(template: unknown, parameters: Record<string, unknown>, host: TemplateHost, opts: PlanOptions): Promise<DeploymentPlan> {
  if (!isObject(template)) throw invalid('The template must be a JSON object');
  if (typeof template.$schema !== 'string') throw invalid("Required property '$schema' not found in JSON", '$schema');
  if (typeof template.contentVersion !== 'string') throw invalid("Required property 'contentVersion' not found in JSON", 'contentVersion');
  const languageVersion = typeof template.languageVersion === 'string' ? template.languageVersion : undefined;
  const symbolic = languageVersion !== undefined && Number.parseFloat(languageVersion) >= 2;
  if (symbolic ? !isObject(template.resources) : template.resources !== undefined && !Array.isArray(template.resources)) {
    throw invalid(symbolic ? "The 'resources' of a template with languageVersion '2.0' must be an object of symbolic names" : "The 'resources' property must be an array", 'resources');
  }
  const userFunctions = readUserFunctions(template.functions);
  staticCheck(template, userFunctions);

  const now = host.now?.() ?? new Date();
  const env = () => host.environment?.() ?? defaultEnvironment();

  // ---- parameters ----
  const defs = isObject(template.parameters) ? template.parameters : {};
  const defNames = new Map(Object.keys(defs).map((k) => [k.toLowerCase(), k]));
  const unknown = Object.keys(parameters).filter((k) => !defNames.has(k.toLowerCase()));
  if (unknown.length) {
    throw new TemplateError('InvalidTemplate', `${PREFIX}'The template parameters '${unknown.join(', ')}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '${Object.keys(defs).join(', ')}'. Please see https://aka.ms/arm-pass-parameter-values for usage details.'.`);
  }
  const given = new Map(Object.entries(parameters).map(([k, v]) => [k.toLowerCase(), v]));
  const paramValues = new Map<string, unknown>();
  const paramPending = new Set<string>();
  const variableValues = new Map<string, unknown>();
  const variablePending = new Map<string, Promise<unknown>>();
  const varDefs = isObject(template.variables) ? template.variables : {};
  const varNames = new Map(Object.keys(varDefs).filter((k) => k !== 'copy').map((k) => [k.toLowerCase(), k]));
  const varCopies = new Map<string, Obj>();
  if (Array.isArray(varDefs.copy)) {
    for (const c of varDefs.copy) if (isObject(c) && typeof c.name === 'string') varCopies.set(c.name.toLowerCase(), c);
  }

  const resolvers: { resolve: Ctx['resolveResource'] } = { resolve: () => undefined };
  const baseCtx: Ctx = {
    host,
    loops: [],
    now,
    newGuid: host.newGuid ?? defaultNewGuid,
    symbolic,
    environment: env,
    userFunctions,
    resolveResource: (t) => resolvers.resolve(t),
    parameter: (name) => {
      const lower = name.toLowerCase();
      if (paramValues.has(lower)) return paramValues.get(lower);
      if (opts.outer && !defNames.has(lower)) {
        const o = Object.keys(opts.outer.parameters).find((k) => k.toLowerCase() === lower);
        if (o !== undefined) return opts.outer.parameters[o];
      }
      throw new ExpressionError(`The template parameter '${name}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.`);
    },
    variable: async (name) => {
      const lower = name.toLowerCase();
      if (variableValues.has(lower)) return variableValues.get(lower);
      // Variables are all evaluated, one at a time, while planning: one still pending is a cycle.
      if (variablePending.has(lower)) {
        throw new ExpressionError(`The template variable '${name}' is referenced circularly.`);
      }
      const real = varNames.get(lower);
      const copy = varCopies.get(lower);
      if (real === undefined && !copy) {
        if (opts.outer) {
          const o = Object.keys(opts.outer.variables).find((k) => k.toLowerCase() === lower);
          if (o !== undefined) return opts.outer.variables[o];
        }
        throw new ExpressionError(`The template variable '${name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details.`);
      }
      const p = (async () => {
        try {
          return copy ? await expandCopy(copy, varCtx, copy.name as string) : await evaluateValue(varDefs[real!], varCtx);
        } catch (e) {
          throw annotate(e, `variables.${real ?? name}`);
        }
      })();
      variablePending.set(lower, p);
      const v = await p;
      variableValues.set(lower, v);
      return v;
    },
  };
  // Variables and parameter defaults cannot read resources (Azure evaluates them before any deployment).
  const varCtx: Ctx = { ...baseCtx, resolveResource: () => undefined, scan: () => { throw new ExpressionError("The template function 'reference' is not expected at this location."); } };

  const paramDetails: TemplateErrorDetail[] = [];
  const declaredTypes = new Map<string, string>();
  const resolveParam = async (lower: string): Promise<void> => {
    if (paramValues.has(lower) || paramPending.has(lower)) return;
    paramPending.add(lower);
    const name = defNames.get(lower)!;
    const d0 = defs[name];
    // languageVersion 2.0 (Bicep user-defined types): `$ref` to `definitions`; the referenced type's
    // base type is checked, its inner constraints are not.
    const d = isObject(d0) && typeof d0.$ref === 'string' && d0.type === undefined ? { ...d0, type: refType(template, d0.$ref) } : d0;
    if (!isObject(d) || typeof d.type !== 'string' || !PARAM_TYPES.has(d.type.toLowerCase())) {
      throw invalid(`The template parameter '${name}' has an invalid type '${isObject(d) ? String(d.type) : typeName(d)}'. The supported types are 'String, SecureString, Int, Bool, Object, SecureObject, Array'`, `parameters.${name}`);
    }
    const type = d.type.toLowerCase();
    declaredTypes.set(lower, d.type);
    let value: unknown;
    if (given.has(lower)) {
      const g = given.get(lower);
      if (isObject(g) && 'reference' in g && !('value' in g)) {
        throw new TemplateError('InvalidTemplateDeployment', `The template parameter '${name}' is a Key Vault reference. Mimic does not resolve Key Vault references in parameters; pass the value directly.`, name);
      }
      value = isObject(g) && 'value' in g ? g.value : g;
      value = coerce(type, value);
    } else if ('defaultValue' in d) {
      // Defaults may use parameters() of other parameters, utcNow() and newGuid().
      const ctx: Ctx = {
        ...varCtx,
        allowNonDeterministic: true,
        parameter: (n) => {
          const l = n.toLowerCase();
          if (paramValues.has(l)) return paramValues.get(l);
          if (!defNames.has(l)) return baseCtx.parameter(n);
          throw new NeedParam(l);
        },
      };
      for (;;) {
        try {
          value = await evaluateValue(d.defaultValue, ctx);
          break;
        } catch (e) {
          if (e instanceof NeedParam) {
            if (paramPending.has(e.param)) throw invalid(`The template parameter '${defNames.get(e.param)}' is referenced circularly`, `parameters.${name}.defaultValue`);
            await resolveParam(e.param);
            continue;
          }
          throw annotate(e, `parameters.${name}.defaultValue`);
        }
      }
    } else if (d.nullable === true) {
      paramValues.set(lower, null);
      paramPending.delete(lower);
      return;
    } else {
      paramPending.delete(lower);
      paramDetails.push({ code: 'InvalidTemplate', message: `The value for the template parameter '${name}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.`, target: name });
      paramValues.set(lower, null);
      return;
    }
    const problem = checkParameter(name, type, d, value);
    if (problem) paramDetails.push({ code: 'InvalidTemplate', message: problem, target: name });
    paramValues.set(lower, value);
    paramPending.delete(lower);
  };
  for (const lower of defNames.keys()) await resolveParam(lower);
  if (paramDetails.length === 1) throw invalid(paramDetails[0]!.message.replace(/\.$/, ''), paramDetails[0]!.target);
  if (paramDetails.length > 1) {
    throw new TemplateError('InvalidTemplate', `${PREFIX}'${paramDetails.map((d) => d.message).join(' ')}'.`, undefined, paramDetails);
  }

  // ---- variables (all evaluated now: they cannot depend on resources) ----
  for (const lower of [...varNames.keys(), ...varCopies.keys()]) await baseCtx.variable(lower);
  const variables: Record<string, unknown> = {};
  for (const [lower, real] of varNames) variables[real] = variableValues.get(lower);
  for (const [lower, c] of varCopies) variables[String(c.name)] = variableValues.get(lower);

  // ---- resources ----
  const raws: RawResource[] = [];
  const collect = (list: unknown, pathPrefix: string, parent?: RawResource['parent']) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw invalid(`The 'resources' property at '${pathPrefix}' must be an array`, pathPrefix);
    list.forEach((r, i) => {
      const path = `${pathPrefix}[${i}]`;
      if (!isObject(r)) throw invalid(`The template resource at '${path}' must be an object`, path);
      raws.push({ def: r, path, parent });
      if (r.resources !== undefined) collect(r.resources, `${path}.resources`, { type: String(r.type), nameExpr: [...(parent?.nameExpr ?? []), r.name] });
    });
  };
  if (symbolic) {
    for (const [sym, r] of Object.entries(template.resources as Obj)) {
      if (!isObject(r)) throw invalid(`The template resource '${sym}' must be an object`, `resources.${sym}`);
      raws.push({ def: r, path: `resources.${sym}`, symbol: sym });
    }
  } else {
    collect(template.resources ?? [], 'resources');
  }

  const planned: PlannedResource[] = [];
  const declaredLoops = new Set<string>();
  const internal: Array<{ res: PlannedResource; raw: RawResource; ctx: Ctx; explicit: unknown[] }> = [];
  for (const raw of raws) {
    const r = raw.def;
    for (const f of ['type', 'apiVersion'] as const) {
      if (typeof r[f] !== 'string' && !(f === 'apiVersion' && r.existing === true && symbolic)) throw invalid(`Required property '${f}' not found in JSON`, `${raw.path}.${f}`);
    }
    if (r.name === undefined) throw invalid("Required property 'name' not found in JSON", `${raw.path}.name`);
    let instances: Array<{ ctx: Ctx; copy?: PlannedResource['copy'] }> = [{ ctx: baseCtx }];
    if (r.copy !== undefined) {
      const c = r.copy;
      if (!isObject(c) || typeof c.name !== 'string') throw invalid("The copy property of a resource must be an object with 'name' and 'count'", `${raw.path}.copy`);
      const count = await evalAt(c.count, varCtx, `${raw.path}.copy.count`);
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 800) {
        throw invalid(`The template resource '${raw.path}' copy count must be a non-negative integer not greater than 800; got '${toStringValue(count)}'`, `${raw.path}.copy.count`);
      }
      const mode = String(c.mode ?? 'parallel').toLowerCase() === 'serial' ? 'serial' : 'parallel';
      const batchSize = c.batchSize === undefined ? undefined : await evalAt(c.batchSize, varCtx, `${raw.path}.copy.batchSize`);
      if (batchSize !== undefined && (typeof batchSize !== 'number' || batchSize < 1)) throw invalid('The copy batchSize must be a positive integer', `${raw.path}.copy.batchSize`);
      // A loop of zero still names something dependsOn may list.
      declaredLoops.add((c.name as string).toLowerCase());
      if (raw.symbol) declaredLoops.add(raw.symbol.toLowerCase());
      instances = Array.from({ length: count }, (_, index) => ({
        ctx: { ...baseCtx, loops: [{ name: c.name as string, index }] },
        copy: { name: c.name as string, index, count, mode, ...(mode === 'serial' ? { batchSize: (batchSize as number | undefined) ?? 1 } : {}) },
      }));
    }
    for (const inst of instances) {
      const ctx = inst.ctx;
      const sctx: Ctx = { ...ctx, resolveResource: () => undefined, scan: varCtx.scan };
      const condition = r.condition === undefined ? true : await evalAt(r.condition, sctx, `${raw.path}.condition`);
      if (typeof condition !== 'boolean') throw invalid(`The template resource '${raw.path}' condition must evaluate to a boolean; got '${typeName(condition)}'`, `${raw.path}.condition`);
      let type = r.type as string;
      let name = toStringValue(await evalAt(r.name, sctx, `${raw.path}.name`));
      if (raw.parent && !type.includes('.')) {
        // A nested child: `type` and `name` are relative to the parent's.
        type = `${raw.parent.type}/${type}`;
        const parentNames: string[] = [];
        for (const pn of raw.parent.nameExpr) parentNames.push(toStringValue(await evalAt(pn, sctx, `${raw.path}.name`)));
        name = `${parentNames.join('/')}/${name}`;
      } else if (raw.parent) {
        const parentNames: string[] = [];
        for (const pn of raw.parent.nameExpr) parentNames.push(toStringValue(await evalAt(pn, sctx, `${raw.path}.name`)));
        if (name.split('/').length < type.split('/').length - 1) name = `${parentNames.join('/')}/${name}`;
      }
      const subscriptionId = r.subscriptionId !== undefined ? toStringValue(await evalAt(r.subscriptionId, sctx, `${raw.path}.subscriptionId`)) : host.subscriptionId;
      let resourceGroup = r.resourceGroup !== undefined ? toStringValue(await evalAt(r.resourceGroup, sctx, `${raw.path}.resourceGroup`)) : r.subscriptionId !== undefined ? undefined : host.resourceGroup?.name;
      let scope = r.scope !== undefined ? toStringValue(await evalAt(r.scope, sctx, `${raw.path}.scope`)) : undefined;
      // Older form of extension resources: type `X/t/providers/Y/u`, name `n/Y/m`.
      const pm = /^([^/]+(?:\/[^/]+)+?)\/providers\/(.+)$/i.exec(type);
      if (pm && !scope) {
        const baseTypeDepth = pm[1]!.split('/').length - 1;
        const parts = name.split('/');
        const baseName = parts.slice(0, baseTypeDepth).join('/');
        scope = `${rgPrefix(subscriptionId, resourceGroup)}/providers/${interleave(pm[1]!, baseName)}`;
        // The extension's namespace is in the name (`kv/Microsoft.Authorization/ra1`) unless the type has it.
        if (pm[2]!.includes('.')) {
          type = pm[2]!;
          name = parts.slice(baseTypeDepth + 1).join('/');
        } else {
          type = `${parts[baseTypeDepth]}/${pm[2]}`;
          name = parts.slice(baseTypeDepth + 1).join('/');
        }
      }
      const depth = type.split('/').length - 1;
      if (name.split('/').length !== depth) {
        throw invalid(`The template resource '${name}' for type '${type}' at line '1' and column '1' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name`, `${raw.path}.name`);
      }
      if (type.toLowerCase() === 'microsoft.resources/resourcegroups') resourceGroup = undefined;
      const res: PlannedResource = {
        key: '',
        id: '',
        type,
        name,
        apiVersion: typeof r.apiVersion === 'string' ? r.apiVersion : '',
        subscriptionId,
        ...(resourceGroup !== undefined ? { resourceGroup } : {}),
        existing: r.existing === true,
        condition,
        dependsOn: [],
        templatePath: raw.symbol ?? raw.path,
        ...(inst.copy ? { copy: inst.copy } : {}),
        body: async () => ({}),
        ...(scope !== undefined ? { scope } : {}),
      };
      planned.push(res);
      internal.push({ res, raw, ctx, explicit: Array.isArray(r.dependsOn) ? r.dependsOn : r.dependsOn === undefined ? [] : [r.dependsOn] });
    }
  }

  // Symbols first (scopes may name them), then ids.
  const bySymbol = new Map<string, PlannedResource[]>();
  for (const { res, raw } of internal) if (raw.symbol) push(bySymbol, raw.symbol.toLowerCase(), res);
  for (const { res } of internal) {
    if (res.scope !== undefined) {
      const symTarget = bySymbol.get(res.scope.toLowerCase());
      if (symTarget && symbolic) res.scope = idOf(symTarget[0]!, host);
      else if (!res.scope.startsWith('/')) {
        // A scope relative to the resource group: `Microsoft.KeyVault/vaults/name`.
        const t = res.scope.split('/');
        res.scope = `${rgPrefix(res.subscriptionId, res.resourceGroup)}/providers/${t[0]}/${t.slice(1).join('/')}`;
      }
    }
    res.id = idOf(res, host);
  }
  const byId = new Map<string, PlannedResource>();
  const byName = new Map<string, PlannedResource[]>();
  const byLoop = new Map<string, PlannedResource[]>();
  for (const { res, raw } of internal) {
    const key = raw.symbol ? (res.copy ? `${raw.symbol}[${res.copy.index}]` : raw.symbol) : res.id;
    res.key = key;
    if (raw.symbol && res.copy) push(bySymbol, key.toLowerCase(), res);
    const idl = res.id.toLowerCase();
    if (byId.has(idl) && !raw.symbol) {
      throw invalid(`The resource '${res.id}' at line '1' and column '1' is defined multiple times in a template. Please see https://aka.ms/arm-syntax-resources for usage details`, res.templatePath);
    }
    byId.set(idl, res);
    // subscriptionResourceId('Microsoft.Resources/resourceGroups', name) (what Bicep emits for a
    // group the template creates) names the group in the provider form; both forms mean it.
    if (res.type.toLowerCase() === 'microsoft.resources/resourcegroups') {
      byId.set(`/subscriptions/${res.subscriptionId}/providers/microsoft.resources/resourcegroups/${res.name}`.toLowerCase(), res);
    }
    push(byName, res.name.toLowerCase(), res);
    push(byName, `${res.type}/${res.name}`.toLowerCase(), res);
    push(byName, interleave(res.type, res.name).toLowerCase(), res);
    if (res.copy) push(byLoop, res.copy.name.toLowerCase(), res);
  }

  const resolveRef = (target: string): PlannedResource[] | undefined => {
    const l = target.toLowerCase();
    if (symbolic && bySymbol.has(l)) return bySymbol.get(l);
    const hit = byId.get(l);
    if (hit) return [hit];
    if (byLoop.has(l)) return byLoop.get(l);
    if (declaredLoops.has(l)) return [];
    // Ids compare case-insensitively (byId is lower-case); anything else is a name or `type/name`.
    return l.startsWith('/') ? undefined : byName.get(l);
  };
  resolvers.resolve = (t) => {
    const hits = resolveRef(t);
    if (!hits || hits.length === 0) return undefined;
    const h = hits[0]!;
    return { id: h.id, apiVersion: h.apiVersion || undefined, key: h.key, name: h.name, type: h.type };
  };

  // ---- dependencies ----
  const externalReferences: Array<{ id: string; apiVersion?: string; templatePath: string }> = [];
  const externalSeen = new Set<string>();
  for (const { res, raw, ctx, explicit } of internal) {
    const deps = new Set<string>();
    for (let i = 0; i < explicit.length; i++) {
      const d = await evalAt(explicit[i], { ...ctx, resolveResource: () => undefined, scan: varCtx.scan }, `${raw.path}.dependsOn[${i}]`);
      const targets = typeof d === 'string' ? resolveRef(d) : undefined;
      if (!targets) {
        throw invalid(`The resource '${toStringValue(d)}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details`, `${raw.path}.dependsOn[${i}]`);
      }
      for (const t of targets) if (t !== res) deps.add(t.key);
    }
    // Implicit: reference()/list*() calls on resources of this template; the parent of a nested child.
    const found: ScanHit[] = [];
    for (const [k, v] of Object.entries(raw.def)) {
      if (NON_BODY.has(k.toLowerCase())) continue;
      if (isNestedDeployment(res) && k === 'properties' && isObject(v)) {
        for (const [pk, pv] of Object.entries(v)) if (pk !== 'template') await scanRefs(pv, ctx, found);
      } else await scanRefs(v, ctx, found);
    }
    for (const h of found) {
      const hits = resolveRef(h.target);
      if (hits) {
        for (const hit of hits) if (hit !== res) deps.add(hit.key);
      } else if (h.target.startsWith('/') && res.condition && !h.conditional && !res.existing) {
        const l = h.target.toLowerCase();
        if (!externalSeen.has(l)) {
          externalSeen.add(l);
          externalReferences.push({ id: h.target, ...(h.apiVersion ? { apiVersion: h.apiVersion } : {}), templatePath: res.templatePath });
        }
      }
    }
    if (res.scope) for (const hit of resolveRef(res.scope) ?? []) deps.add(hit.key);
    if (raw.parent || res.name.includes('/')) {
      const parentId = res.id.replace(/\/[^/]+\/[^/]+$/, '').toLowerCase();
      const p = byId.get(parentId);
      if (p && p !== res) deps.add(p.key);
    }
    res.dependsOn = [...deps];
    res.body = () => runtime(evaluateBody(raw.def, ctx, raw.path, isNestedDeployment(res)), `resource '${res.id}'`);
    if (isNestedDeployment(res)) res.nested = nestedOf(res, raw, ctx, { parameters: Object.fromEntries([...paramValues].map(([l, v]) => [defNames.get(l)!, v])), variables });
  }
  detectCycles(planned);

  const outputs = () => runtime(outputsNow(), 'the template outputs');
  const outputsNow = async () => {
    const out: Record<string, { type: string; value: unknown }> = {};
    const defsOut = isObject(template.outputs) ? template.outputs : {};
    for (const [name, o] of Object.entries(defsOut)) {
      if (!isObject(o)) continue;
      const type = String(o.type ?? 'string');
      if (/^secure/i.test(type)) continue;
      if (o.condition !== undefined && (await evalAt(o.condition, baseCtx, `outputs.${name}.condition`)) !== true) continue;
      let value: unknown;
      if (isObject(o.copy)) {
        value = await expandCopyAt(o.copy, baseCtx, `outputs.${name}.copy`);
      } else value = await evalAt(o.value, baseCtx, `outputs.${name}.value`);
      if (value !== null && value !== undefined && !matchesType(type, value)) {
        throw invalid(`The template output '${name}' is not valid: Template output JToken type is not valid. Expected '${displayType(type)}'. Actual '${typeName(value)}'`, `outputs.${name}`);
      }
      out[name] = { type: displayType(type), value };
    }
    return out;
  };

  const parametersOut: Record<string, { type: string; value: unknown }> = {};
  for (const [lower, name] of defNames) parametersOut[name] = { type: displayType(declaredTypes.get(lower) ?? 'string'), value: paramValues.get(lower) };
  return {
    resources: planned,
    externalReferences,
    parameters: parametersOut,
    variables,
    outputs,
    scope: { parameters: Object.fromEntries(Object.entries(parametersOut).map(([k, v]) => [k, v.value])), variables },
  };
}

/** The base type of a `#/definitions/name` reference (following nested `$ref`s a few levels). */
function refType(template: Obj, ref: string): string | undefined {
  let r: string | undefined = ref;
  for (let i = 0; i < 8 && r; i++) {
    const m = /^#\/definitions\/(.+)$/.exec(r);
    const defsObj = isObject(template.definitions) ? template.definitions : {};
    const def = m ? defsObj[m[1]!] : undefined;
    if (!isObject(def)) return undefined;
    if (typeof def.type === 'string') return def.type;
    r = typeof def.$ref === 'string' ? def.$ref : undefined;
  }
  return undefined;
}

class NeedParam extends Error {
  constructor(readonly param: string) {
    super(param);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** `Microsoft.Web/sites/config` + `app/web` -> `Microsoft.Web/sites/app/config/web`. */
function interleave(type: string, name: string): string {
  const t = type.split('/');
  const n = name.split('/');
  return `${t[0]}/${t.slice(1).map((x, i) => `${x}/${n[i] ?? ''}`).join('/')}`;
}

function rgPrefix(sub: string, rg: string | undefined): string {
  return rg === undefined ? `/subscriptions/${sub}` : `/subscriptions/${sub}/resourceGroups/${rg}`;
}

function idOf(r: PlannedResource, host: TemplateHost): string {
  void host;
  if (r.type.toLowerCase() === 'microsoft.resources/resourcegroups') return `/subscriptions/${r.subscriptionId}/resourceGroups/${r.name}`;
  if (r.type.toLowerCase() === 'microsoft.resources/subscriptions') return `/subscriptions/${r.name}`;
  const base = r.scope !== undefined ? r.scope.replace(/\/+$/, '') : rgPrefix(r.subscriptionId, r.resourceGroup);
  return `${base}/providers/${interleave(r.type, r.name)}`;
}

const isNestedDeployment = (r: PlannedResource) => r.type.toLowerCase() === 'microsoft.resources/deployments';

function displayType(t: string): string {
  const m: Record<string, string> = { string: 'String', securestring: 'SecureString', int: 'Int', bool: 'Bool', object: 'Object', secureobject: 'SecureObject', array: 'Array' };
  return m[t.toLowerCase()] ?? t;
}

function matchesType(type: string, v: unknown): boolean {
  switch (type.toLowerCase()) {
    case 'string': case 'securestring': return typeof v === 'string';
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'bool': return typeof v === 'boolean';
    case 'array': return Array.isArray(v);
    case 'object': case 'secureobject': return isObject(v);
    default: return true;
  }
}

/** Values from a parameters file arrive as JSON; CLI `k=v` pairs may give strings for int/bool. */
function coerce(type: string, v: unknown): unknown {
  if (type === 'int' && typeof v === 'string' && /^[-+]?\d+$/.test(v.trim())) return Number(v);
  if (type === 'bool' && typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  if ((type === 'object' || type === 'secureobject' || type === 'array') && typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

/** Type and constraint checks of a parameter value; returns Azure's message or undefined. */
function checkParameter(name: string, type: string, d: Obj, value: unknown): string | undefined {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  const ok =
    type === 'string' || type === 'securestring' ? typeof value === 'string'
    : type === 'int' ? typeof value === 'number' && Number.isInteger(value)
    : type === 'bool' ? typeof value === 'boolean'
    : type === 'array' ? Array.isArray(value)
    : isObject(value);
  if (!ok) {
    return `Template parameter JToken type is not valid. Expected '${displayType(type)}'. Actual '${typeName(value)}'. Please see https://aka.ms/arm-create-parameter-file for usage details.`;
  }
  if (Array.isArray(d.allowedValues)) {
    const allowed = d.allowedValues;
    const inList = (x: unknown) => allowed.some((a) => deepEqual(a, x) || (typeof a === 'string' && typeof x === 'string' && a.toLowerCase() === x.toLowerCase()));
    const valid = Array.isArray(value) && !allowed.some((a) => Array.isArray(a)) ? value.every(inList) : inList(value);
    if (!valid) {
      return `The provided value '${shown}' for the template parameter '${name}' is not valid. The parameter value is not part of the allowed value(s): '${allowed.map((a) => toStringValue(a)).join(',')}'.`;
    }
  }
  if (typeof value === 'number') {
    if (typeof d.minValue === 'number' && value < d.minValue) return `The provided value '${shown}' for the template parameter '${name}' is not valid. The parameter value is less than the minimum value '${d.minValue}'.`;
    if (typeof d.maxValue === 'number' && value > d.maxValue) return `The provided value '${shown}' for the template parameter '${name}' is not valid. The parameter value is greater than the maximum value '${d.maxValue}'.`;
  }
  if (typeof value === 'string' || Array.isArray(value)) {
    const hide = type === 'securestring' ? '' : ` '${shown}'`;
    if (typeof d.minLength === 'number' && value.length < d.minLength) return `The provided value${hide} for the template parameter '${name}' is not valid. Length of the value should be greater than or equal to '${d.minLength}'.`;
    if (typeof d.maxLength === 'number' && value.length > d.maxLength) return `The provided value${hide} for the template parameter '${name}' is not valid. Length of the value should be less than or equal to '${d.maxLength}'.`;
  }
  return undefined;
}

/** Turns evaluation errors into InvalidTemplate naming the template path; host errors pass through. */
function annotate(e: unknown, path: string): unknown {
  if (e instanceof ExpressionError) {
    return new TemplateError('InvalidTemplate', `${PREFIX}'The template language expression at '${path}' is not valid: ${e.message}'.`, path);
  }
  // A JavaScript error from evaluating a value (a string too long, a malformed escape) is bad
  // input, not a server fault: report it as the template's error.
  if (e instanceof RangeError || e instanceof URIError || e instanceof SyntaxError) {
    return new TemplateError('InvalidTemplate', `${PREFIX}'The template language expression at '${path}' could not be evaluated: ${e.message}'.`, path);
  }
  if (e instanceof NeedsRuntime) {
    return new TemplateError('InvalidTemplate', `${PREFIX}'The template function 'reference' is not expected at '${path}'. The function can only be used in resource properties and outputs'.`, path);
  }
  return e;
}

/**
 * Expression errors found while the deployment runs (bodies, outputs) read as Azure's: "Unable to
 * process template language expressions for resource ...", still InvalidTemplate, naming the path.
 */
async function runtime<T>(p: Promise<T>, what: string): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof TemplateError && e.code === 'InvalidTemplate' && e.message.startsWith(PREFIX)) {
      const inner = e.message.slice(PREFIX.length);
      throw new TemplateError('InvalidTemplate', `Unable to process template language expressions for ${what}. ${inner}`, e.target, e.details);
    }
    throw e;
  }
}

async function evalAt(v: unknown, ctx: Ctx, path: string): Promise<unknown> {
  try {
    return await evaluateValue(v, ctx);
  } catch (e) {
    throw annotate(e, path);
  }
}

async function expandCopyAt(c: Obj, ctx: Ctx, path: string): Promise<unknown[]> {
  try {
    return await expandCopy(c, ctx, '');
  } catch (e) {
    throw annotate(e, path);
  }
}

async function evaluateBody(def: Obj, ctx: Ctx, path: string, nested: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def)) {
    if (NON_BODY.has(k.toLowerCase())) continue;
    if (nested && k === 'properties' && isObject(v)) {
      // The inner template is the nested deployment's to evaluate.
      const props: Obj = {};
      for (const [pk, pv] of Object.entries(v)) props[pk] = pk === 'template' ? pv : await evalAt(pv, ctx, `${path}.properties.${pk}`);
      out[k] = props;
      continue;
    }
    out[k] = await evalAt(v, ctx, `${path}.${k}`);
  }
  return out;
}

function nestedOf(res: PlannedResource, raw: RawResource, ctx: Ctx, outer: { parameters: Record<string, unknown>; variables: Record<string, unknown> }): NestedDeployment {
  const props = isObject(raw.def.properties) ? raw.def.properties : {};
  const eo = isObject(props.expressionEvaluationOptions) ? props.expressionEvaluationOptions : {};
  const scope = String(eo.scope ?? 'outer').toLowerCase() === 'inner' ? 'inner' : 'outer';
  return {
    scope,
    mode: typeof props.mode === 'string' ? props.mode : 'Incremental',
    prepare: async () => {
      if (props.templateLink !== undefined && props.template === undefined) {
        throw new TemplateError('InvalidTemplateDeployment', `The nested deployment '${res.name}' uses 'templateLink'; Mimic has no internet access. Inline the template with 'template'.`, res.templatePath);
      }
      if (!isObject(props.template)) throw invalid(`The nested deployment '${res.name}' has no 'template'`, `${raw.path}.properties.template`);
      const parameters = scope === 'inner' && props.parameters !== undefined ? await evalAt(props.parameters, ctx, `${raw.path}.properties.parameters`) : {};
      return {
        template: props.template,
        parameters: isObject(parameters) ? parameters : {},
        options: scope === 'outer' ? { outer } : {},
      };
    },
  };
}

/** Reports reference()/list*() targets inside a value; the targets that need the runtime are skipped. */
interface ScanHit {
  target: string;
  apiVersion?: string;
  /** Inside a branch of if()/and()/or()/coalesce(): the call may never run. */
  conditional: boolean;
}

async function scanRefs(v: unknown, ctx: Ctx, hits: ScanHit[]): Promise<void> {
  if (typeof v === 'string') {
    if (!isExpression(v)) return;
    let e: Expr;
    try {
      e = parseExpression(v);
    } catch {
      return;
    }
    await scanExpr(e, ctx, hits, false);
  } else if (Array.isArray(v)) {
    for (const x of v) await scanRefs(x, ctx, hits);
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      await scanRefs(k, ctx, hits);
      await scanRefs(x, ctx, hits);
    }
  }
}

const CONDITIONAL_FUNCTIONS = new Set(['if', 'and', 'or', 'coalesce', 'map', 'filter', 'reduce', 'sort', 'toobject', 'lambda']);

async function scanExpr(e: Expr, ctx: Ctx, hits: ScanHit[], conditional: boolean): Promise<void> {
  if (e.kind === 'property') return scanExpr(e.target, ctx, hits, conditional);
  if (e.kind === 'index') { await scanExpr(e.target, ctx, hits, conditional); return scanExpr(e.index, ctx, hits, conditional); }
  if (e.kind !== 'call') return;
  const lower = e.name.toLowerCase();
  if ((lower === 'reference' || lower.startsWith('list')) && e.args.length > 0) {
    const quiet: Ctx = { ...ctx, scan: () => { throw new NeedsRuntime(); } };
    try {
      const t = await evaluateExpr(e.args[0]!, quiet);
      if (typeof t === 'string') {
        let apiVersion: string | undefined;
        try {
          const a = e.args.length > 1 ? await evaluateExpr(e.args[1]!, quiet) : undefined;
          if (typeof a === 'string') apiVersion = a;
        } catch {
          // an api-version that needs the runtime: the host picks one
        }
        hits.push({ target: t, ...(apiVersion ? { apiVersion } : {}), conditional });
      }
    } catch {
      // needs the runtime (a reference inside the argument) or a lambda variable: nothing static to learn
    }
  }
  const inner = conditional || CONDITIONAL_FUNCTIONS.has(lower);
  for (const a of e.args) await scanExpr(a, ctx, hits, inner);
}

/** Sections Azure never evaluates: a description such as "[Optional] name" is text there. */
const NOT_EVALUATED = new Set(['metadata', 'comments', 'allowedValues']);

/** Static validation: every expression parses and names known functions with valid argument counts. */
/** `functions: [{namespace, members: {name: {parameters: [{name, type}], output: {type, value}}}}]`. */
function readUserFunctions(fns: unknown): Map<string, UserFunction> {
  const out = new Map<string, UserFunction>();
  if (fns === undefined) return out;
  if (!Array.isArray(fns)) throw invalid("The 'functions' property must be an array", 'functions');
  fns.forEach((ns, i) => {
    if (!isObject(ns) || typeof ns.namespace !== 'string' || !isObject(ns.members)) throw invalid("A user-defined function namespace needs 'namespace' and 'members'", `functions[${i}]`);
    for (const [m, def] of Object.entries(ns.members)) {
      const name = `${ns.namespace}.${m}`;
      if (!isObject(def) || !isObject(def.output) || !('value' in def.output)) throw invalid(`The user-defined function '${name}' has no output value`, `functions[${i}].members.${m}`);
      const params = Array.isArray(def.parameters) ? def.parameters.map((p) => (isObject(p) ? String(p.name) : '')) : [];
      out.set(name.toLowerCase(), { name, params, output: def.output.value });
    }
  });
  return out;
}

function staticCheck(template: Obj, user: Map<string, UserFunction>): void {
  const problems: TemplateErrorDetail[] = [];
  const walk = (v: unknown, path: string, nestedDeployment = false): void => {
    if (typeof v === 'string') {
      if (!isExpression(v)) return;
      try {
        checkExpr(parseExpression(v), user);
      } catch (e) {
        if (e instanceof ExpressionError) problems.push({ code: 'InvalidTemplate', message: `The template language expression '${v}' at '${path}' is not valid: ${e.message}`, target: path });
        else throw e;
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (isObject(v)) {
      const isDeployment = typeof v.type === 'string' && v.type.toLowerCase() === 'microsoft.resources/deployments';
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (nestedDeployment && k === 'template') continue; // checked when the nested deployment is planned
        if (NOT_EVALUATED.has(k)) continue;
        walk(k, p);
        walk(x, p, isDeployment && k === 'properties');
      }
    }
  };
  for (const section of ['parameters', 'variables', 'resources', 'outputs', 'functions']) {
    if (section in template) walk(template[section], section);
  }
  if (problems.length === 1) throw invalid(problems[0]!.message, problems[0]!.target);
  if (problems.length > 1) throw new TemplateError('InvalidTemplate', `${PREFIX}'${problems[0]!.message}' (and ${problems.length - 1} more).`, problems[0]!.target, problems);
}

/** Iterative three-colour DFS: a back edge is a cycle, reported with the resources on it. */
function detectCycles(resources: PlannedResource[]): void {
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const state = new Map<string, 1 | 2>();
  for (const start of resources) {
    if (state.has(start.key)) continue;
    const stack: Array<{ key: string; i: number }> = [{ key: start.key, i: 0 }];
    state.set(start.key, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const deps = byKey.get(top.key)?.dependsOn ?? [];
      if (top.i >= deps.length) {
        state.set(top.key, 2);
        stack.pop();
        continue;
      }
      const next = deps[top.i++]!;
      const s = state.get(next);
      if (s === 1) {
        const from = stack.findIndex((f) => f.key === next);
        const cycle = stack.slice(from).map((f) => f.key);
        throw invalid(`Circular dependency detected on resource: '${cycle.join("' and '")}'. Please see https://aka.ms/arm-syntax-resources for usage details`, cycle[0], cycle.map((k) => ({ code: 'CircularDependency', message: `The resource '${k}' is part of a dependency cycle.`, target: k })));
      }
      if (s === undefined) {
        state.set(next, 1);
        stack.push({ key: next, i: 0 });
      }
    }
  }
}

