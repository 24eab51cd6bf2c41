// One consumer (a queue consumer or one member of a listener group) over Redis Streams.
//
// Why streams with a consumer group, for queues too: the group gives, on the server, what a
// broker gives — each entry to one member, a pending list (PEL) of what was handed out and
// not acked, and XAUTOCLAIM to take over what a dead member held. What the group does not
// give is done with Lua scripts (scripts.ts), each one atomic step:
//
// - ack: XACK, and on queue streams XDEL too (a queue keeps only what is not done yet).
// - requeue / handed back / handler threw: the entry is re-added at the tail of the
//   consumer's home queue with its attempt + 1, and settled on its source, at once.
// - delayed requeue: parked in a sorted set (due time) + hash; every consumer of the queue
//   moves due entries back (atomic, so never twice).
// - dead letter: re-added to deadLetterQueueOf(queue) with DEAD_LETTER_HEADERS, at once.
//
// Prefetch: XREADGROUP COUNT asks for at most the free slots, so no more than `prefetch`
// deliveries are ever unsettled. A listener group reads two streams in one call (the topic
// and its own retry queue) and COUNT applies per stream: entries beyond the free slots wait
// in a small local buffer (already in our PEL) and are handed back with the rest on stop.
//
// Blocking reads use a connection of their own (one per consumer). stop() ends a blocked
// read at once with CLIENT UNBLOCK from the command connection, so no entry read at that
// moment is stranded. After a reconnect the consumer first reads its own pending entries
// (id 0): a reply lost with the connection would otherwise leave them in our PEL unseen.
// Entries held by a consumer that died are reclaimed by live ones after `reclaimIdleMs`;
// live consumers refresh the idle time of what their handlers still hold, so slow
// handlers are not robbed.

import type { Redis } from 'ioredis';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { settleWithin } from '../grace.js';
import type { DeliveryHandler, Headers, Subscription } from '../transport.js';
import { Batcher, type ItemErrors } from './batcher.js';
import { entryFields, parseEntry, type Entry } from './entry.js';
import { consumerName } from './names.js';
import { RedisDelivery } from './redis-delivery.js';
import type { ScriptedRedis } from './scripts.js';

/** A stream the consumer reads, with the group's start for a group created anew. */
export interface Source {
  readonly stream: string;
  /** XDEL on ack: true for queue streams, false for topic streams (other groups read them too). */
  readonly deleteOnAck: boolean;
  /** Where a group created anew starts: '0' (everything kept) for queues, '$' (from now on) for topics. */
  readonly startAt: '0' | '$';
}

export interface ConsumerPlan {
  /** The queue deliveries name: the queue, or the listener group's own queue. */
  readonly queue: string;
  readonly group: string;
  readonly sources: readonly Source[];
  /** The home queue's keys: requeues go to its stream, delays to its set and hash. */
  readonly home: { readonly stream: string; readonly delayedSet: string; readonly delayedData: string };
  readonly deadLetterStream: string;
}

export interface ConsumerSettings {
  readonly blockMs: number;
  readonly reclaimIdleMs: number;
  readonly reclaimIntervalMs: number;
  readonly delayPollMs: number;
}

export interface ConsumerHost {
  readonly commands: Redis & ScriptedRedis;
  /** A new connection of its own, for blocking reads. */
  openReader(purpose: string): Promise<Redis>;
  /** Creates the group on the stream if missing (after a Redis that lost its data, too). */
  ensureGroup(stream: string, group: string, startAt: '0' | '$', force?: boolean): Promise<void>;
  readonly settings: ConsumerSettings;
  readonly log: Logger;
}

interface Pending {
  readonly source: Source;
  readonly id: string;
  readonly entry: Entry;
  /** Deliveries of this entry that never reached a handler of ours or were not acked (0 on a first read). */
  readonly missed: number;
}

/** Buffer variants ioredis has at run time but does not type. */
interface BufferCommands {
  xautoclaimBuffer(...args: Array<string | number>): Promise<unknown>;
}

