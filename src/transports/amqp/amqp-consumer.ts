// One consumer on one queue, on a channel of its own (so its prefetch and its failures are
// its own). Manual acks; prefetch bounds the deliveries in flight. When the channel or the
// connection is lost the broker requeues what was unacked, and the consumer comes back on
// a new channel once the connection is back.

import type { Channel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import type { Delivery, DeliveryHandler, Headers, NackOptions, Subscription } from '../transport.js';
import { AMQP_HEADERS } from './topology.js';
import { settleWithin } from '../grace.js';
import { backoffMs, type RetryPolicy } from '../../backoff.js';
import { deliveryAttempt } from './redelivery-headers.js';
import { AckCoalescer } from './ack-coalescer.js';

/** Least time a message whose republish failed is held before the broker gets it back. */
const HOLD_BEFORE_REQUEUE_MS = 1_000;

/** How long a delivery whose handler threw waits before it is tried again: 100 ms doubling, up to ~26 s (THE backoff, no jitter: tests and operators read exact delays). */
const HAND_BACK: RetryPolicy = { maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 100, maxDelayMs: 25_600, factor: 2, jitter: 0 };
/** Consuming again after the channel was lost: 200 ms doubling up to 10 s, with jitter. */
const REATTACH: RetryPolicy = { maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: 10_000, factor: 2, jitter: 0.5 };

function handBackDelayMs(attempt: number): number {
  return backoffMs(HAND_BACK, Math.max(attempt, 1));
}

/** What a delivery needs from the transport to retry or dead-letter a message. */
export interface Resettler {
  /** Republishes the message for another try (after delayMs), confirmed. */
  retry(queue: string, message: ConsumeMessage, attempt: number, delayMs: number): Promise<void>;
  /** Publishes the message to the queue's dead-letter queue with the reason, confirmed. */
  deadLetter(queue: string, message: ConsumeMessage, attempt: number, reason: string): Promise<void>;
}

export class AmqpConsumer implements Subscription {
  private channel: Channel | undefined;
  /** The acks of `channel` (delivery tags are per channel). */
  private acks: AckCoalescer | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly unsettled = new Set<AmqpDelivery>();
  /** Warnings caused by what publishers put in messages: rate-limited per kind. */
  readonly warnings: WarnLimiter;

  constructor(
    private readonly connection: RecoveringChannelModel,
    readonly queue: string,
    private readonly handler: DeliveryHandler,
    private readonly prefetch: number,
    private readonly resettler: Resettler,
    private readonly log: Logger,
  ) {
    this.warnings = warnLimiter(log);
  }

  async start(): Promise<void> {
    await this.attach();
  }

  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.graceMs);
    return this.stopping;
  }

  private async drain(graceMs: number | undefined): Promise<void> {
    this.stopped = true;
    const channel = this.channel;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined);
    await settleWithin(this.running, graceMs);
    // The acks of the last tick go before the close, or their messages would come again.
    this.acks?.flush();
    // Closing the channel hands every unacked delivery back to the broker, in order.
    for (const delivery of this.unsettled) delivery.lost();
    this.unsettled.clear();
    this.channel = undefined;
    this.acks = undefined;
    await channel?.close().catch(() => undefined);
    this.warnings.flush();
  }

  private async attach(): Promise<void> {
    const channel = await this.connection.createChannel();
    const acks = new AckCoalescer(channel, () => new errors.SY_ERR_CHANNEL_LOST(this.queue));
    channel.on('error', (err: Error) => this.log.warn({ queue: this.queue, err: err.message }, 'consumer channel error'));
    channel.on('close', () => {
      acks.drop();
      this.onChannelClosed(channel);
    });
    try {
      await channel.prefetch(this.prefetch);
      const { consumerTag } = await channel.consume(this.queue, (message) => {
        if (message) this.deliver(channel, acks, message);
        else this.onCancelled(channel);
      }, { noAck: false });
      this.consumerTag = consumerTag;
    } catch (err) {
      // Not consuming on this channel: its close must not start a reattach loop.
      await channel.close().catch(() => undefined);
      throw err;
    }
    // Only now is it ours: a close from here on means a lost channel to come back from.
    this.channel = channel;
    this.acks = acks;
  }

  private deliver(channel: Channel, acks: AckCoalescer, message: ConsumeMessage): void {
    acks.delivered(message.fields.deliveryTag);
    const delivery = new AmqpDelivery(this, channel, acks, message);
    this.unsettled.add(delivery);
    // One promise chain per delivery (this is the hot path): the handler starts on a
    // microtask, never inside amqplib's frame parsing.
    const run: Promise<void> = Promise.resolve(delivery).then(this.handler).then(
      () => {
        this.running.delete(run);
      },
      () => this.handBack(delivery).finally(() => this.running.delete(run)),
    );
    this.running.add(run);
  }

  /**
   * A handler that threw left its delivery unsettled: back to the queue, flagged
   * redelivered, its attempt counted (republished, as a classic queue keeps no count).
   */
  private async handBack(delivery: AmqpDelivery): Promise<void> {
    if (delivery.settled) return;
    try {
      // With a pause: a handler that throws on every delivery must not spin the message.
      await delivery.nack({ requeue: true, delayMs: handBackDelayMs(delivery.attempt) });
    } catch (err) {
      this.warnings.warn('hand-back', { queue: this.queue, err: (err as Error).message }, 'could not hand back a failed delivery; the broker redelivers it');
    }
  }

  /** @internal called by a delivery once settled */
  forget(delivery: AmqpDelivery): void {
    this.unsettled.delete(delivery);
  }

  /** @internal */
  get resettle(): Resettler {
    return this.resettler;
  }

  private onChannelClosed(channel: Channel): void {
    for (const delivery of this.unsettled) if (delivery.channel === channel) delivery.lost();
    if (this.channel !== channel) return;
    this.channel = undefined;
    this.acks = undefined;
    if (this.stopped) return;
    this.log.warn({ queue: this.queue }, 'consumer channel closed; consuming again once the broker is reachable');
    void this.reattach();
  }

  /** The broker cancelled the consumer (e.g. its queue was deleted). */
  private onCancelled(channel: Channel): void {
    if (this.stopped) return;
    this.log.warn({ queue: this.queue }, 'the broker cancelled the consumer (queue deleted?); trying to consume again');
    void channel.close().catch(() => undefined);
  }

  private async reattach(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.attach();
        if (this.stopped) await this.channel?.close().catch(() => undefined);
        else this.log.info({ queue: this.queue }, 'consuming again');
        return;
      } catch (err) {
        const delay = backoffMs(REATTACH, attempt);
        this.log.warn({ queue: this.queue, err: (err as Error).message, retryInMs: delay }, 'could not consume again yet');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

export class AmqpDelivery implements Delivery {
  settled = false;
  private isLost = false;
  readonly headers: Headers;
  readonly attempt: number;
  readonly redelivered: boolean;

  constructor(
    private readonly consumer: AmqpConsumer,
    readonly channel: Channel,
    private readonly acks: AckCoalescer,
    private readonly message: ConsumeMessage,
  ) {
    const raw = message.properties.headers ?? {};
    this.headers = stringHeaders(raw);
    const { attempt, headerTrusted } = deliveryAttempt(raw, message.fields.redelivered, AMQP_HEADERS.attempt);
    if (!headerTrusted) {
      consumer.warnings.warn('attempt-header', { queue: consumer.queue, header: AMQP_HEADERS.attempt, value: preview(this.headers[AMQP_HEADERS.attempt]) },
        `ignored a ${AMQP_HEADERS.attempt} header that is not a whole number ≥ 1; counting attempts from the broker's redelivery information instead`);
    }
    this.attempt = attempt;
    this.redelivered = this.attempt > 1 || this.headers[AMQP_HEADERS.redelivered] === '1';
  }

  get body(): Uint8Array {
    return this.message.content;
  }

  get queue(): string {
    return this.consumer.queue;
  }

  /** @internal the AMQP properties (reply-to and correlation id for request/reply) */
  get properties(): ConsumeMessage['properties'] {
    return this.message.properties;
  }

  /** Resolves once the ack is written (coalesced with the others of this tick: ack-coalescer.ts). */
  ack(): Promise<void> {
    try {
      this.settle('acked');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.acks.ack(this.message.fields.deliveryTag);
  }

  async nack(options: NackOptions): Promise<void> {
    this.settle('nacked');
    const resettle = this.consumer.resettle;
    try {
      if (options.requeue) await resettle.retry(this.queue, this.message, this.attempt, options.delayMs ?? 0);
      else await resettle.deadLetter(this.queue, this.message, this.attempt, options.reason);
    } catch (err) {
      // Not republished: give it back to the broker instead, so it is tried again, not lost;
      // after a pause, so a message whose republish fails every time does not spin.
      this.requeueOnBrokerLater(Math.max(options.requeue ? (options.delayMs ?? 0) : 0, HOLD_BEFORE_REQUEUE_MS));
      throw err;
    }
    if (this.isLost) throw new errors.SY_ERR_CHANNEL_LOST(this.queue);
    await this.acks.ack(this.message.fields.deliveryTag);
  }

  /** @internal its channel is gone: the broker requeued it already */
  lost(): void {
    this.isLost = true;
    if (!this.settled) {
      this.settled = true;
      this.consumer.forget(this);
    }
  }

  /** Holds the message (and its prefetch slot) for `ms`, then hands it back to the broker. */
  private requeueOnBrokerLater(ms: number): void {
    const timer = setTimeout(() => {
      if (this.isLost) return;
      try {
        this.acks.nack(this.message.fields.deliveryTag, true);
      } catch {
        // channel closing: the broker requeues it anyway
      }
    }, ms);
    // A stopping process closes the channel, which hands the message back as well.
    timer.unref();
  }

  private settle(how: string): void {
    if (this.isLost) throw new errors.SY_ERR_CHANNEL_LOST(this.queue);
    if (this.settled) throw new errors.SY_ERR_DELIVERY_SETTLED(this.queue, `settled before this ${how === 'acked' ? 'ack' : 'nack'}`);
    this.settled = true;
    this.consumer.forget(this);
  }
}

const NO_HEADERS: Headers = Object.freeze({});

function preview(value: string | undefined): string | undefined {
  return value !== undefined && value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

function stringHeaders(raw: Record<string, unknown>): Headers {
  let out: Record<string, string> | undefined;
  for (const key in raw) {
    const value = raw[key];
    out ??= {};
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') out[key] = value;
    else if (Buffer.isBuffer(value)) out[key] = value.toString('utf8');
    else if (typeof value === 'object') out[key] = JSON.stringify(value);
    else out[key] = String(value);
  }
  return out ?? NO_HEADERS;
}
