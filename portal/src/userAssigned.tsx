// A user-assigned identity: its client and principal ids, federated credentials (list, add,
// delete) and the resources it is assigned to. Mimic has no listAssociatedResources operation,
// so the associated resources come from the subscription's resource list (what the viewer may read).
import { useEffect, useState } from 'preact/hooks';
import { arm, armList, nameOfId } from './api.js';
import { useAct } from './ui.js';

const API = '2023-01-31';

export function UserAssignedPane({ id, sub }: { id: string; sub: string }) {
  const act = useAct();
  const [res, setRes] = useState<any>(null);
  const [fics, setFics] = useState<any[]>([]);
  const [assoc, setAssoc] = useState<any[] | null>(null);
  const [form, setForm] = useState({ name: '', issuer: '', subject: '', audience: 'api://AzureADTokenExchange' });
  const load = () => act(async () => {
    setRes(await arm('GET', id, API));
    setFics(await armList(`${id}/federatedIdentityCredentials`, API));
    const all = await armList<any>(`/subscriptions/${sub}/resources`, '2021-04-01');
    setAssoc(all.filter((r) => Object.keys(r.identity?.userAssignedIdentities ?? {}).some((k) => k.toLowerCase() === id.toLowerCase())));
  });
  useEffect(() => { load(); }, [id]);
  const add = () => act(async () => {
    await arm('PUT', `${id}/federatedIdentityCredentials/${form.name}`, API, { properties: { issuer: form.issuer, subject: form.subject, audiences: [form.audience] } });
    setForm({ ...form, name: '', subject: '' });
    await load();
  });
  const del = (fid: string) => act(async () => { await arm('DELETE', fid, API); await load(); });
  const field = (k: keyof typeof form, label: string) => <label>{label} <input value={form[k]} onInput={(e) => setForm({ ...form, [k]: e.currentTarget.value })} aria-label={label} /></label>;
  return (
    <section aria-labelledby="uai-h">
      <h2 id="uai-h">User assigned managed identity</h2>
      {res && <p>Client id <span class="mono" data-testid="uai-client-id">{res.properties.clientId}</span> · Object (principal) id <span class="mono">{res.properties.principalId}</span></p>}
      <div class="panel">
        <h3>Federated credentials</h3>
        <table class="grid" aria-label="Federated credentials" data-testid="fics"><thead><tr><th>Name</th><th>Issuer</th><th>Subject</th><th>Audiences</th><th /></tr></thead>
          <tbody>{fics.map((f) => <tr><td>{f.name}</td><td>{f.properties.issuer}</td><td>{f.properties.subject}</td><td>{(f.properties.audiences ?? []).join(', ')}</td><td><button class="link" onClick={() => del(f.id)} aria-label={`Delete ${f.name}`}>Delete</button></td></tr>)}</tbody></table>
        <form class="toolbar" onSubmit={(e) => { e.preventDefault(); add(); }}>
          {field('name', 'Credential name')}{field('issuer', 'Issuer URL')}{field('subject', 'Subject identifier')}{field('audience', 'Audience')}
          <button class="primary" type="submit" disabled={!form.name || !form.issuer || !form.subject}>Add credential</button>
        </form>
      </div>
      <div class="panel">
        <h3>Associated resources</h3>
        {assoc === null ? <p>Loading…</p> : assoc.length === 0 ? <p>Not assigned to any resource you can read.</p> : (
          <table class="grid" aria-label="Associated resources" data-testid="associated"><thead><tr><th>Name</th><th>Type</th><th>Resource group</th></tr></thead>
            <tbody>{assoc.map((r) => <tr><td>{r.name}</td><td>{r.type}</td><td>{nameOfId(r.id.split('/providers/')[0])}</td></tr>)}</tbody></table>
        )}
      </div>
    </section>
  );
}