type XReadReply = Array<[Buffer, Array<[Buffer, Buffer[] | null]>]> | null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RedisConsumer implements Subscription {
  readonly name = consumerName();
  private reader: Redis | undefined;
  private readerId: number | undefined;
  private readerIdStale = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly inFlight = new Map<string, RedisDelivery>();
  private buffer: Pending[] = [];
  private readonly running = new Set<Promise<void>>();
  private roomWaiter: (() => void) | undefined;
  private needHistory = false;
  private readFailing = false;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Timer steps running now (a reclaim may be adding entries to the buffer). */
  private readonly background = new Set<Promise<void>>();
  private readonly reclaimCursor = new Map<string, string>();
  /** Acks of one turn of the event loop, one script call per stream (see ackLater). */
  private readonly acks = new Batcher<{ readonly source: Source; readonly id: string }>((acks) => this.sendAcks(acks), { when: 'turn' });
  private readonly log: Logger;
  /** Free slots that make a read worth it: half the window (1 for prefetch 1). */
  private readonly refillAt: number;

  constructor(
    private readonly host: ConsumerHost,
    readonly plan: ConsumerPlan,
    private readonly handler: DeliveryHandler,
    private readonly prefetch: number,
  ) {
    this.log = host.log.child({ queue: plan.queue, consumer: this.name });
    this.refillAt = Math.max(1, Math.floor(prefetch / 2));
  }

  get queue(): string {
    return this.plan.queue;
  }

  async start(): Promise<void> {
    const reader = await this.host.openReader(`consumer of ${this.plan.queue}`);
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
      this.needHistory = true;
    });
    this.loopDone = this.readLoop();
    void this.prune().catch(() => undefined);
    const { reclaimIntervalMs, reclaimIdleMs, delayPollMs } = this.host.settings;
    this.every(reclaimIntervalMs, () => this.reclaim());
    // Also while stop() waits for running handlers: what they hold is still ours.
    this.every(Math.max(10, Math.floor(reclaimIdleMs / 3)), () => this.touch(), { whileStopping: true });
    // Delayed requeues: every delayPollMs while some wait, ten times slower while none do
    // (a delayed nack of ours speeds it up again at once).
    let quietTicks = 0;
    this.every(delayPollMs, async () => {
      if (this.delaysWaiting) quietTicks = 0;
      else if (++quietTicks % 10 !== 0) return;
      this.delaysWaiting = (await this.moveDue()) > 0;
    });
  }

  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.graceMs);
    return this.stopping;
  }

  // ---- reading

  private async readLoop(): Promise<void> {
    const { sources, group } = this.plan;
    const keys = sources.map((s) => s.stream);
    while (!this.stopped) {
      this.dispatch();
      const free = this.prefetch - this.inFlight.size - this.buffer.length;
      // Read again once a good part of the window is free, not for every slot: one read per
      // freed slot would make the reads, one round trip each, the bottleneck.
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
          const reply = (await reader.callBuffer('XREADGROUP', 'GROUP', group, this.name, 'COUNT', free + this.inFlight.size + this.buffer.length,
            'STREAMS', ...keys, ...keys.map(() => '0'))) as XReadReply;
          await this.take(reply, true);
        } else {
          const reply = (await reader.callBuffer('XREADGROUP', 'GROUP', group, this.name, 'COUNT', free, 'BLOCK', this.host.settings.blockMs,
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
        this.needHistory = true;
        await sleep(200);
      }
    }
  }

  /** Entries of a read (or of a reclaim) into the buffer, then out to the handler. */
  private async take(reply: XReadReply, history: boolean): Promise<void> {
    if (!reply) return;
    const gone: Array<[Source, string]> = [];
    for (const [key, entries] of reply) {
      const stream = key.toString();
      const source = this.plan.sources.find((s) => s.stream === stream);
      if (!source) continue;
      for (const [rawId, fields] of entries) {
        const id = rawId.toString();
        if (history && (this.inFlight.has(keyOf(stream, id)) || this.buffer.some((p) => p.source === source && p.id === id))) continue;
        const entry = parseEntry(fields);
        // Trimmed (MAXLEN) or deleted while pending: nothing left to deliver.
        if (!entry) gone.push([source, id]);
        else this.buffer.push({ source, id, entry, missed: history ? 1 : 0 });
      }
    }
    this.dispatch();
    for (const [source, id] of gone) await this.host.commands.syAck(source.stream, this.plan.group, source.deleteOnAck ? '1' : '0', id).catch(() => undefined);
  }

  private dispatch(): void {
    while (!this.stopped && this.buffer.length > 0 && this.inFlight.size < this.prefetch) this.deliver(this.buffer.shift()!);
  }

  private deliver(pending: Pending): void {
    const delivery = new RedisDelivery(this, pending.source, pending.id, pending.entry, pending.entry.attempt + pending.missed);
    this.inFlight.set(keyOf(pending.source.stream, pending.id), delivery);
    // The handler starts on a microtask, never inside the read's reply handling; one that
    // throws (synchronously or not) leaves its delivery unsettled: it goes back, flagged.
    const run: Promise<void> = Promise.resolve(delivery).then(this.handler).then(
      () => {
        this.running.delete(run);
      },
      () => this.handBack(delivery).finally(() => this.running.delete(run)),
    );
    this.running.add(run);
  }

  private async handBack(delivery: RedisDelivery): Promise<void> {
    if (delivery.settled) return;
    try {
      await delivery.nack({ requeue: true });
    } catch (err) {
      this.needHistory = true;
      this.log.warn({ err: (err as Error).message }, 'could not hand back a failed delivery; it stays pending and is read again');
    }
  }

  /** @internal called by a delivery once settled: its slot is free. */
  forget(delivery: RedisDelivery): void {
    this.inFlight.delete(keyOf(delivery.source.stream, delivery.id));
    if (this.buffer.length === 0 && this.prefetch - this.inFlight.size < this.refillAt) return;
    const wake = this.roomWaiter;
    this.roomWaiter = undefined;
    wake?.();
  }

  /**
   * @internal Acks of one turn of the event loop go out as one script call per stream
   * (XACK and XDEL of many ids): under load that halves the commands per message.
   */
  ackLater(source: Source, id: string): Promise<void> {
    return this.acks.write({ source, id });
  }

  private sendAcks(acks: ReadonlyArray<{ readonly source: Source; readonly id: string }>): Promise<ItemErrors | void> {
    const ack = (source: Source, ids: string[]) => this.host.commands.syAck(source.stream, this.plan.group, source.deleteOnAck ? '1' : '0', ...ids);
    const first = acks[0]!.source;
    if (acks.every((a) => a.source === first)) return ack(first, acks.map((a) => a.id)).then(() => undefined);
    const bySource = new Map<Source, string[]>();
    for (const a of acks) bySource.get(a.source)?.push(a.id) ?? bySource.set(a.source, [a.id]);
    const failed = new Map<Source, Error>();
    return Promise.all([...bySource].map(([source, ids]) => ack(source, ids).catch((err: Error) => void failed.set(source, err))))
      .then(() => acks.map((a) => failed.get(a.source)));
  }

  /** @internal a settlement did not reach Redis: read our pending entries again. */
  settleFailed(): void {
    this.needHistory = true;
  }

  /** @internal */
  get redis(): Redis & ScriptedRedis {
    return this.host.commands;
  }

  // ---- timers: reclaim, keep-alive of held entries, delayed requeues

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

  /** Takes over entries idle longer than reclaimIdleMs (their consumer died), up to the free slots. */
  private async reclaim(): Promise<void> {
    const { group } = this.plan;
    const redis = this.host.commands;
    for (const source of this.plan.sources) {
      const free = this.prefetch - this.inFlight.size - this.buffer.length;
      if (free <= 0 || this.stopped) return;
      const cursor = this.reclaimCursor.get(source.stream) ?? '0-0';
      // Typed methods, not call(): auto-pipelining loses call()'s command name in ioredis 5.
      const [next, claimed, deleted] = (await (redis as unknown as BufferCommands).xautoclaimBuffer(source.stream, group, this.name,
        this.host.settings.reclaimIdleMs, cursor, 'COUNT', free)) as [Buffer, Array<[Buffer, Buffer[] | null]>, Buffer[] | undefined];
      this.reclaimCursor.set(source.stream, next.toString());
      const live = claimed.filter(([, fields]) => fields);
      if (deleted?.length) this.log.debug({ count: deleted.length }, 'pending entries were trimmed before anyone acked them');
      if (live.length === 0) continue;
      const ids = live.map(([id]) => id.toString());
      // How often each was delivered before (XAUTOCLAIM counted this one too).
      const counts = new Map<string, number>();
      const rows = (await redis.xpending(source.stream, group, ids[0]!, ids.at(-1)!, ids.length * 2 + 10, this.name)) as Array<[string, string, number, number]>;
      for (const [id, , , count] of rows) counts.set(id, Number(count));
      this.log.warn({ count: ids.length, stream: source.stream }, 'reclaimed entries a consumer held too long (it died or hangs); delivering them again');
      void this.prune().catch(() => undefined);
      for (const [rawId, fields] of live) {
        const id = rawId.toString();
        if (this.inFlight.has(keyOf(source.stream, id))) continue;
        const entry = parseEntry(fields)!;
        this.buffer.push({ source, id, entry, missed: Math.max(1, (counts.get(id) ?? 2) - 1) });
      }
      this.dispatch();
    }
  }

  /** Forgets consumer names of the group that hold nothing and were not seen for long: killed processes. */
  private async prune(): Promise<void> {
    const { reclaimIdleMs, blockMs } = this.host.settings;
    const minIdle = 3 * Math.max(reclaimIdleMs, blockMs);
    for (const source of this.plan.sources) {
      const pruned = await this.host.commands.syPrune(source.stream, this.plan.group, minIdle).catch(() => 0);
      if (pruned > 0) this.log.info({ count: pruned, stream: source.stream }, 'forgot consumers that held nothing and were not seen for long (stopped without saying so)');
    }
  }

  /** Resets the idle time of what we hold, so only a dead consumer's entries look idle. */
  private async touch(): Promise<void> {
    const bySource = new Map<Source, string[]>();
    for (const d of this.inFlight.values()) bySource.set(d.source, [...(bySource.get(d.source) ?? []), d.id]);
    for (const p of this.buffer) bySource.set(p.source, [...(bySource.get(p.source) ?? []), p.id]);
    for (const [source, ids] of bySource) await this.host.commands.syTouch(source.stream, this.plan.group, this.name, ...ids);
  }

  /** Moves what is due back to the home queue; answers how many still wait. */
  private moveDue(): Promise<number> {
    const { home } = this.plan;
    return this.host.commands.syDue(home.delayedSet, home.delayedData, home.stream, 100);
  }

  /** @internal a delayed requeue was parked: watch the delayed set closely. */
  delaysWaiting = false;

  // ---- stopping

  private async drain(graceMs: number | undefined): Promise<void> {
    this.stopped = true;
    this.roomWaiter?.();
    await this.endBlockedRead();
    // A reclaim under way finishes first: what it takes over is handed back with the rest.
    await Promise.allSettled([...this.background]);
    await settleWithin(this.running, graceMs);
    for (const timer of this.timers) clearInterval(timer);
    // Everything still unsettled goes back to the home queue, in the order it came.
    const unsettled = [...this.inFlight.values()];
    const unread = this.buffer;
    this.buffer = [];
    const redis = this.host.commands;
    const backs: Array<Promise<unknown>> = [];
    for (const delivery of unsettled) backs.push(delivery.handBackOnStop());
    for (const p of unread) backs.push(this.moveHome(p.source, p.id, p.entry, p.entry.attempt + p.missed));
    const results = await Promise.allSettled(backs);
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) this.log.warn({ failed }, 'could not hand back every unsettled delivery; they stay pending and are reclaimed after reclaimIdleMs');
    else {
      // Nothing of ours is pending any more: the consumer name can go.
      for (const source of this.plan.sources) {
        const mine = (await redis.xpending(source.stream, this.plan.group, '-', '+', 1, this.name).catch(() => [1])) as unknown[];
        if (mine.length === 0) await redis.xgroup('DELCONSUMER', source.stream, this.plan.group, this.name).catch(() => undefined);
      }
    }
    this.reader?.disconnect();
  }

  /** Ends our blocked XREADGROUP at once (CLIENT UNBLOCK), or, when Redis does not answer, by closing its connection. */
  private async endBlockedRead(): Promise<void> {
    let done = false;
    const loop = this.loopDone.then(() => (done = true));
    const deadline = Date.now() + 2_000;
    while (!done && Date.now() < deadline) {
      if (this.readerId !== undefined) void this.host.commands.client('UNBLOCK', this.readerId, 'TIMEOUT').catch(() => undefined);
      await Promise.race([loop, sleep(25)]);
    }
    if (!done) {
      this.reader?.disconnect();
      await loop;
    }
  }

  /** Re-adds an entry at the tail of the home queue and settles it on its source, atomically. */
  async moveHome(source: Source, id: string, entry: { body: Uint8Array; headers: Headers }, attempt: number): Promise<void> {
    const moved = await this.host.commands.syMove(source.stream, this.plan.home.stream, this.plan.group, source.deleteOnAck ? '1' : '0', id, this.name,
      ...entryFields(entry.body, entry.headers, attempt));
    if (!moved) throw new errors.SY_ERR_DELIVERY_RECLAIMED(this.plan.queue);
  }
}

function keyOf(stream: string, id: string): string {
  return `${stream}\u0000${id}`;
}
