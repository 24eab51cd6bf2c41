// A consumer of the generic Redis transport — a queue's, or a listener group member's of
// a topic — on THE stream consumer (stream-consumer.ts), with the queue semantics on top:
//
// - ack: XACK, and on queue streams XDEL too (a queue keeps only what is not done yet).
// - requeue / handed back / handler threw: the entry is re-added at the tail of the
//   consumer's home queue with its attempt + 1, and settled on its source, at once.
// - delayed requeue: parked in a sorted set (due time) + hash; every consumer of the queue
//   moves due entries back (atomic, so never twice).
// - dead letter: re-added to deadLetterQueueOf(queue) with DEAD_LETTER_HEADERS, at once.
// - stop: every delivery still unsettled after the grace, and every entry read and not
//   yet handed out, goes back to the home queue in the order it came, flagged redelivered.
//
// A listener group's own retries cannot go back on the topic stream, where every group
// would see them again: its home is a queue of its own (names.ts groupQueueOf), read
// together with the topic.

import { errors } from '../../errors.js';
import { DEAD_LETTER_HEADERS, type Delivery, type DeliveryHandler, type Headers, type NackOptions, type Subscription } from '../transport.js';
import { entryFields, parseEntry, type Entry } from './entry.js';
import { StreamConsumer, type ConsumerHost, type ConsumerSettings, type Source, type Taken } from './stream-consumer.js';

export interface QueuePlan {
  /** The queue deliveries name: the queue, or the listener group's own queue. */
  readonly queue: string;
  readonly group: string;
  readonly sources: readonly Source[];
  /** The home queue's keys: requeues go to its stream, delays to its set and hash. */
  readonly home: { readonly stream: string; readonly delayedSet: string; readonly delayedData: string };
  readonly deadLetterStream: string;
}

export interface QueueConsumerSettings extends ConsumerSettings {
  /** How often due delayed requeues move back to the home queue (ten times less often while none wait). */
  readonly delayPollMs: number;
}

/** Starts a consumer of `plan`; its subscription stops it (handing back what it holds). */
export async function startQueueConsumer(host: ConsumerHost, plan: QueuePlan, handler: DeliveryHandler, prefetch: number, settings: QueueConsumerSettings): Promise<Subscription> {
  const consumer = new QueueConsumer(host, plan, handler, prefetch, settings);
  await consumer.stream.start();
  return consumer.stream;
}

class QueueConsumer {
  readonly stream: StreamConsumer;
  /** Deliveries handed out and not settled, by their entry. */
  private readonly deliveries = new Map<Taken, RedisDelivery>();
  /** A delayed requeue was parked: watch the delayed set closely. */
  delaysWaiting = false;

  constructor(
    private readonly host: ConsumerHost,
    readonly plan: QueuePlan,
    private readonly handler: DeliveryHandler,
    prefetch: number,
    settings: QueueConsumerSettings,
  ) {
    // Delayed requeues: every delayPollMs while some wait, ten times slower while none do
    // (a delayed nack of ours speeds it up again at once).
    let quietTicks = 0;
    const moveDue = async () => {
      if (this.delaysWaiting) quietTicks = 0;
      else if (++quietTicks % 10 !== 0) return;
      const { home } = this.plan;
      this.delaysWaiting = (await this.host.commands.syDue(home.delayedSet, home.delayedData, home.stream, 100)) > 0;
    };
    this.stream = new StreamConsumer(host, { label: plan.queue, group: plan.group, sources: plan.sources }, (taken) => this.run(taken), prefetch, settings, {
      onStop: (held) => this.handBackAll(held),
      timers: [{ ms: settings.delayPollMs, run: moveDue }],
    });
  }

  /** The handler runs on the delivery; one that throws (synchronously or not) leaves it unsettled: it goes back, flagged. */
  private run(taken: Taken): Promise<void> {
    const entry = parseEntry(taken.fields)!;
    const delivery = new RedisDelivery(this, taken, entry, entry.attempt + taken.missed);
    this.deliveries.set(taken, delivery);
    return Promise.resolve(delivery).then(this.handler).then(undefined, () => this.handBack(delivery));
  }

