// THE stream consumer: one member of one consumer group reading one or more Redis
// streams, for every consumer Switchyard runs on Redis — a queue consumer and a listener
// group member of the generic transport (queue-consumer.ts), and a Lightbus listener of
// the bus (bus/event-listener.ts). What it delivers is the entry's raw fields; what a
// delivery means (a queue message, a Lightbus event) and how it settles is the layer
// above's, through the settlement steps here (ack, move, delay, release).
//
// Why streams with a consumer group: the group gives, on the server, what a broker gives —
// each entry to one member, a pending list (PEL) of what was handed out and not acked,
// and a way to take over what a dead member held.
//
// - Reading: XREADGROUP COUNT <free slots> BLOCK blockMs on a connection of its own, so no
//   more than `prefetch` entries are ever unsettled; a read is issued again once half the
//   window is free (not for every slot: one read per freed slot would make the reads, one
//   round trip each, the bottleneck). Several streams are read in one call; COUNT applies
//   per stream, so entries beyond the free slots wait in a small local buffer (already in
//   our PEL).
// - Own pending entries first: at start (a member with a stable name, such as a process
//   name, gets back at once what it held before a restart) and after a reconnect or a
//   settlement that did not reach Redis (a read reply lost with its connection would
//   otherwise leave entries in our PEL unseen).
// - THE reclaim rule: every reclaimIntervalMs, XAUTOCLAIM takes over, up to the free
//   slots, entries idle in the group for reclaimIdleMs — held by a member that died or
//   hangs, or released unsettled. A live member resets the idle time of what its handlers
//   still hold every reclaimIdleMs / 3 (XCLAIM JUSTID to itself, in a script that touches
//   only entries it still owns), so slow handlers are not robbed. A reclaimed entry's
//   attempt comes from its delivery count (XPENDING). Names of members that hold nothing
//   and were not seen for 3 × max(reclaimIdleMs, blockMs) are forgotten when a reclaim
//   finds work, or a member starts (syPrune, atomic).
// - A group or stream that vanished (a Redis restarted without its data) is created again.
// - Stop: a blocked read ends at once (CLIENT UNBLOCK from the command connection, or
//   closing the reader when Redis does not answer); handlers running get the grace; what
//   is still held then is handed to the layer above's onStop (handed back to a queue) or
//   left pending for a reclaim; the member's name is deleted once it holds nothing.
// Every settlement that moves an entry is one Lua script (scripts.ts), run only while this
// member still holds the entry, so an entry is never both moved and handled elsewhere; an
// ack is XACK (with XDEL in one script on queue streams).

import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.js';
import { settleWithin } from '../grace.js';
import type { Subscription } from '../transport.js';
import { Batcher, type ItemErrors } from './batcher.js';
import { STOP_GRACE_MS, sleep, unlessStopped, unrefSleep } from './connection.js';
import { consumerName } from './names.js';
import type { ScriptedRedis } from './scripts.js';

/** A stream the consumer reads, with the group's start for a group created anew. */
export interface Source {
  readonly stream: string;
  /** XDEL on ack: true for queue streams, false for topic and event streams (other groups read them too). */
  readonly deleteOnAck: boolean;
  /** Where a group created anew starts: '0' (everything kept) for queues, '$' (from now on) for topics. */
  readonly startAt: '0' | '$';
}

export interface StreamConsumerPlan {
  /** What the consumer reads, for logs: a queue, or a listener group. */
  readonly label: string;
  readonly group: string;
  readonly sources: readonly Source[];
  /** This member's name in the group; default one unique to this consumer (host, pid, random). */
  readonly name?: string;
  /**
   * Fields as UTF-8 text instead of bytes (StreamConsumer<string>), for entries that are
   * text by format (Lightbus events): ioredis decodes the reply as it settles the read, with
   * no array of strings made per entry after it (measured end to end: a Lightbus listener's
   * CPU per event 18.7 µs as text, 22.5 as bytes).
   */
  readonly text?: boolean;
}

export interface ConsumerSettings {
  readonly blockMs: number;
  readonly reclaimIdleMs: number;
  readonly reclaimIntervalMs: number;
}

