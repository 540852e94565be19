// Human and JSON output for CLI results.

export function printResult(value: unknown, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      process.stdout.write('(none)\n');
      return;
    }
    const rows = value.map((v) => summarize(v as Record<string, unknown>));
    const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    process.stdout.write([line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n') + '\n');
    return;
  }
  if (value && typeof value === 'object') {
    const flat = flatten(value as Record<string, unknown>);
    // Long keys (user-assigned identity ids) would push every value off screen: cap the column.
    const width = Math.min(40, Math.max(...Object.keys(flat).map((k) => k.length)));
    process.stdout.write(Object.entries(flat).map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n');
    return;
  }
  process.stdout.write(String(value) + '\n');
}

function summarize(v: Record<string, unknown>): Record<string, string> {
  const props = (v.properties ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const k of ['name', 'type', 'location']) if (v[k] !== undefined) out[k] = String(v[k]);
  if (props.principalId) out.principalId = String(props.principalId);
  if (props.clientId) out.clientId = String(props.clientId);
  const identity = v.identity as Record<string, unknown> | undefined;
  if (identity?.type) out.identity = String(identity.type);
  return out;
}

function flatten(v: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (val && typeof val === 'object' && !Array.isArray(val)) Object.assign(out, flatten(val as Record<string, unknown>, key));
    else out[key] = Array.isArray(val) ? val.join(', ') : String(val);
  }
  return out;
}
