// The Mimic portal: a Preact single-page app over Mimic's REST API. Hash routes:
// #/ subscriptions and groups · #/rg/{sub}/{rg} resources · #/deployments/{sub}/{rg}[/{name}] · #/resource/{tab}/{id} a resource's
// Overview, Identity or Access control (IAM) · #/map/{scope} access map · #/audit refusals.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { arm, apiVersionOf, AUTHZ_API, nameOfId, signIn, typeOfId, type Session } from './api.js';
import { Banner, BannerContext, useAct, type Problem } from './ui.js';
import { Iam, managedIdentities, type Member } from './iam.js';
import { IdentityPane } from './identity.js';
import { AccessMap } from './map.js';
import { VaultPane } from './keyvault.js';
import { UserAssignedPane } from './userAssigned.js';
import { StoragePane } from './storage.js';
import { DeploymentsPage, deploymentsHref } from './deployments.js';

function useHash(): string {
  const [h, setH] = useState(location.hash.slice(1) || '/');
  useEffect(() => { const f = () => setH(location.hash.slice(1) || '/'); addEventListener('hashchange', f); return () => removeEventListener('hashchange', f); }, []);
  return h;
}

function App() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [viewAs, setViewAs] = useState('');
  const route = useHash();
  const [people, setPeople] = useState<Member[]>([]);
  const start = (pid?: string) => {
    setProblem(null);
    signIn(pid).then((s) => {
      setSession(s);
      // The picker's choices: what the administrator's session can list (kept while viewing as).
      if (s.principal.isAdministrator) managedIdentities(s.subscriptionId).then(setPeople, () => {});
    }, (e) => setProblem({ code: e.code ?? 'SignInFailed', message: e.message }));
  };
  useEffect(() => start(), []);
  return (
    <BannerContext.Provider value={setProblem}>
      <header class="top">
        <a href="#/" class="brand">Mimic portal</a>
        <nav aria-label="Main"><a href="#/">Subscriptions</a> <a href={session ? `#/map/${encodeURIComponent(`/subscriptions/${session.subscriptionId}`)}` : '#/'}>Access map</a> <a href="#/audit">Audit log</a></nav>
        <div class="who" data-testid="signed-in">{session ? `${session.principal.displayName}${session.principal.isAdministrator ? ' (administrator)' : ' (viewing as)'}` : 'Signing in…'}</div>
        <form class="viewas" onSubmit={(e) => { e.preventDefault(); start(viewAs || undefined); }}>
          <label>View as <input value={viewAs} onInput={(e) => setViewAs(e.currentTarget.value)} placeholder="principal (object) id" aria-label="View as principal id" list="view-as-choices" />
            <datalist id="view-as-choices">{people.map((p) => <option value={p.principalId}>{p.name} ({p.kind}, {p.type})</option>)}</datalist></label>
          <button type="submit">View as</button>
          {session && !session.principal.isAdministrator && <button type="button" onClick={() => { setViewAs(''); start(); }}>Back to administrator</button>}
        </form>
      </header>
      <Banner problem={problem} onClose={() => setProblem(null)} />
      <main>{session && <Route route={route} session={session} key={session.accessToken} />}</main>
    </BannerContext.Provider>
  );
}

function Route({ route, session }: { route: string; session: Session }) {
  const parts = route.split('/').filter(Boolean).map(decodeURIComponent);
  const sub = session.subscriptionId;
  if (parts[0] === 'rg') return <Group sub={parts[1]!} rg={parts[2]!} />;
  if (parts[0] === 'deployments') return <DeploymentsPage sub={parts[1]!} rg={parts[2]!} selected={parts[3]} />;
  if (parts[0] === 'resource') return <Resource tab={parts[1]!} id={parts.slice(2).join('/')} sub={sub} />;
  if (parts[0] === 'map') return <AccessMap scope={parts.slice(1).join('/') || `/subscriptions/${sub}`} sub={sub} />;
  if (parts[0] === 'audit') return <Audit sub={sub} />;
  return <Home sub={sub} />;
}

