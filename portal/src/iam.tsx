// Access control (IAM) on any scope: assignments at and inherited into it (with where each is
// inherited from), Add role assignment (role search, then a managed-identity member picker by
// resource type), remove, deny assignments, and Check access with the engine's explanation.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { arm, armList, AUTHZ_API, nameOfId, typeOfId } from './api.js';
import { useAct } from './ui.js';

const AUTH = '/providers/Microsoft.Authorization';
/** Rows rendered at a time, as the Azure portal pages its grids; search reaches every row. */
const PAGE = 100;

export interface RoleDef { id: string; name: string; properties: { roleName: string; description: string; type: string; permissions: Array<{ dataActions?: string[]; actions?: string[] }> } }
let roleCache: Promise<RoleDef[]> | undefined;
export function roles(sub: string): Promise<RoleDef[]> {
  return (roleCache ??= armList<RoleDef>(`/subscriptions/${sub}${AUTH}/roleDefinitions`, AUTHZ_API).catch((e) => { roleCache = undefined; throw e; }));
}

export interface Member { principalId: string; name: string; type: string; resourceId: string; kind: 'System assigned' | 'User assigned' }
/** Every managed identity in the subscription: system-assigned ones of resources, and user-assigned identities. */
export async function managedIdentities(sub: string): Promise<Member[]> {
  const value = await armList<any>(`/subscriptions/${sub}/resources`, '2021-04-01');
  const out: Member[] = [];
  for (const r of value) {
    if (r.type.toLowerCase() === 'microsoft.managedidentity/userassignedidentities' && r.properties?.principalId) out.push({ principalId: r.properties.principalId, name: r.name, type: r.type, resourceId: r.id, kind: 'User assigned' });
    else if (r.identity?.principalId) out.push({ principalId: r.identity.principalId, name: r.name, type: r.type, resourceId: r.id, kind: 'System assigned' });
  }
  return out;
}

interface Assignment { id: string; name: string; properties: { scope: string; roleDefinitionId: string; principalId: string; principalType?: string; condition?: string } }

