// Which resources (audiences) the token service issues tokens for. Entra refuses an unknown
// resource with AADSTS500011; it accepts a known application ID URI with or without its
// trailing slash and puts the value exactly as requested into `aud`.

/** Application ID URIs of the Azure services that accept managed-identity tokens. */
export const KNOWN_RESOURCES: readonly string[] = [
  'https://management.azure.com/',
  'https://management.core.windows.net/',
  'https://vault.azure.net',
  'https://datalake.azure.net/',
  'https://database.windows.net/',
  'https://eventhubs.azure.net',
  'https://servicebus.azure.net',
  'https://storage.azure.com/',
  // Graph: az asks for these while creating a vault or assigning a role (Mimic serves a corner of Microsoft Graph).
  'https://graph.windows.net/',
  'https://graph.microsoft.com/',
];

/** Per-account storage endpoints are valid resources too, as in Azure. */
const STORAGE_ENDPOINT = /^https:\/\/[a-z0-9]{3,24}\.(blob|queue|table|file|dfs)\.core\.windows\.net\/?$/;

function canonical(resource: string): string {
  return resource.toLowerCase().replace(/\/+$/, '');
}

export class ResourceRegistry {
  private readonly known = new Set<string>(KNOWN_RESOURCES.map(canonical));
  private readonly matchers: Array<(canonicalResource: string) => boolean> = [(r) => STORAGE_ENDPOINT.test(r)];

  /** Services hosted by Mimic register their own audiences (e.g. local storage endpoints). */
  addMatcher(match: (canonicalResource: string) => boolean): void {
    this.matchers.push(match);
  }

  isKnown(resource: string): boolean {
    const c = canonical(resource);
    if (this.known.has(c)) return true;
    return this.matchers.some((m) => m(c));
  }
}

/**
 * A v2 scope `X/.default` names resource X: `https://vault.azure.net/.default` asks for
 * `https://vault.azure.net`, and `https://storage.azure.com//.default` for `https://storage.azure.com/`.
 */
export function resourceFromScope(scope: string): string | undefined {
  const suffix = '/.default';
  if (!scope.endsWith(suffix)) return undefined;
  const r = scope.slice(0, -suffix.length);
  return r.length > 0 ? r : undefined;
}