const resourceHref = (tab: string, id: string) => `#/resource/${tab}/${encodeURIComponent(id)}`;

function Home({ sub }: { sub: string }) {
  const act = useAct();
  const [subs, setSubs] = useState<any[]>([]);
  const [groups, setGroups] = useState<any[] | null>(null);
  useEffect(() => { act(async () => {
    setSubs((await arm<{ value: any[] }>('GET', '/subscriptions', '2022-12-01')).value);
    setGroups((await arm<{ value: any[] }>('GET', `/subscriptions/${sub}/resourceGroups`, '2021-04-01')).value);
  }); }, [sub]);
  return (
    <section aria-labelledby="subs-h">
      <h1 id="subs-h">Subscriptions</h1>
      <ul>{subs.map((s) => <li>{s.displayName} <span class="mono">{s.subscriptionId}</span> · <a href={resourceHref('iam', s.id)}>Access control (IAM)</a> · <a href={`#/map/${encodeURIComponent(s.id)}`}>Access map</a></li>)}</ul>
      <h2>Resource groups</h2>
      {groups === null ? <p>Loading…</p> : (
        <table class="grid" aria-label="Resource groups"><thead><tr><th>Name</th><th>Location</th><th /></tr></thead>
          <tbody>{groups.map((g) => <tr><td><a href={`#/rg/${sub}/${g.name}`}>{g.name}</a></td><td>{g.location}</td><td><a href={resourceHref('iam', g.id)}>Access control (IAM)</a></td></tr>)}</tbody></table>
      )}
    </section>
  );
}

function Group({ sub, rg }: { sub: string; rg: string }) {
  const act = useAct();
  const [list, setList] = useState<any[] | null>(null);
  const [name, setName] = useState('');
  const gid = `/subscriptions/${sub}/resourceGroups/${rg}`;
  const load = () => act(async () => setList((await arm<{ value: any[] }>('GET', `${gid}/resources`, '2021-04-01')).value));
  useEffect(() => { load(); }, [gid]);
  const create = () => act(async () => {
    const g = await arm('GET', gid, '2021-04-01');
    await arm('PUT', `${gid}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`, '2023-01-31', { location: g.location });
    setName(''); await load();
  });
  const del = (id: string) => act(async () => { await arm('DELETE', id, '2023-01-31'); await load(); });
  return (
    <section aria-labelledby="rg-h">
      <p><a href="#/">Subscriptions</a> › {rg}</p>
      <h1 id="rg-h">{rg} <a class="small" href={resourceHref('iam', gid)}>Access control (IAM)</a> <a class="small" href={deploymentsHref(sub, rg)}>Deployments</a></h1>
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); create(); }}>
        <label>New user assigned managed identity <input value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label="New user assigned identity name" /></label>
        <button class="primary" type="submit" disabled={!name} data-testid="create-uai">Create</button>
      </form>
      {list === null ? <p>Loading…</p> : (
        <table class="grid" aria-label="Resources" data-testid="resources"><thead><tr><th>Name</th><th>Type</th><th>Kind</th><th>Identities</th><th /></tr></thead>
          <tbody>{list.map((r) => (
            <tr key={r.id}><td><a href={resourceHref('overview', r.id)}>{r.name}</a></td><td>{r.type}</td><td>{r.kind}</td>
              <td>{r.identity?.type ?? (r.type.toLowerCase().endsWith('userassignedidentities') ? `principal ${r.properties?.principalId ?? ''}` : 'None')}</td>
              <td><a href={resourceHref('identity', r.id)}>Identity</a> · <a href={resourceHref('iam', r.id)}>IAM</a>{r.type.toLowerCase().endsWith('userassignedidentities') && <> · <button class="link" onClick={() => del(r.id)}>Delete</button></>}</td></tr>
          ))}</tbody></table>
      )}
    </section>
  );
}

