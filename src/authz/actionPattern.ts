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
  // More stars: the first and last parts anchor the ends and the middle parts are found in
  // order, each leftmost (correct for `*`-only patterns, and no backtracking: a regular
  // expression of many `[\s\S]*` backtracks exponentially, and custom roles and conditions
  // carry patterns written by users).
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((m) => m.length > 0);
  const min = parts.reduce((n, x) => n + x.length, 0);
  return (a) => {
    if (a.length < min || !a.startsWith(head) || !a.endsWith(tail)) return false;
    const end = a.length - tail.length;
    let at = head.length;
    for (const m of middle) {
      const found = a.indexOf(m, at);
      if (found < 0 || found + m.length > end) return false;
      at = found + m.length;
    }
    return true;
  };
}

/** One-off match of a pattern against an action in any letter case. */
export function actionMatches(pattern: string, action: string): boolean {
  return compileActionPattern(pattern)(action.toLowerCase());
}
