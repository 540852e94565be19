// The advisor on Mimic's Resource Manager, as the extension namespace `Mimic.Advisor`:
//   GET    /subscriptions/{s}/providers/Mimic.Advisor/recommendations[?principalId=|resourceId=][&$format=sarif]
//          recommendations per principal (all principals with uses or assignments by default)
//          and the findings; needs Microsoft.Authorization/roleAssignments/read at the subscription.
//   DELETE /subscriptions/{s}/providers/Mimic.Advisor/usage
//          clears the usage record; needs Microsoft.Authorization/roleAssignments/write there.
// Optional query parameters: scopeThreshold (N), namingPattern (a regular expression).
import type { AppContext } from '../server/context.js';
import type { AuthorizationContext } from '../arm/authorization/context.js';
import type { ExtensionContext } from '../arm/router.js';
import { ArmError } from '../arm/errors.js';
import { RESOURCES, type StoredResource } from '../arm/model.js';
import { sendJson } from '../server/http.js';
import type { RoleAssignment } from '../authz/index.js';
import { RoleCatalog } from './catalog.js';
import { DEFAULT_NAMING_PATTERN, findings, type Finding, type PrincipalFacts } from './findings.js';
import { DEFAULT_SCOPE_THRESHOLD, Recommender, type Recommendation } from './recommend.js';
import { toSarif } from './sarif.js';
import { canonicalScope, isWithin } from './scopes.js';
import type { UsageEntry, UsageRecorder } from './usage.js';

export const ADVISOR_NAMESPACE = 'Mimic.Advisor';
export const ADVISOR_API_VERSIONS = ['2026-01-01'];
const TOOL_VERSION = '1.0.0';
const VAULT_KEY = /\/providers\/microsoft\.keyvault\/vaults\/[^/]+$/;

export interface AdvisorReport {
  value: Recommendation[];
  findings: Finding[];
  summary: { high: number; medium: number; low: number; usageRows: number; dropped: number };
}

export interface AdvisorQuery {
  principalId?: string;
  resourceId?: string;
  scopeThreshold?: number;
  namingPattern?: string;
}

