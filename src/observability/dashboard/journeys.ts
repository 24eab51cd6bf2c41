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
// message not yet arrived).
//
// Followed without a lookup per event: asking a map about every message's id cost ~13% of
// the model's time (a fresh id text is hashed for it). A taken id is kept in hand by the
// component that received it (its later hops there are found in that short list) and each
// id it produced or sent is expected on its channel, so only events on a channel where an
// id is expected compare ids, by equality, in a list of a few. So a journey is followed
// through the channels its ids were produced to, as the topology draws them.

import type { ListenerRest, ModelKind } from '../observer.js';

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
  /** How long a wanted id, an id in hand or an expected id is kept waiting for its next hop. Default 10 minutes. */
  readonly waitMs?: number;
}

/** How far short of a whole token the budget still gives one (the refill adds fractions). */
const TOKEN_ROUNDING = 1e-9;
/** Ids one place holds or expects, at most this many (the oldest let go first). */
const LIST_MAX = 16;
/** Channels with a list of expected ids at most (names come from configuration; this bounds a misbehaving emitter). */
const MAX_CHANNELS = 4_000;

/**
 * A few ids, oldest first, found by equality: for ids taken in hand by a component and ids
 * expected on a channel. Checking an empty list reads one length.
 */
export class IdList {
  readonly #ids: string[] = [];
  readonly #at: number[] = [];
  /** #ids.length, kept here: checking an empty list then reads this object only, not its array too. */
  #length = 0;
  /** Where the ids of every list of this kind are tallied: the index's `held` or `expecting`. */
  readonly #tally: Tally | undefined;
  readonly #kind: TallyKind;

  constructor(tally?: Tally, kind: TallyKind = 'held') {
    this.#tally = tally;
    this.#kind = kind;
  }

  get length(): number {
    return this.#length;
  }

  has(id: string): boolean {
    return this.#ids.indexOf(id) !== -1;
  }

  add(id: string, at: number): void {
    const i = this.#ids.indexOf(id);
    if (i !== -1) {
      this.#ids.splice(i, 1);
      this.#at.splice(i, 1);
    } else if (this.#ids.length >= LIST_MAX) {
      this.#ids.shift();
      this.#at.shift();
    }
    this.#ids.push(id);
    this.#at.push(at);
    this.#setLength();
  }

  /** Takes `id` off the list; whether it was on it. */
  remove(id: string): boolean {
    const i = this.#ids.indexOf(id);
    if (i === -1) return false;
    this.#ids.splice(i, 1);
    this.#at.splice(i, 1);
    this.#setLength();
    return true;
  }

  /** Lets go of ids added before `before` (their next hop did not come, or comes elsewhere). */
  expire(before: number): void {
    let n = 0;
    while (n < this.#at.length && this.#at[n]! < before) n++;
    if (n > 0) {
      this.#ids.splice(0, n);
      this.#at.splice(0, n);
      this.#setLength();
    }
  }

  #setLength(): void {
    if (this.#tally) {
      this.#tally[this.#kind] += this.#ids.length - this.#length;
      this.#tally.rested();
    }
    this.#length = this.#ids.length;
  }
}

type TallyKind = 'held' | 'expecting';

/** How many ids all lists of each kind hold together. */
interface Tally {
  held: number;
  expecting: number;
  /** Told after every change of a count. */
  rested(): void;
}

/** A list that keeps nothing: for channels past MAX_CHANNELS, and where no id is expected. */
class NoIds extends IdList {
  override add(): void {}
}

/** Most stages one journey answer walks (a fan-out of fan-outs stays bounded). */
const MAX_STAGES = 64;

