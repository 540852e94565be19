// A resource group's template deployments (Microsoft.Resources/deployments): the list with state,
// time and duration; a selected deployment's operations (one per resource, with the error of a
// failed one) and its outputs. Secure outputs are never returned by the API, so never shown.
import { useEffect, useState } from 'preact/hooks';
import { arm, armList } from './api.js';
import { useAct } from './ui.js';

/** Mimic accepts any well-formed api-version here; this is the one DeploymentsClient sends. */
export const DEPLOYMENTS_API = '2024-03-01';

export const deploymentsHref = (sub: string, rg: string, name?: string) => `#/deployments/${sub}/${encodeURIComponent(rg)}${name ? `/${encodeURIComponent(name)}` : ''}`;

/** An operation's error, from `statusMessage.error` (Azure nests details; the first leaf is the cause). */
function errorOf(op: any): string {
  const e = op.properties?.statusMessage?.error;
  if (!e) return '';
  const detail = (e.details ?? [])[0];
  return detail && e.code === 'DeploymentFailed' ? `${detail.code}: ${detail.message}` : `${e.code}: ${e.message}`;
}

export function DeploymentsPage({ sub, rg, selected }: { sub: string; rg: string; selected?: string }) {
  const act = useAct();
  const base = `/subscriptions/${sub}/resourcegroups/${rg}/providers/Microsoft.Resources/deployments`;
  const [list, setList] = useState<any[] | null>(null);
  const load = () => act(async () => setList((await armList<any>(base, DEPLOYMENTS_API)).sort((a, b) => String(b.properties?.timestamp ?? '').localeCompare(String(a.properties?.timestamp ?? '')))));
  useEffect(() => { load(); }, [base]);
  return (
    <section aria-labelledby="dep-h">
      <p><a href="#/">Subscriptions</a> › <a href={`#/rg/${sub}/${rg}`}>{rg}</a> › Deployments</p>
      <h1 id="dep-h">{rg} <small>Deployments</small></h1>
      <div class="toolbar"><button type="button" onClick={() => load()}>Refresh</button></div>
      {list === null ? <p>Loading…</p> : list.length === 0 ? <p>No deployments in this resource group.</p> : (
        <table class="grid" aria-label="Deployments" data-testid="deployments"><thead><tr><th>Deployment name</th><th>Status</th><th>Timestamp</th><th>Duration</th></tr></thead>
          <tbody>{list.map((d) => (
            <tr key={d.id} class={d.properties?.provisioningState === 'Failed' ? 'refused' : ''} aria-selected={d.name === selected ? 'true' : undefined}>
              <td><a href={deploymentsHref(sub, rg, d.name)} aria-current={d.name === selected ? 'page' : undefined}>{d.name}</a></td>
              <td>{d.properties?.provisioningState}</td><td>{d.properties?.timestamp}</td><td>{d.properties?.duration}</td></tr>
          ))}</tbody></table>
      )}
      {selected && <DeploymentDetail id={`${base}/${selected}`} key={selected} />}
    </section>
  );
}

function DeploymentDetail({ id }: { id: string }) {
  const act = useAct();
  const [d, setD] = useState<any>(null);
  const [ops, setOps] = useState<any[] | null>(null);
  useEffect(() => { act(async () => {
    setD(await arm('GET', id, DEPLOYMENTS_API));
    setOps(await armList<any>(`${id}/operations`, DEPLOYMENTS_API));
  }); }, [id]);
  if (!d) return <p>Loading…</p>;
  const outputs = Object.entries<any>(d.properties?.outputs ?? {});
  const err = d.properties?.error;
  return (
    <div class="panel" aria-labelledby="dep-detail-h" role="region" data-testid="deployment-detail">
      <h2 id="dep-detail-h">{d.name} <small>{d.properties?.provisioningState} · mode {d.properties?.mode} · correlation <span class="mono">{d.properties?.correlationId}</span></small></h2>
      {err && <p class="refused" data-testid="deployment-error"><strong>{err.code}</strong> {err.message}</p>}
      <h3>Operations</h3>
      {ops === null ? <p>Loading…</p> : (
        <table class="grid wrap" aria-label="Deployment operations" data-testid="operations"><thead><tr><th>Resource</th><th>Type</th><th>Operation</th><th>Status</th><th>Status code</th><th>Error</th></tr></thead>
          <tbody>{ops.map((o) => {
            const p = o.properties ?? {};
            return (
              <tr key={o.id} class={p.provisioningState === 'Failed' ? 'refused' : ''}>
                <td title={p.targetResource?.id}>{p.targetResource?.resourceName}</td><td>{p.targetResource?.resourceType}</td><td>{p.provisioningOperation}</td>
                <td>{p.provisioningState}</td><td>{p.statusCode}</td><td>{errorOf(o)}</td></tr>
            );
          })}</tbody></table>
      )}
      <h3>Outputs</h3>
      <p class="count">Secure outputs (securestring, secureObject) are not returned by the API.</p>
      {outputs.length === 0 ? <p>No outputs.</p> : (
        <table class="grid wrap" aria-label="Deployment outputs" data-testid="outputs"><thead><tr><th>Name</th><th>Type</th><th>Value</th></tr></thead>
          <tbody>{outputs.map(([k, v]) => <tr><td>{k}</td><td>{v?.type}</td><td class="mono">{typeof v?.value === 'string' ? v.value : JSON.stringify(v?.value)}</td></tr>)}</tbody></table>
      )}
    </div>
  );
}
