// A message's journey: for recent ids, each hop (received, handled, failed, dead-lettered,
// sent, called) with where and when, and the ids it produced (a worker's results are the
// next stage's messages), so a journey is followed from its first stage to its last.
// Bounded: the least recently touched ids are forgotten past `maxIds`, and one id keeps at
// most `maxHops` hops (a message retried forever does not grow without end).
//
// Sampled: recording every hop of every message cost the dashboard most of its throughput
// (an object and a map touch per event). A new id is taken only while a budget of
// `newIdsPerSecond` allows; once taken, every later hop of it and every id it produced is
// recorded, so a sampled journey is whole. An id someone asked about and that was not
// recorded is wanted: its hops from then on are recorded whatever the budget (a retry, a
// message not yet arrived). Everything else costs one map lookup and allocates nothing.

import type { ModelKind } from '../observer.js';

export type HopStep = 'received' | 'handled' | 'failed' | 'dead-lettered' | 'sent' | 'called';

export interface Hop {
  readonly at: number;
  /** The node id of the service ("model:service"). */
  readonly node: string;
  readonly service: string;
  readonly model: ModelKind;
  readonly step: HopStep;
  /** The input, output or call target it is about. */
  readonly channel: string;
  readonly attempt?: number;
  readonly durationMs?: number;
  /** Why it failed or was set aside (an error message or a dead-letter reason). */
  readonly error?: string;
  /** Handled: the ids it produced, with where they went. */
  readonly produced?: ReadonlyArray<{ readonly id: string; readonly output: string; readonly label?: string }>;
}

export interface JourneyStage {
  readonly id: string;
  readonly hops: readonly Hop[];
}

export interface Journey {
  /** The id asked for. */
  readonly id: string;
  /** Every id of the journey, from the first known ancestor down through what each produced. */
  readonly stages: readonly JourneyStage[];
}

interface Entry {
  hops: Hop[];
  /** Hops dropped past maxHops. */
  dropped: number;
  parent?: string;
  children?: Set<string>;
}

export interface JourneyIndexOptions {
  readonly maxIds?: number;
  readonly maxHops?: number;
  /** New (root) ids recorded per second at most; ids they produce come with them. Default 100. */
  readonly newIdsPerSecond?: number;
  /** Ids asked about but not recorded, kept wanted (most recent). Default 64. */
  readonly maxWanted?: number;
}

/** Most stages one journey answer walks (a fan-out of fan-outs stays bounded). */
const MAX_STAGES = 64;

export class JourneyIndex {
  readonly maxIds: number;
  readonly maxHops: number;
  readonly newIdsPerSecond: number;
  readonly maxWanted: number;
  /** Insertion order is recency: an id touched again moves to the end. */
  readonly #entries = new Map<string, Entry>();
  /** Ids asked about, not (yet) recorded; insertion order is age. */
  readonly #wanted = new Set<string>();
  #lastId: string | undefined;
  #lastEntry: Entry | undefined;
  /** The budget of new ids: tokens left, refilled by time (a token bucket, burst one second's worth). */
  #tokens: number;
  #tokensAt = -Infinity;
  #skipped = 0;

  constructor(options: JourneyIndexOptions = {}) {
    this.maxIds = options.maxIds ?? 2_000;
    this.maxHops = options.maxHops ?? 32;
    this.newIdsPerSecond = options.newIdsPerSecond ?? 100;
    this.maxWanted = options.maxWanted ?? 64;
    this.#tokens = this.newIdsPerSecond;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** New ids not recorded because the budget was spent (a count, for tests and figures). */
  get skipped(): number {
    return this.#skipped;
  }

  /**
   * Whether a hop of `id` at time `at` (ms) is to be recorded: the id is known, wanted, or
   * new within the budget. Call before building the hop; allocates nothing when the answer is no.
   */
  wants(id: string, at: number): boolean {
    if (id === this.#lastId || this.#entries.has(id)) return true;
    if (this.#wanted.size > 0 && this.#wanted.delete(id)) return true;
    if (at > this.#tokensAt) {
      this.#tokens = Math.min(this.newIdsPerSecond, this.#tokens + ((at - this.#tokensAt) * this.newIdsPerSecond) / 1000);
      this.#tokensAt = at;
    }
    if (this.#tokens >= 1) {
      this.#tokens--;
      return true;
    }
    this.#skipped++;
    return false;
  }

  add(id: string, hop: Hop): void {
    const entry = this.#touch(id);
    if (entry.hops.length >= this.maxHops) {
      // Keep the first hop (where it came from) and the latest ones.
      entry.hops.splice(1, 1);
      entry.dropped++;
    }
    entry.hops.push(hop);
    for (const p of hop.produced ?? []) {
      if (p.id === id) continue;
      (entry.children ??= new Set()).add(p.id);
      if (entry.children.size > this.maxHops) entry.children.delete(entry.children.values().next().value as string);
      const child = this.#touch(p.id);
      child.parent = id;
    }
  }

  /** The recent ids, most recent first (for picking one). */
  recent(limit = 50): string[] {
    const ids = [...this.#entries.keys()];
    return ids.slice(-limit).reverse();
  }

  journey(id: string): Journey | undefined {
    if (!this.#entries.has(id)) {
      // Not sampled (or forgotten): record it from now on, should it come (again).
      this.#wanted.delete(id);
      this.#wanted.add(id);
      if (this.#wanted.size > this.maxWanted) this.#wanted.delete(this.#wanted.values().next().value as string);
      return undefined;
    }
    // Up to the first known ancestor (a cycle or a long chain stops the walk).
    let root = id;
    const seen = new Set<string>([root]);
    for (;;) {
      const parent = this.#entries.get(root)?.parent;
      if (parent === undefined || seen.has(parent) || seen.size >= MAX_STAGES) break;
      seen.add(parent);
      root = parent;
    }
    // Then down, breadth first.
    const stages: JourneyStage[] = [];
    const queue = [root];
    const visited = new Set<string>();
    while (queue.length > 0 && stages.length < MAX_STAGES) {
      const next = queue.shift()!;
      if (visited.has(next)) continue;
      visited.add(next);
      const entry = this.#entries.get(next);
      stages.push({ id: next, hops: entry ? [...entry.hops] : [] });
      for (const child of entry?.children ?? []) queue.push(child);
    }
    return { id, stages };
  }

  #touch(id: string): Entry {
    // The same id twice in a row (received, then handled) is already the most recent.
    if (id === this.#lastId && this.#lastEntry) return this.#lastEntry;
    let entry = this.#entries.get(id);
    if (entry) {
      this.#entries.delete(id);
    } else {
      entry = { hops: [], dropped: 0 };
      while (this.#entries.size >= this.maxIds) this.#entries.delete(this.#entries.keys().next().value as string);
    }
    this.#entries.set(id, entry);
    this.#lastId = id;
    this.#lastEntry = entry;
    return entry;
  }
}
