// The acks of one consuming channel, coalesced: the deliveries finished within one tick
// go to the broker as ONE basic.ack with multiple=true for the longest prefix of
// outstanding delivery tags that are all done, then one basic.ack each for the done ones
// after it. At c128 a tick finishes tens of deliveries, and RabbitMQ, not this process,
// sets the pace (the benchmark's process is ~74% idle): one frame for many saves the
// broker a frame's work per message.
//
// What it never does:
// - hold a done ack waiting for a slower, earlier delivery (that would fill the prefetch
//   window and stall the consumer): a done tag after a gap is acked on its own;
// - fold a nack into a multiple ack: a nack goes at once, and its tag leaves the
//   outstanding set at once, so no later multiple ack covers it;
// - send anything for a closed channel: pending acks are dropped, the broker redelivers
//   those messages (at-least-once).
//
// Delivery tags are per channel, and each consumer has a channel of its own
// (amqp-consumer.ts), so one coalescer per consumer channel sees every tag of its channel.

import type { Channel, Message } from 'amqplib';

/**
 * When a batch of acks goes, unless no delivery is left working: setImmediate, so every
 * delivery finished by the socket reads of one event-loop turn acks in it. Measured against
 * queueMicrotask at c128 (bench/RESULTS.md, amqp section): the same ~0.017 ack frames per
 * message, and no difference in rate or broker CPU beyond the noise; setImmediate does not
 * depend on how many promise hops each handler takes after its confirm.
 */
export type Scheduler = (flush: () => void) => void;

export class AckCoalescer {
  /**
   * Every delivery tag of the channel not yet acked or nacked, in delivery order (tags
   * rise on a channel, and a Map iterates in insertion order); true once done.
   */
  private readonly outstanding = new Map<number, boolean>();
  /** The tags done since the last flush. */
  private done: number[] = [];
  private spare: number[] = [];
  private batch: Batch | undefined;
  private closed = false;
  /** A flush is scheduled (it sends whatever batch there is by then). */
  private scheduled = false;
  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly channel: Pick<Channel, 'ack' | 'nack'>,
    /** The error a pending ack rejects with when its channel closed first. */
    private readonly lost: () => Error,
    private readonly schedule: Scheduler = setImmediate,
  ) {}

  /** A delivery came on the channel: its tag is outstanding until acked or nacked. */
  delivered(tag: number): void {
    this.outstanding.set(tag, false);
  }

  /**
   * Marks the delivery done; its ack goes with the batch of this tick. Resolves once the
   * ack frame is written, rejects if the channel closed before (the broker redelivers).
   */
  ack(tag: number): Promise<void> {
    if (this.closed) return Promise.reject(this.lost());
    this.outstanding.set(tag, true);
    this.done.push(tag);
    // No delivery of the channel is still working: none can join the batch, so it goes now
    // (at c1 an ack waits for no turn of the event loop, as before coalescing).
    if (this.outstanding.size === this.done.length) {
      const batch = this.batch;
      try {
        this.flush();
      } catch (err) {
        return Promise.reject(err);
      }
      return batch === undefined ? SENT : batch.promise;
    }
    if (this.batch === undefined) {
      this.batch = new Batch();
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(this.flushLater);
      }
    }
    return this.batch.promise;
  }

  /** Nacks the delivery now, never folded into a multiple ack. Throws as amqplib does on a closing channel. */
  nack(tag: number, requeue: boolean): void {
    this.outstanding.delete(tag);
    if (this.closed) return;
    this.channel.nack(frameOf(tag), false, requeue);
  }

  /** Sends the acks of the batch now (also before the channel is closed on purpose). */
  flush(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (this.done.length === 0) {
      batch?.resolve();
      return;
    }
    const done = this.done;
    this.done = this.spare;
    this.spare = done;
    try {
      if (this.closed) throw this.lost();
      let last = 0;
      let prefix = 0;
      for (const [tag, isDone] of this.outstanding) {
        if (!isDone) break;
        this.outstanding.delete(tag);
        last = tag;
        prefix++;
      }
      if (prefix > 0) this.channel.ack(frameOf(last), prefix > 1);
      // Done after a gap (an earlier delivery still working): acked one by one, not held.
      if (prefix < done.length) for (let i = 0; i < done.length; i++) if (this.outstanding.delete(done[i]!)) this.channel.ack(frameOf(done[i]!), false);
      batch?.resolve();
    } catch (err) {
      // Without a batch (an ack sent at once) the caller gets the error as it did from amqplib.
      if (batch === undefined) throw err;
      batch.reject(err);
    } finally {
      done.length = 0;
    }
  }

  /** The channel closed: nothing more is sent on it; the broker requeued every unacked delivery. */
  drop(): void {
    this.closed = true;
    this.outstanding.clear();
    this.done.length = 0;
    const batch = this.batch;
    this.batch = undefined;
    batch?.reject(this.lost());
  }
}

const SENT = Promise.resolve();

/** amqplib's ack and nack read only the delivery tag of the message they are given. */
function frameOf(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as Message;
}

/** One promise for every ack of a batch (one allocation per tick, not per message). */
class Batch {
  resolve!: () => void;
  reject!: (err: unknown) => void;
  readonly promise = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}