export function Iam({ scope, sub }: { scope: string; sub: string }) {
  const act = useAct();
  const [list, setList] = useState<Assignment[] | null>(null);
  const [denies, setDenies] = useState<any[]>([]);
  const [defs, setDefs] = useState<RoleDef[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [adding, setAdding] = useState(false);
  const [q, setQ] = useState('');
  const [shown, setShown] = useState(PAGE);
  const load = () => act(async () => {
    const [a, d, r, m] = await Promise.all([
      armList<Assignment>(`${scope}${AUTH}/roleAssignments`, AUTHZ_API, '&$filter=atScope()'),
      arm<{ value: any[] }>('GET', `${scope}${AUTH}/denyAssignments`, AUTHZ_API).catch(() => ({ value: [] })),
      roles(sub),
      managedIdentities(sub).catch(() => []),
    ]);
    setList(a); setDenies(d.value); setDefs(r); setMembers(m);
  });
  useEffect(() => { setList(null); load(); }, [scope]);
  // Lookups by GUID: a scope can hold thousands of assignments.
  const roleNames = useMemo(() => new Map(defs.map((d) => [d.name.toLowerCase(), d.properties.roleName])), [defs]);
  const memberNames = useMemo(() => new Map(members.map((m) => [m.principalId, m.name])), [members]);
  const roleName = (id: string) => roleNames.get(nameOfId(id).toLowerCase()) ?? nameOfId(id);
  const who = (pid: string) => memberNames.get(pid) ?? pid;
  const filtered = useMemo(() => {
    if (!list) return null;
    const n = q.trim().toLowerCase();
    return n ? list.filter((a) => [roleName(a.properties.roleDefinitionId), who(a.properties.principalId), a.properties.principalId, a.properties.scope].some((x) => x.toLowerCase().includes(n))) : list;
  }, [list, q, roleNames, memberNames]);
  const remove = (a: Assignment) => act(async () => { await arm('DELETE', a.id, AUTHZ_API); await load(); });

  return (
    <section aria-labelledby="iam-h">
      <h2 id="iam-h">Access control (IAM)</h2>
      <div class="toolbar">
        <button class="primary" onClick={() => setAdding(true)} data-testid="add-role-assignment">+ Add role assignment</button>
        <button onClick={() => load()}>Refresh</button>
      </div>
      {adding && <AddAssignment scope={scope} sub={sub} defs={defs} members={members} onDone={() => { setAdding(false); load(); }} onCancel={() => setAdding(false)} />}
      <h3>Role assignments</h3>
      <label>Search <input type="search" value={q} onInput={(e) => { setQ(e.currentTarget.value); setShown(PAGE); }} placeholder="role, member or principal id" aria-label="Search role assignments" /></label>
      {list === null ? <p>Loading…</p> : (
        <table class="grid" data-testid="role-assignments" aria-label="Role assignments">
          <thead><tr><th>Role</th><th>Member</th><th>Principal id</th><th>Scope</th><th>Condition</th><th /></tr></thead>
          <tbody>
            {filtered!.slice(0, shown).map((a) => {
              const here = a.properties.scope.toLowerCase() === scope.toLowerCase();
              return (
                <tr key={a.id} data-assignment={a.id}>
                  <td>{roleName(a.properties.roleDefinitionId)}</td>
                  <td>{who(a.properties.principalId)}</td>
                  <td class="mono">{a.properties.principalId}</td>
                  <td>{here ? 'This resource' : <span title={a.properties.scope}>Inherited from {scopeLabel(a.properties.scope)}</span>}</td>
                  <td>{a.properties.condition ? 'Yes' : ''}</td>
                  <td>{here && <button class="link" aria-label={`Remove ${roleName(a.properties.roleDefinitionId)} for ${who(a.properties.principalId)}`} onClick={() => remove(a)}>Remove</button>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {filtered && filtered.length > shown && <button onClick={() => setShown(shown + PAGE)}>Show {Math.min(PAGE, filtered.length - shown)} more of {filtered.length - shown}</button>}
      <p class="count">{list ? `${list.length} role assignments${filtered!.length !== list.length ? ` (${filtered!.length} match)` : ''}` : ''}</p>
      <h3>Deny assignments</h3>
      {denies.length === 0 ? <p>No deny assignments at or above this scope.</p> : (
        <table class="grid"><thead><tr><th>Name</th><th>Scope</th><th>Description</th></tr></thead>
          <tbody>{denies.map((d) => <tr key={d.id}><td>{d.properties?.denyAssignmentName ?? d.name}</td><td>{d.properties?.scope}</td><td>{d.properties?.description}</td></tr>)}</tbody></table>
      )}
      <CheckAccess scope={scope} members={members} />
    </section>
  );
}

function AddAssignment({ scope, sub, defs, members, onDone, onCancel }: { scope: string; sub: string; defs: RoleDef[]; members: Member[]; onDone: () => void; onCancel: () => void }) {
  const act = useAct();
  const [q, setQ] = useState('');
  const [role, setRole] = useState<RoleDef | null>(null);
  const [mtype, setMtype] = useState('');
  const [member, setMember] = useState('');
  // Name matches first (exact, then prefix, then contained), then matches in the description.
  const shown = useMemo(() => {
    const n = q.trim().toLowerCase();
    const rank = (d: RoleDef) => {
      const name = d.properties.roleName.toLowerCase();
      return !n ? 0 : name === n ? 0 : name.startsWith(n) ? 1 : name.includes(n) ? 2 : d.properties.description?.toLowerCase().includes(n) ? 3 : 9;
    };
    return defs.map((d) => [rank(d), d] as const).filter(([r]) => r < 9).sort((x, y) => x[0] - y[0] || x[1].properties.roleName.localeCompare(y[1].properties.roleName)).slice(0, 50).map(([, d]) => d);
  }, [q, defs]);
  const types = [...new Set(members.map((m) => m.type))].sort();
  const save = () => act(async () => {
    const id = crypto.randomUUID();
    await arm('PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${id}`, AUTHZ_API, { properties: { roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${role!.name}`, principalId: member, principalType: 'ServicePrincipal' } });
    onDone();
  });
  return (
    <div class="panel" role="dialog" aria-label="Add role assignment" data-testid="add-panel">
      <h3>Add role assignment</h3>
      <label>Role <input type="search" placeholder="Search by role name or description" value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-label="Search roles" /></label>
      <ul class="roles" role="listbox" aria-label="Roles">
        {shown.map((d) => (
          <li key={d.id} role="option" aria-selected={role?.id === d.id} tabIndex={0} class={role?.id === d.id ? 'selected' : ''} onClick={() => setRole(d)} onKeyDown={(e) => e.key === 'Enter' && setRole(d)}>
            <strong>{d.properties.roleName}</strong> <span class="tag">{d.properties.type === 'CustomRole' ? 'Custom' : 'Built-in'}</span><br /><small>{d.properties.description}</small>
          </li>
        ))}
      </ul>
      <fieldset><legend>Members: Managed identity</legend>
        <label>Managed identity type <select value={mtype} onChange={(e) => setMtype(e.currentTarget.value)} aria-label="Managed identity type">
          <option value="">All</option>{types.map((t) => <option value={t}>{t}</option>)}</select></label>
        <label>Member <select value={member} onChange={(e) => setMember(e.currentTarget.value)} aria-label="Member" data-testid="member-select">
          <option value="">Select a managed identity</option>
          {members.filter((m) => !mtype || m.type === mtype).map((m) => <option value={m.principalId}>{m.name} ({m.kind}, {m.type})</option>)}</select></label>
      </fieldset>
      <div class="toolbar">
        <button class="primary" disabled={!role || !member} onClick={save}>Review + assign</button>
        <button onClick={onCancel}>Cancel</button>
      </div>
    </div>
  );
}

function CheckAccess({ scope, members }: { scope: string; members: Member[] }) {
  const act = useAct();
  const [pid, setPid] = useState('');
  const [action, setAction] = useState(typeOfId(scope).toLowerCase() === 'microsoft.keyvault/vaults' ? 'Microsoft.KeyVault/vaults/secrets/getSecret/action' : `${typeOfId(scope)}/read`);
  const [result, setResult] = useState<any>(null);
  const check = () => act(async () => setResult(await arm('POST', `${scope}/providers/Microsoft.Authorization/checkAccess`, AUTHZ_API, { principalId: pid, action })));
  return (
    <section class="panel" aria-labelledby="ca-h">
      <h3 id="ca-h">Check access</h3>
      <label>Principal <select value={pid} onChange={(e) => setPid(e.currentTarget.value)} aria-label="Principal to check">
        <option value="">Select a managed identity</option>
        {members.map((m) => <option value={m.principalId}>{m.name} ({m.kind})</option>)}</select></label>
      <label>or principal id <input value={pid} onInput={(e) => setPid(e.currentTarget.value)} aria-label="Principal id to check" /></label>
      <label>Action <input value={action} onInput={(e) => setAction(e.currentTarget.value)} aria-label="Action to check" size={60} /></label>
      <button class="primary" onClick={check} disabled={!pid}>Check access</button>
      {result && (
        <div class={`decision ${result.allowed ? 'allowed' : 'denied'}`} data-testid="check-result">
          <p><strong>{result.allowed ? 'Allowed' : 'Not allowed'}</strong> — {result.action} for {result.principalName}</p>
          {result.assignment && <p data-testid="check-source">Granted by <strong>{result.assignment.roleName}</strong> assigned at <span class="mono">{result.assignment.scope}</span></p>}
          {result.denyAssignment && <p>Denied by deny assignment {result.denyAssignment.name} at {result.denyAssignment.scope}</p>}
          <p class="explanation">{result.explanation}</p>
          {result.nearMisses?.length > 0 && <ul>{result.nearMisses.map((n: any) => <li>{n.roleName} at {n.scope}: {n.why}</li>)}</ul>}
        </div>
      )}
    </section>
  );
}

/** "subscription 0000…", "resource group rg1" or "vaults v1", as the portal's Scope column says. */
export function scopeLabel(scope: string): string {
  const t = typeOfId(scope);
  const kind = t === 'Microsoft.Resources/subscriptions' ? 'subscription' : t === 'Microsoft.Resources/resourceGroups' ? 'resource group' : t.split('/').pop();
  return `${kind} ${nameOfId(scope)}`;
}
