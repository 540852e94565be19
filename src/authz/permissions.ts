// The permission blocks of one role definition (or deny assignment), compiled once.
// A block grants an action when one of its Actions (DataActions) patterns matches and
// none of the NotActions (NotDataActions) of the SAME block does. Results are memoised
// per action string, which makes repeated decisions a single Map lookup.

import { compileActionPattern, type ActionMatcher } from './actionPattern.js';
import { parseCondition, type CompiledCondition } from './conditions.js';
import type { Permission } from './types.js';

/**
 * What the blocks say about one action: `null` (not granted), UNCONDITIONAL (granted by a
 * block without a condition) or the conditions of the granting blocks (granted when any
 * of them holds). UNCONDITIONAL is the only empty list.
 */
export type GrantEntry = null | readonly CompiledCondition[];
export const UNCONDITIONAL: readonly CompiledCondition[] = Object.freeze([]);

interface Pattern {
  text: string;
  test: ActionMatcher;
}

interface Block {
  actions: readonly Pattern[];
  notActions: readonly Pattern[];
  dataActions: readonly Pattern[];
  notDataActions: readonly Pattern[];
  condition: CompiledCondition | null;
}

// Bounds the memo so arbitrary action strings from callers cannot grow it without limit.
const MEMO_LIMIT = 8_192;

function patterns(list: readonly string[] | undefined): Pattern[] {
  return (list ?? []).map((text) => ({ text, test: compileActionPattern(text) }));
}

function firstMatch(list: readonly Pattern[], lowerAction: string): Pattern | undefined {
  for (const p of list) if (p.test(lowerAction)) return p;
  return undefined;
}

export class CompiledPermissions {
  private readonly blocks: readonly Block[];
  private readonly controlMemo = new Map<string, GrantEntry>();
  private readonly dataMemo = new Map<string, GrantEntry>();

  /** Throws ConditionError when a block carries an invalid condition. */
  constructor(permissions: readonly Permission[]) {
    this.blocks = permissions.map((p) => ({
      actions: patterns(p.actions),
      notActions: patterns(p.notActions),
      dataActions: patterns(p.dataActions),
      notDataActions: patterns(p.notDataActions),
      // Only the syntax is checked: the '2.0'-only rule and the size limit apply to role
      // assignments, and built-in roles ship a block marked '1.0' in the same syntax.
      condition: p.condition ? parseCondition(p.condition) : null,
    }));
  }

  /** Memoised; `action` may be in any letter case. */
  grants(action: string, isDataAction: boolean): GrantEntry {
    const memo = isDataAction ? this.dataMemo : this.controlMemo;
    const hit = memo.get(action);
    if (hit !== undefined) return hit;
    const entry = this.compute(action.toLowerCase(), isDataAction);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(action, entry);
    return entry;
  }

  private compute(lowerAction: string, isDataAction: boolean): GrantEntry {
    let conditions: CompiledCondition[] | null = null;
    for (const b of this.blocks) {
      const allow = isDataAction ? b.dataActions : b.actions;
      const deny = isDataAction ? b.notDataActions : b.notActions;
      if (firstMatch(allow, lowerAction) === undefined || firstMatch(deny, lowerAction) !== undefined) continue;
      if (b.condition === null) return UNCONDITIONAL;
      (conditions ??= []).push(b.condition);
    }
    return conditions === null ? null : Object.freeze(conditions);
  }

  /** Why no block grants `action`, as the end of a sentence starting with the role name. */
  describeMiss(action: string, isDataAction: boolean): string {
    const lower = action.toLowerCase();
    const plane = isDataAction ? 'data action' : 'action';
    for (const b of this.blocks) {
      const allowed = firstMatch(isDataAction ? b.dataActions : b.actions, lower);
      const excluded = firstMatch(isDataAction ? b.notDataActions : b.notActions, lower);
      if (allowed !== undefined && excluded !== undefined) {
        return `matches '${action}' through '${allowed.text}' but excludes it with ${isDataAction ? 'NotDataActions' : 'NotActions'} '${excluded.text}'`;
      }
    }
    for (const b of this.blocks) {
      const other = firstMatch(isDataAction ? b.actions : b.dataActions, lower);
      if (other !== undefined) {
        return isDataAction
          ? `grants no data action matching '${action}' (its Actions pattern '${other.text}' matches, but Actions never grant data actions)`
          : `grants no action matching '${action}' (only its DataActions pattern '${other.text}' matches, and the request is not a data action)`;
      }
    }
    return `grants no ${plane} matching '${action}'`;
  }
}