export class Advisor {
  private catalog: { key: string; catalog: RoleCatalog } | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly usage: UsageRecorder,
    private readonly auth: () => AuthorizationContext | undefined,
  ) {}

  /** Rebuilt only when the role definitions change (built-ins never do; custom roles may). */
  private roles(): RoleCatalog {
    const defs = this.ctx.authz.roleDefinitions();
    // Built-in roles never change; custom roles are few, so their text is the key.
    const key = `${defs.length}:${JSON.stringify(defs.filter((d) => d.roleType !== 'BuiltInRole'))}`;
    if (this.catalog?.key !== key) this.catalog = { key, catalog: new RoleCatalog(defs) };
    return this.catalog.catalog;
  }

  async report(q: AdvisorQuery): Promise<AdvisorReport> {
    const auth = this.auth();
    const catalog = this.roles();
    const principals = new Map<string, PrincipalFacts>();
    for (const sp of this.ctx.directory.all()) principals.set(sp.objectId.toLowerCase(), sp);
    const assignments: RoleAssignment[] = auth ? [...auth.feed.assignments.values()] : [];
    const subscriptionScope = `/subscriptions/${this.ctx.tenant.subscriptionId}`;
    let targets: string[] | undefined;
    if (q.principalId) targets = [this.resolvePrincipal(q.principalId, principals)];
    else if (q.resourceId) targets = await this.principalsOfResource(q.resourceId, principals);
    const usage = await this.usage.read(targets);
    if (targets === undefined) {
      const all = new Set<string>();
      for (const u of usage) all.add(u.principalId.toLowerCase());
      for (const a of assignments) if (principals.has(a.principalId.toLowerCase())) all.add(a.principalId.toLowerCase());
      targets = [...all].sort();
    }
    const usageOf = groupBy(usage, (u) => u.principalId.toLowerCase());
    const recommender = new Recommender(catalog, {
      scopeThreshold: q.scopeThreshold ?? positiveInt(this.ctx.env.MIMIC_ADVISOR_SCOPE_THRESHOLD) ?? DEFAULT_SCOPE_THRESHOLD,
      subscriptionScope,
      explain: (req) => this.ctx.authz.explain(req),
    });
    const targetSet = new Set(targets);
    const mine = assignments.filter((a) => targetSet.has(a.principalId.toLowerCase()));
    const assignmentsOf = groupBy(mine, (a) => a.principalId.toLowerCase());
    const value = targets.map((id) =>
      recommender.recommend({
        principalId: id,
        ...(principals.get(id)?.displayName ? { displayName: principals.get(id)!.displayName } : {}),
        usage: usageOf.get(id) ?? [],
        assignments: assignmentsOf.get(id) ?? [],
      }),
    );
    const everything = !q.principalId && !q.resourceId;
    const pattern = q.namingPattern ?? this.ctx.env.MIMIC_ADVISOR_NAMING_PATTERN ?? DEFAULT_NAMING_PATTERN;
    const list = findings({
      catalog,
      principals,
      // Orphaned assignments and vaults belong to no principal: reported for the whole subscription or a resource.
      assignments: everything ? assignments : q.resourceId ? [...mine, ...assignments.filter((a) => !principals.has(a.principalId.toLowerCase()) && isWithin(a.scope, q.resourceId!))] : mine,
      vaults: everything || q.resourceId ? (await this.vaults()).filter((v) => everything || isWithin(v.id, q.resourceId!)) : [],
      recommendations: value,
      usage,
      identities: everything ? [...principals.values()] : targets.map((t) => principals.get(t)).filter((p): p is PrincipalFacts => p !== undefined),
      namingPattern: compilePattern(pattern),
    });
    const count = (s: string) => list.filter((f) => f.severity === s).length;
    return { value, findings: list, summary: { high: count('high'), medium: count('medium'), low: count('low'), usageRows: this.usage.size(), dropped: this.usage.dropped } };
  }

  /** An object id, an application (client) id, or the ARM id of an identity or its host. */
  private resolvePrincipal(id: string, principals: Map<string, PrincipalFacts>): string {
    const lower = id.toLowerCase();
    if (principals.has(lower)) return lower;
    const byApp = this.ctx.directory.byApp(id);
    if (byApp) return byApp.objectId.toLowerCase();
    if (lower.startsWith('/')) {
      const canonical = canonicalScope(lower);
      for (const p of principals.values()) if (p.managedIdentityResourceId && canonicalScope(p.managedIdentityResourceId) === canonical) return p.objectId.toLowerCase();
    }
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(lower)) return lower; // e.g. an orphan's id
    throw new ArmError(404, 'PrincipalNotFound', `No principal '${id}' exists in the directory (give an object id, a client id or an identity's resource id).`);
  }

  /** The identities a resource uses: its system-assigned one and its user-assigned ones (or the identity itself). */
  private async principalsOfResource(resourceId: string, principals: Map<string, PrincipalFacts>): Promise<string[]> {
    if (!resourceId.startsWith('/')) throw new ArmError(400, 'InvalidParameter', `The resourceId '${resourceId}' is not a resource id.`);
    const doc = await this.ctx.arm.findResource(resourceId);
    if (!doc) throw new ArmError(404, 'ResourceNotFound', `The resource '${resourceId}' was not found.`);
    const ids = new Set<string>([canonicalScope(doc.id)]);
    for (const uai of Object.keys(doc.identity?.userAssignedIdentities ?? {})) ids.add(canonicalScope(uai));
    const out: string[] = [];
    for (const p of principals.values()) if (p.managedIdentityResourceId && ids.has(canonicalScope(p.managedIdentityResourceId))) out.push(p.objectId.toLowerCase());
    return out.sort();
  }

  private async vaults(): Promise<{ id: string; name: string; rbac: boolean }[]> {
    const out = [];
    for (const e of await this.ctx.store.list<StoredResource>(RESOURCES, { prefix: '/subscriptions/' })) {
      if (!VAULT_KEY.test(e.key) || e.value.type.toLowerCase() !== 'microsoft.keyvault/vaults') continue;
      out.push({ id: e.value.id, name: e.value.name, rbac: (e.value.properties as { enableRbacAuthorization?: boolean } | undefined)?.enableRbacAuthorization === true });
    }
    return out;
  }
}

