// Line and column of a template path (`resources[2].properties.name`) in the template's JSON text,
// for error messages ("at line '12' and column '9'") when the caller has the text (e.g. the CLI's
// --template-file). A small JSON scanner: it tracks the path of every value it passes.

export interface SourcePosition {
  line: number;
  column: number;
}

export function locateTemplatePath(source: string, path: string): SourcePosition | undefined {
  const want = normalize(path);
  let i = 0;
  let found: number | undefined;
  const ws = () => {
    while (i < source.length && /\s/.test(source[i]!)) i++;
  };
  const str = (): string => {
    let out = '';
    i++; // opening quote
    while (i < source.length && source[i] !== '"') {
      if (source[i] === '\\') {
        const n = source[i + 1];
        if (n === 'u') { out += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16)); i += 6; continue; }
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n ?? '';
        i += 2;
        continue;
      }
      out += source[i++];
    }
    i++;
    return out;
  };
  const value = (p: string): void => {
    ws();
    if (found !== undefined) return;
    if (p === want) { found = i; return; }
    const c = source[i];
    if (c === '{') {
      i++;
      ws();
      if (source[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (source[i] !== '"') return;
        const key = str();
        ws();
        if (source[i] !== ':') return;
        i++;
        value(p ? `${p}.${key}` : key);
        if (found !== undefined) return;
        ws();
        if (source[i] === ',') { i++; continue; }
        if (source[i] === '}') { i++; return; }
        return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (source[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        value(`${p}[${n}]`);
        if (found !== undefined) return;
        ws();
        if (source[i] === ',') { i++; continue; }
        if (source[i] === ']') { i++; return; }
        return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < source.length && !/[\s,\]}]/.test(source[i]!)) i++;
    }
  };
  value('');
  if (found === undefined) return undefined;
  const before = source.slice(0, found);
  const line = before.split('\n').length;
  return { line, column: found - before.lastIndexOf('\n') };
}

function normalize(path: string): string {
  return path.replace(/^\$\.?/, '');
}