/** How often a consumer looks for idle entries when not told: half the idle time, at most every 5 s. */
export function reclaimIntervalFor(reclaimIdleMs: number): number {
  return Math.min(5_000, Math.max(10, Math.floor(reclaimIdleMs / 2)));
}

/** What a consumer uses of its transport. */
export interface ConsumerHost {
  readonly commands: Redis & ScriptedRedis;
  /** A new connection of its own, for blocking reads. */
  openReader(purpose: string): Promise<Redis>;
  /** Creates the group on the stream if missing (after a Redis that lost its data, too). */
  ensureGroup(stream: string, group: string, startAt: '0' | '$', force?: boolean): Promise<void>;
  readonly log: Logger;
}

/** An entry this member holds (in its PEL) until settled. */
export interface Taken<F extends Field = Buffer> {
  readonly source: Source;
  readonly id: string;
  /** The entry's fields as read (name, value, name, value, …): bytes, or text for a consumer of `text`. */
  readonly fields: F[];
  /** Deliveries of it that never reached a handler of ours or were not settled (0 on a first read). */
  readonly missed: number;
}

/** What a field is read as: bytes, or (a consumer of `text`) UTF-8 text. */
export type Field = Buffer | string;

/** Runs one taken entry; resolves once done with it. The layer above settles it (or not) meanwhile. */
export type TakenHandler<F extends Field = Buffer> = (taken: Taken<F>) => Promise<void>;

export interface StreamConsumerOptions<F extends Field = Buffer> {
  /** What becomes of entries still held at stop (unsettled, or read and not handed out); default: left pending for a reclaim. Resolves with how many could not be handed back. */
  readonly onStop?: (held: Taken<F>[]) => Promise<number>;
  /** More periodic steps of the layer above (e.g. moving due delayed requeues), run like the consumer's own and stopped with it. */
  readonly timers?: ReadonlyArray<{ readonly ms: number; readonly run: () => Promise<void> }>;
}

type XReadReply = Array<[Field, Array<[Field, Field[] | null]>]> | null;

/** Buffer variants ioredis has at run time but does not type. */
interface BufferCommands {
  xautoclaimBuffer(...args: Array<string | number>): Promise<unknown>;
  xautoclaim(...args: Array<string | number>): Promise<unknown>;
}

export class StreamConsumer<F extends Field = Buffer> implements Subscription {
  readonly name: string;
  private reader: Redis | undefined;
  private readerId: number | undefined;
  private readerIdStale = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  /** Entries handed to the handler and not settled yet, by stream and id. */
  private readonly inFlight = new Map<string, Taken<F>>();
  private buffer: Taken<F>[] = [];
  private readonly running = new Set<Promise<void>>();
  private roomWaiter: (() => void) | undefined;
  private needHistory = true;
  /** Where the next read of our own pending entries starts, per stream (they come in pages). */
  private readonly historyFrom = new Map<string, string>();
  private readFailing = false;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Timer steps running now (a reclaim may be adding entries to the buffer). */
  private readonly background = new Set<Promise<void>>();
  private readonly reclaimCursor = new Map<string, string>();
  /** Acks of one turn of the event loop, one command (or script call) per stream. */
  private readonly acks = new Batcher<Taken<F>>((acks) => this.sendAcks(acks), { when: 'turn' });
  private readonly log: Logger;
  /** Free slots that make a read worth it: half the window (1 for prefetch 1). */
  private readonly refillAt: number;

  constructor(
    private readonly host: ConsumerHost,
    readonly plan: StreamConsumerPlan,
    private readonly handler: TakenHandler<F>,
    private readonly prefetch: number,
    private readonly settings: ConsumerSettings,
    private readonly options: StreamConsumerOptions<F> = {},
  ) {
    this.name = plan.name ?? consumerName();
    this.log = host.log.child({ queue: plan.label, consumer: this.name });
    this.refillAt = Math.max(1, Math.floor(prefetch / 2));
  }

