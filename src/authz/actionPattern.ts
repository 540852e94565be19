// Action strings and their patterns (`Microsoft.Storage/*/read`, `*`, ...).
// Matching is case-insensitive and `*` stands for any run of characters, `/` included.

/** Tests an action that the caller has already lower-cased. */
export type ActionMatcher = (lowerAction: string) => boolean;

export function compileActionPattern(pattern: string): ActionMatcher {
  const p = pattern.toLowerCase();
  const parts = p.split('*');
  if (parts.length === 1) return (a) => a === p;
  if (parts.length === 2) {
    // The shape every built-in pattern has: a prefix and a suffix around one star.
    const [head, tail] = parts as [string, string];
    const min = head.length + tail.length;
    return (a) => a.length >= min && a.startsWith(head) && a.endsWith(tail);
  }
  const source = parts.map(escapeRegExp).join('[\\s\\S]*');
  const re = new RegExp(`^${source}$`);
  return (a) => re.test(a);
}

/** One-off match of a pattern against an action in any letter case. */
export function actionMatches(pattern: string, action: string): boolean {
  return compileActionPattern(pattern)(action.toLowerCase());
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
