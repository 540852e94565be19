// A vault's data: secrets, keys and certificates (names and attributes, never values), read
// through the path form of the data plane with the viewer's own vault token, and the access
// policies of a vault that does not use the RBAC permission model.
import { useEffect, useState } from 'preact/hooks';
import { arm, apiVersionOf, nameOfId, vault } from './api.js';
import { useAct } from './ui.js';

const KINDS = [['secrets', 'Secrets'], ['keys', 'Keys'], ['certificates', 'Certificates']] as const;

export function VaultPane({ id }: { id: string }) {
  const act = useAct();
  const name = nameOfId(id);
  const [res, setRes] = useState<any>(null);
  const [kind, setKind] = useState<(typeof KINDS)[number][0]>('secrets');
  const [items, setItems] = useState<any[] | null>(null);
  useEffect(() => { act(async () => setRes(await arm('GET', id, apiVersionOf('Microsoft.KeyVault/vaults')))); }, [id]);
  useEffect(() => { setItems(null); act(async () => setItems((await vault<{ value: any[] }>('GET', name, `/${kind}`)).value)); }, [id, kind]);
  const rbac = res?.properties?.enableRbacAuthorization;
  return (
    <section aria-labelledby="kv-h">
      <h2 id="kv-h">Objects</h2>
      <p>Permission model: {res ? (rbac ? 'Azure role-based access control' : 'Vault access policy') : '…'}</p>
      <nav class="tabs" aria-label="Vault objects">{KINDS.map(([k, label]) => <button class="link" aria-current={k === kind ? 'page' : undefined} onClick={() => setKind(k)}>{label}</button>)}</nav>
      {items === null ? <p>Loading…</p> : (
        <table class="grid" aria-label={kind} data-testid="vault-items"><thead><tr><th>Name</th><th>Enabled</th><th>Updated</th><th>Content type</th></tr></thead>
          <tbody>{items.map((i) => <tr><td>{nameOfId(i.id ?? i.kid)}</td><td>{String(i.attributes?.enabled ?? '')}</td><td>{i.attributes?.updated ? new Date(i.attributes.updated * 1000).toISOString() : ''}</td><td>{i.contentType ?? ''}</td></tr>)}</tbody></table>
      )}
      {res && !rbac && (
        <>
          <h2>Access policies</h2>
          <table class="grid" aria-label="Access policies" data-testid="access-policies"><thead><tr><th>Object id</th><th>Secrets</th><th>Keys</th><th>Certificates</th></tr></thead>
            <tbody>{(res.properties.accessPolicies ?? []).map((p: any) => <tr><td class="mono">{p.objectId}</td><td>{(p.permissions?.secrets ?? []).join(', ')}</td><td>{(p.permissions?.keys ?? []).join(', ')}</td><td>{(p.permissions?.certificates ?? []).join(', ')}</td></tr>)}</tbody></table>
        </>
      )}
    </section>
  );
}
