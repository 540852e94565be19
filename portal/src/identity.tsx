// A resource's Identity pane: system-assigned Status On/Off with the object (principal) id and
// Azure's warning that turning it off deletes the identity; user-assigned Add/Remove with a picker.
import { useEffect, useState } from 'preact/hooks';
import { arm, apiVersionOf, nameOfId, typeOfId } from './api.js';
import { useAct } from './ui.js';

export function IdentityPane({ id, sub }: { id: string; sub: string }) {
  const act = useAct();
  const version = apiVersionOf(typeOfId(id));
  const [res, setRes] = useState<any>(null);
  const [on, setOn] = useState(false);
  const [uais, setUais] = useState<any[]>([]);
  const [pick, setPick] = useState('');
  const load = () => act(async () => {
    const r = await arm('GET', id, version);
    setRes(r);
    setOn(/systemassigned/i.test(r.identity?.type ?? ''));
    const list = await arm<{ value: any[] }>('GET', `/subscriptions/${sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, '2023-01-31').catch(() => ({ value: [] }));
    setUais(list.value);
  });
  useEffect(() => { load(); }, [id]);
  if (!res) return <p>Loading…</p>;
  const user: Record<string, any> = res.identity?.userAssignedIdentities ?? {};
  const sys = /systemassigned/i.test(res.identity?.type ?? '');
  const typeFor = (system: boolean, users: string[]) => (system && users.length ? 'SystemAssigned, UserAssigned' : system ? 'SystemAssigned' : users.length ? 'UserAssigned' : 'None');
  const patch = (identity: unknown) => act(async () => { setRes(await arm('PATCH', id, version, { identity })); });
  const saveSystem = () => {
    if (sys && !on && !confirm('Disabling the system assigned managed identity will remove it from Microsoft Entra ID, and its role assignments. Continue?')) return;
    const users = Object.keys(user);
    patch({ type: typeFor(on, users), ...(users.length ? { userAssignedIdentities: Object.fromEntries(users.map((u) => [u, {}])) } : {}) });
  };
  const addUser = () => pick && patch({ type: typeFor(sys, [...Object.keys(user), pick]), userAssignedIdentities: { [pick]: {} } });
  const removeUser = (u: string) => {
    const rest = Object.keys(user).filter((k) => k !== u);
    patch({ type: typeFor(sys, rest), ...(rest.length ? { userAssignedIdentities: { [u]: null } } : {}) });
  };
  return (
    <section aria-labelledby="id-h">
      <h2 id="id-h">Identity</h2>
      <div class="panel">
        <h3>System assigned</h3>
        <div role="radiogroup" aria-label="Status" class="toggle">
          <button role="radio" aria-checked={!on} class={!on ? 'on' : ''} onClick={() => setOn(false)}>Off</button>
          <button role="radio" aria-checked={on} class={on ? 'on' : ''} onClick={() => setOn(true)}>On</button>
        </div>
        {sys && !on && <p class="warning" role="note">Turning off the system assigned identity deletes it and its role assignments; code using it stops getting tokens.</p>}
        <button class="primary" onClick={saveSystem} disabled={on === sys} data-testid="save-system">Save</button>
        {sys && <p>Object (principal) ID: <span class="mono" data-testid="principal-id">{res.identity.principalId}</span></p>}
      </div>
      <div class="panel">
        <h3>User assigned</h3>
        <label>Add user assigned managed identity <select value={pick} onChange={(e) => setPick(e.currentTarget.value)} aria-label="User assigned identity to add" data-testid="uai-select">
          <option value="">Select an identity</option>
          {uais.filter((u) => !Object.keys(user).some((k) => k.toLowerCase() === u.id.toLowerCase())).map((u) => <option value={u.id}>{u.name}</option>)}
        </select></label>
        <button class="primary" onClick={addUser} disabled={!pick} data-testid="add-uai">Add</button>
        <table class="grid" aria-label="User assigned identities"><thead><tr><th>Name</th><th>Client id</th><th>Principal id</th><th /></tr></thead>
          <tbody>{Object.entries(user).map(([k, v]) => (
            <tr key={k}><td>{nameOfId(k)}</td><td class="mono">{v?.clientId}</td><td class="mono">{v?.principalId}</td><td><button class="link" onClick={() => removeUser(k)} aria-label={`Remove ${nameOfId(k)}`}>Remove</button></td></tr>
          ))}</tbody></table>
      </div>
    </section>
  );
}
