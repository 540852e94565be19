// Per-action verdicts of every role, for the decision hot path: action -> one byte per
// role ordinal. A decision looks its action up once and then reads one byte per
// candidate assignment instead of walking role -> permissions -> per-role memo.
// The engine resets the memo whenever a role definition or role slot changes.

export const UNKNOWN = 0;
export const NOT_GRANTED = 1;
export const GRANTED = 2;
/** Granted only by blocks carrying conditions; the caller evaluates them. */
export const CONDITIONAL = 3;

const ROW_LIMIT = 8_192;
const CELL_LIMIT = 32 * 1024 * 1024;

export class VerdictMemo {
  private readonly control = new Map<string, Uint8Array>();
  private readonly data = new Map<string, Uint8Array>();
  private width = 0;

  /** Drops every row; new rows hold `roleCount` verdicts. */
  reset(roleCount: number): void {
    this.control.clear();
    this.data.clear();
    this.width = roleCount;
  }

  /** The verdict row of an action (zero-filled, i.e. UNKNOWN, when new). */
  row(action: string, isDataAction: boolean): Uint8Array {
    const rows = isDataAction ? this.data : this.control;
    let row = rows.get(action);
    if (row === undefined) {
      const rowCount = this.control.size + this.data.size;
      if (rowCount >= 2 * ROW_LIMIT || (rowCount + 1) * this.width > CELL_LIMIT) {
        this.control.clear();
        this.data.clear();
      }
      row = new Uint8Array(this.width);
      rows.set(action, row);
    }
    return row;
  }
}