export class JourneyIndex implements Tally, ListenerRest {
  readonly maxIds: number;
  readonly maxHops: number;
  readonly newIdsPerSecond: number;
  readonly maxWanted: number;
  readonly waitMs: number;
  /** Insertion order is recency: an id touched again moves to the end. */
  readonly #entries = new Map<string, Entry>();
  /** Ids asked about, not (yet) recorded, with when; insertion order is age. */
  readonly #wanted = new Map<string, number>();
  /** Per channel, the ids produced or sent to it by recorded hops, not yet received. */
  readonly #expected = new Map<string, IdList>();
  /** Every list made (expected and in hand), for expiry. */
  readonly #lists: IdList[] = [];
  readonly #noIds = new NoIds();
  #lastId: string | undefined;
  #lastEntry: Entry | undefined;
  /** The budget of new ids: tokens left, refilled by time (a token bucket, burst one second's worth). */
  #tokens: number;
  #tokensAt = -Infinity;
  #skipped = 0;
  /**
   * Until this time no id is taken that is neither in hand nor expected: none is wanted and
   * the budget has no token. The observer reads it (with `resting`) before handing the model
   * an event, and the model inline before asking about an arrival.
   */
  restUntil = -Infinity;
  /** Whether any id is wanted (#wanted.size !== 0, kept here so the model's check reads this object only). */
  anyWanted = false;
  /**
   * Ids in some component's hand, and ids expected on some channel, over all lists: while
   * both are 0 (almost always) an event of an id not taken new is no journey's, and the
   * model looks nothing up for it.
   */
  held = 0;
  expecting = 0;
  /**
   * No id in hand, expected or wanted: then no event of a unit of work dated before
   * `restUntil` (when the budget has a new token) can be recorded, and the observer need not hand it over
   * (the index is its watcher's ListenerRest).
   */
  resting = true;
  /** Whether some component reads `channel`: an id produced or sent there is expected only then (else it would wait for nothing). */
  readonly #isRead: (channel: string) => boolean;