function groupBy<T>(list: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of list) {
    const k = key(x);
    const group = out.get(k);
    if (group) group.push(x);
    else out.set(k, [x]);
  }
  return out;
}

function positiveInt(v: string | null | undefined): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ArmError(400, 'InvalidParameter', `'${v}' is not a non-negative integer.`);
  return n;
}

function compilePattern(p: string): RegExp {
  try {
    return new RegExp(p);
  } catch (err) {
    throw new ArmError(400, 'InvalidParameter', `The naming pattern '${p}' is not a valid regular expression: ${(err as Error).message}`);
  }
}

export function advisorExtension(ctx: AppContext, advisor: Advisor, usage: UsageRecorder) {
  return async (x: ExtensionContext): Promise<void> => {
    const subscriptionScope = `/subscriptions/${ctx.tenant.subscriptionId}`;
    if (x.scope.toLowerCase() !== subscriptionScope.toLowerCase()) {
      throw new ArmError(404, 'InvalidResourceType', `${ADVISOR_NAMESPACE} lives at ${subscriptionScope}/providers/${ADVISOR_NAMESPACE}.`);
    }
    if (!ADVISOR_API_VERSIONS.includes(x.apiVersion)) {
      throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${x.apiVersion}' is invalid. The supported versions are '${ADVISOR_API_VERSIONS.join(', ')}'.`);
    }
    const op = x.rest.join('/').toLowerCase();
    if (op === 'recommendations') {
      if (x.req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `Use GET for ${ADVISOR_NAMESPACE}/recommendations.`);
      ctx.arm.authorizer.check(x.caller, 'Microsoft.Authorization/roleAssignments/read', subscriptionScope);
      const q = x.req.query;
      const principalId = q.get('principalId') ?? undefined;
      const resourceId = q.get('resourceId') ?? undefined;
      if (principalId && resourceId) throw new ArmError(400, 'InvalidParameter', 'Give principalId or resourceId, not both.');
      const threshold = positiveInt(q.get('scopeThreshold'));
      const report = await advisor.report({
        ...(principalId ? { principalId } : {}),
        ...(resourceId ? { resourceId } : {}),
        ...(threshold !== undefined ? { scopeThreshold: threshold } : {}),
        ...(q.get('namingPattern') ? { namingPattern: q.get('namingPattern')! } : {}),
      });
      const format = (q.get('$format') ?? 'json').toLowerCase();
      if (format === 'sarif') return sendJson(x.res, 200, toSarif(report.findings, TOOL_VERSION));
      if (format !== 'json') throw new ArmError(400, 'InvalidParameter', `$format must be 'json' or 'sarif', not '${format}'.`);
      return sendJson(x.res, 200, report);
    }
    if (op === 'usage') {
      if (x.req.method !== 'DELETE') throw new ArmError(405, 'MethodNotAllowed', `Use DELETE for ${ADVISOR_NAMESPACE}/usage.`);
      ctx.arm.authorizer.check(x.caller, 'Microsoft.Authorization/roleAssignments/write', subscriptionScope);
      return sendJson(x.res, 200, { removed: await usage.reset() });
    }
    throw new ArmError(404, 'InvalidResourceType', `Unknown operation '${x.rest.join('/')}' in ${ADVISOR_NAMESPACE}: use recommendations or usage.`);
  };
}
