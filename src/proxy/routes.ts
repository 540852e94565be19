// Which local listener serves an Azure host name: the table modules fill in `AppContext.routes`
// (exact names, or `*.suffix` patterns, to `127.0.0.1:PORT`), the same one the Node preload reads
// from endpoints.json. Matching never resolves a name: only the table decides.

export interface LocalTarget {
  host: string;
  port: number;
}

interface CompiledRoute {
  suffix: boolean;
  name: string;
  target: LocalTarget;
}

/** Compiles the route table once per change (modules finish registering before the first client). */
export class RouteTable {
  private compiled: CompiledRoute[] = [];
  private seen = -1;

  constructor(private readonly routes: () => Record<string, string>) {}

  /** The listener serving `host` (any case, trailing dot allowed), or undefined. */
  lookup(host: string): LocalTarget | undefined {
    const table = this.table();
    const h = host.toLowerCase().replace(/\.$/, '');
    for (const r of table) if (r.suffix ? h.length > r.name.length && h.endsWith(r.name) : h === r.name) return r.target;
    return undefined;
  }

  /** The served patterns, for error messages. */
  patterns(): string[] {
    return this.table().map((r) => (r.suffix ? `*${r.name}` : r.name));
  }

  private table(): CompiledRoute[] {
    const routes = this.routes();
    const size = Object.keys(routes).length;
    if (size !== this.seen) {
      this.compiled = Object.entries(routes).map(([pattern, target]) => {
        const i = target.lastIndexOf(':');
        const suffix = pattern.startsWith('*.');
        return { suffix, name: (suffix ? pattern.slice(1) : pattern).toLowerCase(), target: { host: target.slice(0, i), port: Number(target.slice(i + 1)) } };
      });
      this.seen = size;
    }
    return this.compiled;
  }
}