  private async handBack(delivery: RedisDelivery): Promise<void> {
    if (delivery.settled) return;
    try {
      await delivery.nack({ requeue: true });
    } catch (err) {
      this.stream.settleFailed();
      this.host.log.warn({ queue: this.plan.queue, err: (err as Error).message }, 'could not hand back a failed delivery; it stays pending and is read again');
    }
  }

  /** stop(): everything still held goes back to the home queue, in the order it came; resolves with how many could not. */
  private async handBackAll(held: Taken[]): Promise<number> {
    const backs = held.map((taken) => {
      const delivery = this.deliveries.get(taken);
      if (delivery) return delivery.handBackOnStop();
      const entry = parseEntry(taken.fields)!;
      return this.moveHome(taken, entry, entry.attempt + taken.missed);
    });
    return (await Promise.allSettled(backs)).filter((r) => r.status === 'rejected').length;
  }

  /** Re-adds an entry at the tail of the home queue and settles it on its source, atomically. */
  async moveHome(taken: Taken, entry: { body: Uint8Array; headers: Headers }, attempt: number): Promise<void> {
    if (!(await this.stream.move(taken, this.plan.home.stream, entryFields(entry.body, entry.headers, attempt)))) throw new errors.SY_ERR_DELIVERY_RECLAIMED(this.plan.queue);
  }

  /** A delivery settled (or handed back): it is no longer ours to track. */
  settled(taken: Taken): void {
    this.deliveries.delete(taken);
  }
}

/** One delivery of a queue consumer; each settlement is one Lua script, run only while its consumer still holds the entry. */
class RedisDelivery implements Delivery {
  private state: 'acked' | 'nacked' | 'handed back' | undefined;

  constructor(
    private readonly consumer: QueueConsumer,
    private readonly taken: Taken,
    private readonly entry: Entry,
    readonly attempt: number,
  ) {}

  get id(): string { return this.taken.id; }
  get body(): Uint8Array { return this.entry.body; }
  get headers(): Headers { return this.entry.headers; }
  get queue(): string { return this.consumer.plan.queue; }
  get redelivered(): boolean { return this.attempt > 1; }
  get settled(): boolean { return this.state !== undefined; }

  async ack(): Promise<void> {
    this.settle('acked');
    try {
      await this.consumer.stream.ack(this.taken);
    } catch (err) {
      this.consumer.stream.settleFailed();
      throw new errors.SY_ERR_BROKER(`ack on "${this.queue}"`, `${(err as Error).message}; the message stays pending and is delivered again`);
    }
  }

  async nack(options: NackOptions): Promise<void> {
    this.settle('nacked');
    const { stream, plan } = this.consumer;
    try {
      let done: boolean;
      if (!options.requeue) {
        const headers = {
          ...this.entry.headers,
          [DEAD_LETTER_HEADERS.reason]: options.reason,
          [DEAD_LETTER_HEADERS.sourceQueue]: this.queue,
          [DEAD_LETTER_HEADERS.attempts]: String(this.attempt),
        };
        done = await stream.move(this.taken, plan.deadLetterStream, entryFields(this.entry.body, headers, 1));
      } else if (options.delayMs && options.delayMs > 0) {
        done = await stream.delay(this.taken, plan.home, options.delayMs, entryFields(this.entry.body, this.entry.headers, this.attempt + 1));
        if (done) this.consumer.delaysWaiting = true;
      } else {
        done = await stream.move(this.taken, plan.home.stream, entryFields(this.entry.body, this.entry.headers, this.attempt + 1));
      }
      if (!done) throw new errors.SY_ERR_DELIVERY_RECLAIMED(this.queue);
    } catch (err) {
      if ((err as { code?: string }).code === 'SY_ERR_DELIVERY_RECLAIMED') throw err;
      stream.settleFailed();
      throw new errors.SY_ERR_BROKER(`nack on "${this.queue}"`, `${(err as Error).message}; the message stays pending and is delivered again`);
    }
  }

  /** stop(): back to the queue, flagged, unless settled meanwhile. */
  handBackOnStop(): Promise<void> {
    if (this.state) return Promise.resolve();
    this.settle('handed back');
    return this.consumer.moveHome(this.taken, this.entry, this.attempt + 1);
  }

  private settle(how: 'acked' | 'nacked' | 'handed back'): void {
    if (this.state) throw new errors.SY_ERR_DELIVERY_SETTLED(this.queue, this.state);
    this.state = how;
    this.consumer.settled(this.taken);
  }
}
