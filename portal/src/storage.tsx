// A storage account's blob containers and blobs: list, upload (Put Blob) and download, through the
// path form of the Blob service with the viewer's own storage token; the gate checks each data action.
import { useEffect, useState } from 'preact/hooks';
import { blob, nameOfId } from './api.js';
import { useAct } from './ui.js';

const names = async (r: Response, tag: string) => [...new DOMParser().parseFromString(await r.text(), 'application/xml').querySelectorAll(`${tag} > Name`)].map((n) => n.textContent ?? '');

export function StoragePane({ id }: { id: string }) {
  const act = useAct();
  const account = nameOfId(id);
  const [containers, setContainers] = useState<string[] | null>(null);
  const [container, setContainer] = useState('');
  const [blobs, setBlobs] = useState<string[]>([]);
  useEffect(() => { act(async () => setContainers(await names(await blob('GET', account, '/?comp=list'), 'Container'))); }, [id]);
  const open = (c: string) => act(async () => { setContainer(c); setBlobs(await names(await blob('GET', account, `/${c}?restype=container&comp=list`), 'Blob')); });
  const upload = (file: File) => act(async () => {
    await blob('PUT', account, `/${container}/${encodeURIComponent(file.name)}`, file, { 'x-ms-blob-type': 'BlockBlob', 'content-type': file.type || 'application/octet-stream' });
    await open(container);
  });
  const download = (name: string) => act(async () => {
    const r = await blob('GET', account, `/${container}/${encodeURIComponent(name)}`);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  return (
    <section aria-labelledby="st-h">
      <h2 id="st-h">Containers</h2>
      {containers === null ? <p>Loading…</p> : (
        <ul data-testid="containers">{containers.map((c) => <li><button class="link" onClick={() => open(c)} aria-current={c === container ? 'true' : undefined}>{c}</button></li>)}</ul>
      )}
      {container && (
        <div class="panel">
          <h3>{container}</h3>
          <label>Upload blob <input type="file" aria-label="Upload blob" onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) upload(f); }} /></label>
          <table class="grid" aria-label="Blobs" data-testid="blobs"><thead><tr><th>Name</th><th /></tr></thead>
            <tbody>{blobs.map((b) => <tr><td>{b}</td><td><button class="link" onClick={() => download(b)} aria-label={`Download ${b}`}>Download</button></td></tr>)}</tbody></table>
        </div>
      )}
    </section>
  );
}