  /** `isRead`: whether a channel has a reader (default: every channel). */
  constructor(options: JourneyIndexOptions = {}, isRead: (channel: string) => boolean = () => true) {
    this.#isRead = isRead;
    this.maxIds = options.maxIds ?? 2_000;
    this.maxHops = options.maxHops ?? 32;
    this.newIdsPerSecond = options.newIdsPerSecond ?? 100;
    this.maxWanted = options.maxWanted ?? 64;
    this.waitMs = options.waitMs ?? 600_000;
    this.#tokens = this.newIdsPerSecond;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** New ids not recorded because the budget was spent, among those asked through takesNew (the model does not ask before restUntil). */
  get skipped(): number {
    return this.#skipped;
  }

  /** A list for the ids a component has in hand (received and taken, not yet done). */
  list(kind: TallyKind = 'held'): IdList {
    const list = new IdList(this, kind);
    this.#lists.push(list);
    return list;
  }

  /** The ids expected on `channel` (a list made once per channel). */
  expectedAt(channel: string): IdList {
    let list = this.#expected.get(channel);
    if (list) return list;
    if (this.#expected.size >= MAX_CHANNELS) return this.#noIds;
    list = this.list('expecting');
    this.#expected.set(channel, list);
    return list;
  }

  /** The ids expected on `channel`, an empty list when none ever was (none made). */
  expectedOn(channel: string): IdList {
    return this.#expected.get(channel) ?? this.#noIds;
  }

  /**
   * Whether the hop of `id` arriving on a channel is recorded: it was expected there (a
   * recorded hop produced or sent it), is in the component's hand (a retry), or is new and
   * taken (asked for, or within the budget). A recorded arrival is taken in hand.
   */
  arriving(id: string, at: number, inHand: IdList, expected: IdList): boolean {
    if ((expected.length !== 0 && expected.remove(id)) || (inHand.length !== 0 && inHand.has(id)) || this.takesNew(id, at)) {
      inHand.add(id, at);
      return true;
    }
    return false;
  }

  /** Whether a later hop at the component that received `id` is recorded; `done` (handled, dead-lettered) lets go of it. */
  inHand(id: string, inHand: IdList, done: boolean): boolean {
    if (inHand.length !== 0 && (done ? inHand.remove(id) : inHand.has(id))) return true;
    return this.anyWanted && this.#unwant(id);
  }

  /** Whether an outbound hop (sent, called) is recorded: of an id in hand, or new and taken. */
  outbound(id: string, at: number, inHand: IdList): boolean {
    return (inHand.length !== 0 && inHand.has(id)) || this.takesNew(id, at);
  }

  /**
   * Whether a hop of an id not followed so far is recorded: the id is wanted, or new within
   * the budget. Allocates nothing when the answer is no.
   */
  takesNew(id: string, at: number): boolean {
    if (this.anyWanted && this.#unwant(id)) return true;
    if (at > this.#tokensAt) {
      this.#tokens = Math.min(this.newIdsPerSecond, this.#tokens + ((at - this.#tokensAt) * this.newIdsPerSecond) / 1000);
      this.#tokensAt = at;
    }
    // Refilled by fractions, the bucket can stop a rounding error short of a whole token.
    if (this.#tokens >= 1 - TOKEN_ROUNDING) {
      this.#tokens = Math.max(0, this.#tokens - 1);
      return true;
    }
    this.#skipped++;
    // The next token comes when the bucket has refilled to one (never with a budget of 0),
    // and not before the next millisecond: events' times are whole milliseconds, and a due
    // time a rounding error past `at` (at 1.8e12 ms the sum rounds back to `at`) sent every
    // later event of this millisecond here again — thousands a second in a busy process.
    if (this.#wanted.size === 0) this.restUntil = this.newIdsPerSecond > 0 ? Math.max(at + 1, this.#tokensAt + ((1 - this.#tokens) * 1000) / this.newIdsPerSecond) : Infinity;
    return false;
  }

  /** Lets go of ids waited for since before `now - waitMs` (call now and then: the model does once a second). */
  expire(now: number): void {
    const before = now - this.waitMs;
    for (let i = 0; i < this.#lists.length; i++) this.#lists[i]!.expire(before);
    for (const [id, at] of this.#wanted) {
      if (at >= before) break;
      this.#wanted.delete(id);
    }
    this.anyWanted = this.#wanted.size !== 0;
    this.rested();
  }

  /** `resting` anew, after the counts of ids held, expected or wanted changed. */
  rested(): void {
    this.resting = this.held === 0 && this.expecting === 0 && !this.anyWanted;
  }

  add(id: string, hop: Hop): void {
    const entry = this.#touch(id);
    if (entry.hops.length >= this.maxHops) {
      // Keep the first hop (where it came from) and the latest ones.
      entry.hops.splice(1, 1);
      entry.dropped++;
    }
    entry.hops.push(hop);
    // What it sends or produces is expected where it goes, if anyone reads there: its arrival continues the journey.
    if (hop.step === 'sent' && this.#isRead(hop.channel)) this.expectedAt(hop.channel).add(id, hop.at);
    for (const p of hop.produced ?? []) {
      if (this.#isRead(p.output)) this.expectedAt(p.output).add(p.id, hop.at);
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

  /** `at`: when it was asked (the wait for it starts then). */
  journey(id: string, at = Date.now()): Journey | undefined {
    if (!this.#entries.has(id)) {
      // Not sampled (or forgotten): record it from now on, should it come (again).
      this.#wanted.delete(id);
      this.#wanted.set(id, at);
      this.restUntil = -Infinity;
      if (this.#wanted.size > this.maxWanted) this.#wanted.delete(this.#wanted.keys().next().value as string);
      this.anyWanted = true;
      this.resting = false;
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

  /** Takes `id` off the wanted ids; whether it was wanted. */
  #unwant(id: string): boolean {
    if (!this.#wanted.delete(id)) return false;
    this.anyWanted = this.#wanted.size !== 0;
    this.rested();
    return true;
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
