// Delta-updated state (SPECS.md §2.3), the logic without sockets.
//
// The receiving side follows the original's rules: a snapshot replaces the state; a message
// older than the current number is ignored; a gap (not current + 1) resets the state from a
// snapshot requested from the sender (the triggering delta is dropped, the snapshot covers
// it); otherwise the delta is applied, shallow, a null value deleting its key. Unlike the
// original, the snapshot is not awaited inside the service loop (see DeltaStateIn).
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
    // "__proto__" as a plain key (state["__proto__"] = v would replace the object's prototype).
    else if (key === '__proto__') Object.defineProperty(state, key, { value, writable: true, enumerable: true, configurable: true });
    else state[key] = value;
  }
}

function numberOf(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : Number(v);
}

/**
 * What one update did: applied it, replaced the state (a snapshot), ignored it (stale), found
 * a gap (fetch the sender's snapshot, then reset()), held it (a fetch is under way), or reset
 * the state from a fetched snapshot.
 */
export type DeltaOutcome = 'snapshot' | 'stale' | 'reset' | 'applied' | 'gap' | 'held';

/** Updates kept while a snapshot is fetched; past this the oldest go (the replay then finds a gap). */
export const MAX_HELD_UPDATES = 10_000;

/**
 * The receiving side. Every step is synchronous, so the service loop never waits on the
 * network for a state: a gap only marks the state as resynchronising and returns 'gap'; the
 * caller fetches the snapshot off the loop and hands it to reset(). Updates arriving
 * meanwhile are held and replayed on top of the snapshot, in order, by the same rules (those
 * the snapshot already covers are stale; a sender whose snapshots report a wrong number,
 * like the original's, makes the replay find another gap, as the original would).
 */
export class DeltaStateIn {
  currentNum = -1;
  state: StateDict = {};
  private held: StateDict[] | undefined;

  /** True between a gap and reset()/abandon(). */
  get resyncing(): boolean {
    return this.held !== undefined;
  }

  update(args: StateDict): DeltaOutcome {
    if (this.held) {
      if (this.held.length >= MAX_HELD_UPDATES) this.held.shift();
      this.held.push(args);
      return 'held';
    }
    const num = numberOf(args.current_num);
    if (args.is_snapshot === true) {
      this.state = { ...(args.state as StateDict) };
      this.currentNum = num;
      return 'snapshot';
    }
    if (num < this.currentNum) return 'stale';
    if (num !== this.currentNum + 1) {
      // The triggering delta is not applied: the snapshot covers it (SPECS.md §2.3).
      this.held = [];
      return 'gap';
    }
    this.currentNum = num;
    applyDelta(this.state, args.state as StateDict);
    return 'applied';
  }

  /**
   * The snapshot fetched after a gap: it replaces the state, then the held updates are
   * replayed. Returns every outcome in order; a last 'gap' means: fetch again (the rest of the
   * held updates stay held).
   */
  reset(snapshot: Snapshot): DeltaOutcome[] {
    this.state = { ...snapshot.state };
    this.currentNum = numberOf(snapshot.current_num);
    const held = this.held ?? [];
    this.held = undefined;
    const outcomes: DeltaOutcome[] = ['reset'];
    for (let i = 0; i < held.length; i++) {
      const args = held[i]!;
      // Sent before the snapshot was taken, so already in it (live, the original's rule
      // would call a repeat of the current number a gap).
      if (args.is_snapshot !== true && numberOf(args.current_num) <= this.currentNum) {
        outcomes.push('stale');
        continue;
      }
      const outcome = this.update(args);
      outcomes.push(outcome);
      if (outcome === 'gap') {
        this.held!.push(...held.slice(i + 1));
        break;
      }
    }
    return outcomes;
  }

  /**
   * The snapshot could not be fetched: the held updates are dropped and the state stays as it
   * was, so the next delta is a gap again and fetches again. Returns how many were dropped.
   */
  abandon(): number {
    const dropped = this.held?.length ?? 0;
    this.held = undefined;
    return dropped;
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
