// Store keys for ARM ids (kept apart from the engines so domain modules can import it cheaply).

/**
 * Normalises an ARM resource id for use as a store key: Azure treats ids
 * case-insensitively, and tolerates doubled and trailing slashes. The root scope
 * "/" stays "/".
 */
export function armKey(id: string): string {
  const collapsed = id.toLowerCase().replace(/\/{2,}/g, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}
