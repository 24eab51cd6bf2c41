// Delta-updated state (SPECS.md §2.3), the logic without sockets.
//
// The receiving side follows the original exactly: a snapshot replaces the state; a message
// older than the current number is ignored; a gap (not current + 1) resets the state from a
// snapshot requested from the sender (the triggering delta is dropped, the snapshot covers
// it); otherwise the delta is applied, shallow, a null value deleting its key.
//
// The sending side fixes the original's bug: service_framework's delta_update_out never
// advanced its own current_num (it stayed 0), so every snapshot it served said 0 and a
// receiver that reset from it saw the next delta as a gap again. Here the sender records
// the number of every update it sends, so a snapshot reports the number of the last update
// it contains. The sender also numbers updates itself when `current_num` is left out
// (the last number + 1, starting at 0) and treats a missing `is_snapshot` as false, except
// for its first update, which goes out as a snapshot (see complete()).

import { t } from './type-grammar.js';

export type StateDict = Record<string, unknown>;

/** The args every delta update carries besides the user's (state is the delta or the snapshot). */
export const DELTA_STATE_ARGS = { current_num: t.int, is_snapshot: t.bool, state: t.dict } as const;

export interface Snapshot {
  readonly state: StateDict;
  readonly current_num: number;
}

/** A null value deletes its key, any other value sets it; top-level keys only. */
export function applyDelta(state: StateDict, delta: StateDict): void {
  for (const [key, value] of Object.entries(delta)) {
    if (value === null) delete state[key];
    else state[key] = value;
  }
}

function numberOf(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : Number(v);
}

export type DeltaOutcome = 'snapshot' | 'stale' | 'reset' | 'applied';

export class DeltaStateIn {
  currentNum = -1;
  state: StateDict = {};

  /** Updates from one message; `fetchSnapshot` asks the sender for its snapshot on a gap. */
  async update(args: StateDict, fetchSnapshot: () => Promise<Snapshot>): Promise<DeltaOutcome> {
    const num = numberOf(args.current_num);
    if (args.is_snapshot === true) {
      this.state = { ...(args.state as StateDict) };
      this.currentNum = num;
      return 'snapshot';
    }
    if (num < this.currentNum) return 'stale';
    if (num !== this.currentNum + 1) {
      const snap = await fetchSnapshot();
      this.currentNum = numberOf(snap.current_num);
      this.state = { ...snap.state };
      return 'reset';
    }
    this.currentNum = num;
    applyDelta(this.state, args.state as StateDict);
    return 'applied';
  }
}

export class DeltaStateOut {
  currentNum = -1;
  state: StateDict = {};

  /**
   * The args to send: current_num and is_snapshot filled in when left out. The first update
   * a sender makes goes out as a snapshot (its whole state is that update): receivers that
   * hold numbers from a previous run of the sender would otherwise ignore the restarted
   * sender's low numbers as stale.
   */
  complete(args: StateDict): StateDict {
    const first = this.currentNum === -1 && args.is_snapshot === undefined && args.current_num === undefined;
    if (first && args.state !== null && typeof args.state === 'object') {
      const whole = Object.fromEntries(Object.entries(args.state as StateDict).filter(([, v]) => v !== null));
      return { ...args, state: whole, current_num: 0, is_snapshot: true };
    }
    return {
      ...args,
      current_num: args.current_num ?? this.currentNum + 1,
      is_snapshot: args.is_snapshot ?? false,
    };
  }

  /** Applies a validated update to the local copy and advances the number (the bug fix). */
  record(args: StateDict): void {
    if (args.is_snapshot === true) this.state = { ...(args.state as StateDict) };
    else applyDelta(this.state, args.state as StateDict);
    this.currentNum = numberOf(args.current_num);
  }

  snapshot(): Snapshot {
    return { state: this.state, current_num: this.currentNum };
  }
}
