// The access map: for a subscription (or any scope), identities -> role assignments -> scopes ->
// resources, with each role's data actions grouped by service and refused attempts from the audit
// log in red. Click an assignment to highlight its decision path. At hundreds of assignments the
// columns group by principal and a search box filters every column.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { arm, armList, AUTHZ_API, nameOfId, typeOfId } from './api.js';
import { managedIdentities, roles, type Member, type RoleDef } from './iam.js';
import { useAct } from './ui.js';

interface A { id: string; properties: { scope: string; roleDefinitionId: string; principalId: string; condition?: string } }
const LIMIT = 200;

export function AccessMap({ scope, sub }: { scope: string; sub: string }) {
  const act = useAct();
  const [data, setData] = useState<{ as: A[]; defs: RoleDef[]; members: Member[]; denied: any[] } | null>(null);
  const [q, setQ] = useState('');
  const [sel, setSel] = useState<A | null>(null);
  useEffect(() => { act(async () => {
    const [as, defs, members, denied] = await Promise.all([
      armList<A>(`${scope}/providers/Microsoft.Authorization/roleAssignments`, AUTHZ_API),
      roles(sub), managedIdentities(sub).catch(() => []),
      arm<{ value: any[] }>('GET', `${scope}/providers/Microsoft.Authorization/auditEvents`, AUTHZ_API, undefined, '&category=AccessDenied&$top=500').then((r) => r.value).catch(() => []),
    ]);
    setData({ as, defs, members, denied });
  }); }, [scope]);
  const view = useMemo(() => {
    if (!data) return null;
    const def = new Map(data.defs.map((d) => [d.name, d]));
    const name = new Map(data.members.map((m) => [m.principalId, m.name]));
    const needle = q.toLowerCase();
    const rows = data.as.map((a) => {
      const d = def.get(nameOfId(a.properties.roleDefinitionId));
      return { a, role: d?.properties.roleName ?? nameOfId(a.properties.roleDefinitionId), who: name.get(a.properties.principalId) ?? a.properties.principalId, d };
    }).filter((r) => !needle || [r.role, r.who, r.a.properties.scope, r.a.properties.principalId].some((s) => s.toLowerCase().includes(needle)));
    const byPrincipal = new Map<string, typeof rows>();
    for (const r of rows) byPrincipal.set(r.who, [...(byPrincipal.get(r.who) ?? []), r]);
    const scopes = new Map<string, number>();
    for (const r of rows) scopes.set(r.a.properties.scope, (scopes.get(r.a.properties.scope) ?? 0) + 1);
    const services = new Map<string, Set<string>>();
    for (const r of rows) for (const p of r.d?.properties.permissions ?? []) for (const da of p.dataActions ?? []) {
      const svc = da.split('/')[0] ?? da;
      services.set(svc, (services.get(svc) ?? new Set()).add(da));
    }
    return { rows, byPrincipal, scopes, services };
  }, [data, q]);
  if (!view || !data) return <p>Loading the access map…</p>;
  const on = (r: { a: A }) => sel?.id === r.a.id;
  const selRole = sel ? data.defs.find((d) => d.name === nameOfId(sel.properties.roleDefinitionId)) : undefined;
  return (
    <section aria-labelledby="map-h" data-testid="access-map">
      <h2 id="map-h">Access map <small>{nameOfId(scope)}</small></h2>
      <label>Filter <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="principal, role or scope" aria-label="Filter the access map" /></label>
      <p class="count" data-testid="map-count">{view.rows.length} of {data.as.length} role assignments · {view.byPrincipal.size} principals · {view.scopes.size} scopes · {data.denied.length} refused attempts</p>
      <div class="map">
        <div class="col"><h3>Identities</h3>
          {[...view.byPrincipal.entries()].slice(0, LIMIT).map(([who, rs]) => (
            <details key={who} open={view.byPrincipal.size <= 20 || rs.some(on)}>
              <summary class={rs.some(on) ? 'hl' : ''}>{who} <span class="tag">{rs.length}</span></summary>
              <ul>{rs.map((r) => <li><button class={`link ${on(r) ? 'hl' : ''}`} onClick={() => setSel(r.a)}>{r.role}</button></li>)}</ul>
            </details>
          ))}
          {view.byPrincipal.size > LIMIT && <p class="count">{view.byPrincipal.size - LIMIT} more: filter to see them</p>}
        </div>
        <div class="col"><h3>Role assignments → scopes</h3>
          {[...view.scopes.entries()].slice(0, LIMIT).map(([s, n]) => (
            <div class={`node ${sel?.properties.scope === s ? 'hl' : ''}`} title={s}>{typeOfId(s).split('/').pop()} <strong>{nameOfId(s)}</strong> <span class="tag">{n}</span></div>
          ))}
        </div>
        <div class="col"><h3>Data actions by service</h3>
          {[...view.services.entries()].map(([svc, set]) => (
            (() => {
              const used = (d: string) => !!selRole?.properties.permissions.some((p) => p.dataActions?.includes(d));
              const any = [...set].some(used);
              return <details open={any}><summary class={any ? 'hl' : ''}>{svc} <span class="tag">{set.size}</span></summary><ul>{[...set].map((d) => <li class={used(d) ? 'hl' : ''}>{d}</li>)}</ul></details>;
            })()
          ))}
        </div>
        <div class="col"><h3>Refused attempts</h3>
          {data.denied.slice(-50).reverse().map((e) => <div class="node refused" title={e.message}>{e.operation}<br /><small>{e.caller?.objectId} at {nameOfId(e.scope)}</small></div>)}
          {data.denied.length === 0 && <p>None recorded.</p>}
        </div>
      </div>
      {sel && (
        <div class="panel path" data-testid="decision-path" aria-live="polite">
          <h3>Decision path</h3>
          <ol>
            <li>Assignment <span class="mono">{sel.id}</span></li>
            <li>Role <strong>{selRole?.properties.roleName}</strong>: {selRole?.properties.description}</li>
            <li>Action patterns: {(selRole?.properties.permissions ?? []).flatMap((p) => [...(p.actions ?? []), ...(p.dataActions ?? [])]).join(', ') || 'none'}</li>
            <li>Scope <span class="mono">{sel.properties.scope}</span></li>
            <li>Condition: {sel.properties.condition ?? 'none'}</li>
          </ol>
        </div>
      )}
    </section>
  );
}