function Resource({ tab, id, sub }: { tab: string; id: string; sub: string }) {
  const type = typeOfId(id);
  const tabs: Array<[string, string]> = [['overview', 'Overview'], ...(type.includes('/resourceGroups') || type.includes('/subscriptions') ? [] : [['identity', 'Identity'] as [string, string]]), ['iam', 'Access control (IAM)'], ...(type.toLowerCase() === 'microsoft.keyvault/vaults' ? [['vault', 'Secrets, keys, certificates'] as [string, string]] : []), ...(type.toLowerCase() === 'microsoft.storage/storageaccounts' ? [['storage', 'Containers'] as [string, string]] : []), ...(type.toLowerCase() === 'microsoft.managedidentity/userassignedidentities' ? [['uai', 'Federated credentials and associated resources'] as [string, string]] : [])];
  return (
    <section>
      <p class="crumbs mono">{id}</p>
      <h1>{nameOfId(id)} <small>{type}</small></h1>
      <nav class="tabs" aria-label="Resource menu">{tabs.map(([k, label]) => <a href={resourceHref(k, id)} aria-current={k === tab ? 'page' : undefined}>{label}</a>)}</nav>
      {tab === 'identity' ? <IdentityPane id={id} sub={sub} /> : tab === 'vault' ? <VaultPane id={id} /> : tab === 'uai' ? <UserAssignedPane id={id} sub={sub} /> : tab === 'storage' ? <StoragePane id={id} /> : tab === 'iam' ? <Iam scope={id} sub={sub} /> : <Overview id={id} />}
    </section>
  );
}

function Overview({ id }: { id: string }) {
  const act = useAct();
  const [r, setR] = useState<any>(null);
  const type = typeOfId(id);
  useEffect(() => { act(async () => setR(await arm('GET', id, type.startsWith('Microsoft.Resources') ? '2021-04-01' : apiVersionOf(type)))); }, [id]);
  return r ? <pre class="json" aria-label="Resource JSON">{JSON.stringify(r, null, 2)}</pre> : <p>Loading…</p>;
}

function Audit({ sub }: { sub: string }) {
  const act = useAct();
  const [rows, setRows] = useState<any[]>([]);
  const [result, setResult] = useState('Denied');
  const [q, setQ] = useState('');
  useEffect(() => { act(async () => setRows((await arm<{ value: any[] }>('GET', `/subscriptions/${sub}/providers/Microsoft.Authorization/auditEvents`, AUTHZ_API, undefined, `&$top=1000${result ? `&result=${result}` : ''}`)).value)); }, [result]);
  const shown = rows.filter((e) => !q || JSON.stringify(e).toLowerCase().includes(q.toLowerCase())).reverse();
  return (
    <section aria-labelledby="audit-h">
      <h1 id="audit-h">Audit log</h1>
      <div class="toolbar">
        <label>Result <select value={result} onChange={(e) => setResult(e.currentTarget.value)} aria-label="Result"><option value="">All</option><option>Denied</option><option>Succeeded</option><option>Failed</option></select></label>
        <label>Search <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-label="Search the audit log" /></label>
      </div>
      <table class="grid" aria-label="Audit events"><thead><tr><th>Time</th><th>Result</th><th>Operation</th><th>Caller</th><th>Scope</th><th>Reason</th></tr></thead>
        <tbody>{shown.map((e) => <tr class={e.result === 'Denied' ? 'refused' : ''}><td>{e.time}</td><td>{e.result}</td><td>{e.operation}</td><td class="mono">{e.caller?.objectId}</td><td title={e.scope}>{nameOfId(e.scope)}</td><td title={e.note}>{[e.reason, e.principalState && `token of a ${e.principalState} principal (valid until it expires, as in Azure)`].filter(Boolean).join('; ')}</td></tr>)}</tbody></table>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