  async start(): Promise<void> {
    const reader = await this.host.openReader(`consumer of ${this.plan.label}`);
    this.reader = reader;
    // Not awaited: it goes out just before the first read, on the same connection.
    reader.client('ID').then((id) => (this.readerId = Number(id)), () => (this.readerIdStale = true));
    let lost = false;
    reader.on('close', () => (lost = true));
    reader.on('ready', () => {
      if (!lost) return;
      lost = false;
      // A new connection has a new id (for CLIENT UNBLOCK), and a read reply may have been
      // lost with the old one: read our own pending entries first.
      this.readerIdStale = true;
      this.readHistoryAgain();
    });
    this.loopDone = this.readLoop();
    void this.prune().catch(() => undefined);
    const { reclaimIntervalMs, reclaimIdleMs } = this.settings;
    this.every(reclaimIntervalMs, () => this.reclaim());
    // Also while stop() waits for running handlers: what they hold is still ours.
    this.every(Math.max(10, Math.floor(reclaimIdleMs / 3)), () => this.touch(), { whileStopping: true });
    for (const timer of this.options.timers ?? []) this.every(timer.ms, timer.run);
  }

  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.graceMs);
    return this.stopping;
  }

  get isStopping(): boolean {
    return this.stopped;
  }

  // ---- settlement (called by the layer above; each frees the entry's slot first)

  /** Frees the slot of an entry the layer above settled or gives up (false when it was not held). */
  forget(taken: Taken<F>): boolean {
    if (!this.inFlight.delete(keyOf(taken.source.stream, taken.id))) return false;
    if (this.buffer.length === 0 && this.prefetch - this.inFlight.size < this.refillAt) return true;
    const wake = this.roomWaiter;
    this.roomWaiter = undefined;
    wake?.();
    return true;
  }

  /** XACK (and XDEL on queue streams); the acks of one turn of the event loop go out as one command or script call per stream. */
  ack(taken: Taken<F>): Promise<void> {
    this.forget(taken);
    return this.acks.write(taken);
  }

  /** ack(), told through `done` (with the error if it did not reach Redis) instead of a promise. */
  ackThen(taken: Taken<F>, done: (error?: Error) => void): void {
    this.forget(taken);
    this.acks.add(taken, done);
  }

  /** Leaves it pending, unsettled: it comes back after reclaimIdleMs (to any member). */
  release(taken: Taken<F>): void {
    this.forget(taken);
  }

  /**
   * Adds `fields` to `target` (trimmed to about maxLength when given) and settles the entry
   * on its source, at once; false when this member no longer holds it (reclaimed by another).
   */
  async move(taken: Taken<F>, target: string, fields: ReadonlyArray<string | Buffer>, maxLength?: number): Promise<boolean> {
    this.forget(taken);
    const { source } = taken;
    return (await this.host.commands.syMove(source.stream, target, this.plan.group, source.deleteOnAck ? '1' : '0', taken.id, this.name, maxLength ?? 0, ...fields)) === 1;
  }

  /** Parks `fields` in a delayed set (due in delayMs by Redis's clock) and settles the entry, at once; false when no longer held. */
  async delay(taken: Taken<F>, home: { readonly delayedSet: string; readonly delayedData: string }, delayMs: number, fields: ReadonlyArray<string | Buffer>): Promise<boolean> {
    this.forget(taken);
    const { source } = taken;
    const uid = `${source.stream}\u0000${taken.id}`;
    return (await this.host.commands.syDelay(source.stream, home.delayedSet, home.delayedData, this.plan.group, source.deleteOnAck ? '1' : '0',
      taken.id, this.name, Math.ceil(delayMs), uid, ...fields)) === 1;
  }

  /** A settlement did not reach Redis: read our pending entries again. */
  settleFailed(): void {
    this.readHistoryAgain();
  }

  private readHistoryAgain(): void {
    this.historyFrom.clear();
    this.needHistory = true;
  }

  private sendAcks(acks: readonly Taken<F>[]): Promise<ItemErrors | void> {
    // A plain XACK where nothing is deleted: the same work for Redis without running a script.
    const ack = (source: Source, ids: string[]): Promise<number> => source.deleteOnAck
      ? this.host.commands.syAck(source.stream, this.plan.group, '1', ...ids)
      : this.host.commands.xack(source.stream, this.plan.group, ...ids);
    const first = acks[0]!.source;
    if (acks.every((a) => a.source === first)) return ack(first, acks.map((a) => a.id)).then(() => undefined);
    const bySource = new Map<Source, string[]>();
    for (const a of acks) bySource.get(a.source)?.push(a.id) ?? bySource.set(a.source, [a.id]);
    const failed = new Map<Source, Error>();
    return Promise.all([...bySource].map(([source, ids]) => ack(source, ids).catch((err: Error) => void failed.set(source, err))))
      .then(() => acks.map((a) => failed.get(a.source)));
  }

  // ---- reading

  private async readLoop(): Promise<void> {
    const { sources, group } = this.plan;
    const keys = sources.map((s) => s.stream);
    while (!this.stopped) {
      this.dispatch();
      const free = this.prefetch - this.inFlight.size - this.buffer.length;
      if (free < this.refillAt) {
        await new Promise<void>((resolve) => (this.roomWaiter = resolve));
        continue;
      }
      const reader = this.reader!;
      try {
        if (this.readerIdStale) {
          this.readerIdStale = false;
          this.readerId = Number(await reader.client('ID'));
        }
        if (this.stopped) break;
        if (this.needHistory) {
          this.needHistory = false;
          const count = free + this.inFlight.size + this.buffer.length;
          const reply = (await this.read(reader, 'XREADGROUP', 'GROUP', group, this.name, 'COUNT', count,
            'STREAMS', ...keys, ...keys.map((k) => this.historyFrom.get(k) ?? '0'))) as XReadReply;
          // A full page: more may wait after its last id (a stable name held many before a restart).
          this.historyFrom.clear();
          for (const [key, entries] of reply ?? []) {
            if (entries.length < count) continue;
            this.historyFrom.set(key.toString(), entries.at(-1)![0].toString());
            this.needHistory = true;
          }
          await this.take(reply, true);
        } else {
          const reply = (await this.read(reader, 'XREADGROUP', 'GROUP', group, this.name, 'COUNT', free, 'BLOCK', this.settings.blockMs,
            'STREAMS', ...keys, ...keys.map(() => '>'))) as XReadReply;
          await this.take(reply, false);
        }
        if (this.readFailing) {
          this.readFailing = false;
          this.log.info('consuming again');
        }
      } catch (err) {
        if (this.stopped) break;
        if (reader.status === 'end') {
          // Closed for good (the transport closed under us): nothing more to read, ever.
          this.log.warn('the reader connection was closed; this consumer stops reading');
          break;
        }
        const message = (err as Error).message;
        if (/NOGROUP/.test(message)) {
          // The stream or its group is gone (a Redis restarted without its data, or a
          // deleted key): create them again and go on.
          this.log.warn({ err: message }, 'the consumer group is gone on Redis; creating it again');
          await Promise.all(sources.map((s) => this.host.ensureGroup(s.stream, group, s.startAt, true))).catch(() => undefined);
          continue;
        }
        if (!this.readFailing) this.log.warn({ err: message }, 'reading from Redis failed; trying again once it is reachable');
        this.readFailing = true;
        this.readHistoryAgain();
        await sleep(200);
      }
    }
  }

  /** A read whose reply holds bytes, or text for a consumer of `text`. */
  private read(reader: Redis, command: string, ...args: Array<string | number>): Promise<unknown> {
    return this.plan.text ? reader.call(command, ...args) : reader.callBuffer(command, ...args);
  }

  /** Entries of a read into the buffer, then out to the handler. */
  private async take(reply: XReadReply, history: boolean): Promise<void> {
    if (!reply) return;
    const gone: Taken<F>[] = [];
    for (const [key, entries] of reply) {
      const stream = key.toString();
      const source = this.plan.sources.find((s) => s.stream === stream);
      if (!source || entries.length === 0) continue;
      const counts = history ? await this.deliveryCounts(source, entries.map(([id]) => id.toString())) : undefined;
      for (const [rawId, fields] of entries) {
        const id = rawId.toString();
        if (history && (this.inFlight.has(keyOf(stream, id)) || this.buffer.some((p) => p.source === source && p.id === id))) continue;
        const taken: Taken<F> = { source, id, fields: (fields ?? []) as F[], missed: counts ? Math.max(1, (counts.get(id) ?? 2) - 1) : 0 };
        // Trimmed (MAXLEN) or deleted while pending: nothing left to deliver.
        if (!fields) gone.push(taken);
        else this.buffer.push(taken);
      }
    }
    this.dispatch();
    for (const taken of gone) await this.host.commands.syAck(taken.source.stream, this.plan.group, taken.source.deleteOnAck ? '1' : '0', taken.id).catch(() => undefined);
  }

  /** How often each of these entries (in id order) was delivered, from the group's pending list. */
  private async deliveryCounts(source: Source, ids: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const rows = (await this.host.commands.xpending(source.stream, this.plan.group, ids[0]!, ids.at(-1)!, ids.length * 2 + 10, this.name)
      .catch(() => [])) as Array<[string, string, number, number]>;
    for (const [id, , , count] of rows) counts.set(id, Number(count));
    return counts;
  }

  private dispatch(): void {
    while (!this.stopped && this.buffer.length > 0 && this.inFlight.size < this.prefetch) this.deliver(this.buffer.shift()!);
  }

  private deliver(taken: Taken<F>): void {
    this.inFlight.set(keyOf(taken.source.stream, taken.id), taken);
    // The handler starts on a microtask, never inside the read's reply handling. Two
    // then()s, not then/catch/finally: three promises per entry fewer.
    const run: Promise<void> = Promise.resolve(taken)
      .then(this.handler)
      .then(
        () => void this.running.delete(run),
        (err: unknown) => {
          this.running.delete(run);
          this.log.error({ err, stream: taken.source.stream, id: taken.id }, 'handling an entry failed; it stays pending and is reclaimed later');
        },
      );
    this.running.add(run);
  }

  // ---- timers: reclaim, keep-alive of held entries, the layer above's

  private every(ms: number, fn: () => Promise<void>, { whileStopping = false } = {}): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || (this.stopped && !whileStopping)) return;
      busy = true;
      const step: Promise<void> = fn()
        .catch((err: unknown) => this.log.debug({ err: (err as Error).message }, 'background step failed; tried again on the next tick'))
        .finally(() => {
          busy = false;
          this.background.delete(step);
        });
      this.background.add(step);
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** THE reclaim rule: takes over entries idle longer than reclaimIdleMs, up to the free slots. */
  private async reclaim(): Promise<void> {
    const { group } = this.plan;
    const redis = this.host.commands;
    for (const source of this.plan.sources) {
      const free = this.prefetch - this.inFlight.size - this.buffer.length;
      if (free <= 0 || this.stopped) return;
      const cursor = this.reclaimCursor.get(source.stream) ?? '0-0';
      // Typed methods, not call(): auto-pipelining loses call()'s command name in ioredis 5.
      const commands = redis as unknown as BufferCommands;
      const [next, claimed, deleted] = (await (this.plan.text ? commands.xautoclaim : commands.xautoclaimBuffer).call(redis, source.stream, group, this.name,
        this.settings.reclaimIdleMs, cursor, 'COUNT', free)) as [Field, Array<[Field, F[] | null]>, Field[] | undefined];
      this.reclaimCursor.set(source.stream, next.toString());
      const live = claimed.filter(([, fields]) => fields);
      if (deleted?.length) this.log.debug({ count: deleted.length }, 'pending entries were trimmed before anyone acked them');
      if (live.length === 0) continue;
      // How often each was delivered before (XAUTOCLAIM counted this one too).
      const counts = await this.deliveryCounts(source, live.map(([id]) => id.toString()));
      this.log.warn({ count: live.length, stream: source.stream }, 'reclaimed entries held too long (their consumer died, hangs, or released them); delivering them again');
      void this.prune().catch(() => undefined);
      for (const [rawId, fields] of live) {
        const id = rawId.toString();
        if (this.inFlight.has(keyOf(source.stream, id))) continue;
        this.buffer.push({ source, id, fields: fields!, missed: Math.max(1, (counts.get(id) ?? 2) - 1) });
      }
      this.dispatch();
    }
  }

  /** Forgets member names of the group that hold nothing and were not seen for long: killed processes. */
  private async prune(): Promise<void> {
    const { reclaimIdleMs, blockMs } = this.settings;
    const minIdle = 3 * Math.max(reclaimIdleMs, blockMs);
    for (const source of this.plan.sources) {
      const pruned = await this.host.commands.syPrune(source.stream, this.plan.group, minIdle).catch(() => 0);
      if (pruned > 0) this.log.info({ count: pruned, stream: source.stream }, 'forgot consumers that held nothing and were not seen for long (stopped without saying so)');
    }
  }

  /** Resets the idle time of what we hold, so only entries of a dead (or releasing) member look idle. */
  private async touch(): Promise<void> {
    const bySource = new Map<Source, string[]>();
    for (const t of [...this.inFlight.values(), ...this.buffer]) bySource.get(t.source)?.push(t.id) ?? bySource.set(t.source, [t.id]);
    for (const [source, ids] of bySource) await this.host.commands.syTouch(source.stream, this.plan.group, this.name, ...ids);
  }

  // ---- stopping

  private async drain(graceMs: number | undefined): Promise<void> {
    this.stopped = true;
    this.roomWaiter?.();
    // One grace for both, while Redis does not answer: the blocked read ends, and a
    // reclaim under way finishes (what it takes over is handled with the rest).
    const grace = unrefSleep(STOP_GRACE_MS);
    await this.endBlockedRead(grace);
    await unlessStopped(Promise.allSettled([...this.background]), grace);
    // A handler waiting on a settlement cannot end while Redis is down (ioredis holds the
    // command until it is back, or for ever once its connection is closed): with Redis
    // unreachable, handlers get the grace and no more; what they hold stays pending on
    // Redis, reclaimed later (at least once).
    const reachable = this.host.commands.status === 'ready';
    await settleWithin(this.running, graceMs ?? (reachable ? undefined : STOP_GRACE_MS));
    for (const timer of this.timers) clearInterval(timer);
    const held = [...this.inFlight.values(), ...this.buffer];
    this.inFlight.clear();
    this.buffer = [];
    const failed = held.length > 0 && this.options.onStop ? await this.options.onStop(held) : 0;
    if (failed > 0) this.log.warn({ failed }, 'could not hand back every unsettled delivery; they stay pending and are reclaimed after reclaimIdleMs');
    // (Not while Redis is unreachable: the name is pruned later by another member.)
    else if ((held.length === 0 || this.options.onStop) && this.host.commands.status === 'ready') await unlessStopped(this.leaveGroup(), unrefSleep(STOP_GRACE_MS));
    this.reader?.disconnect();
  }

  /** Nothing of ours is pending any more: the member's name can go. */
  private async leaveGroup(): Promise<void> {
    const redis = this.host.commands;
    for (const source of this.plan.sources) {
      const mine = (await redis.xpending(source.stream, this.plan.group, '-', '+', 1, this.name).catch(() => [1])) as unknown[];
      if (mine.length === 0) await redis.xgroup('DELCONSUMER', source.stream, this.plan.group, this.name).catch(() => undefined);
    }
  }

  /** Ends our blocked XREADGROUP at once (CLIENT UNBLOCK), or, when Redis does not answer, by closing its connection. */
  private async endBlockedRead(grace: Promise<void>): Promise<void> {
    let done = false;
    const loop = this.loopDone.then(() => (done = true));
    let late = false;
    void grace.then(() => (late = true));
    // A reader that is not connected has nothing blocked on Redis to end: closed at once.
    while (!done && !late && this.reader?.status === 'ready') {
      if (this.readerId !== undefined) void this.host.commands.client('UNBLOCK', this.readerId, 'TIMEOUT').catch(() => undefined);
      await Promise.race([loop, sleep(25)]);
    }
    if (!done) {
      this.reader?.disconnect();
      // A read queued on a connection that was reconnecting never settles once it is
      // disconnected (ioredis keeps it queued): the loop is left behind, it does nothing more.
      await unlessStopped(loop, grace);
    }
  }
}

function keyOf(stream: string, id: string): string {
  return `${stream}\u0000${id}`;
}
