// One delivery of a Redis consumer, and how it settles: each settlement is one Lua script
// (scripts.ts), run only while its consumer still holds the entry.

import { errors } from '../../errors.js';
import { DEAD_LETTER_HEADERS, type Delivery, type Headers, type NackOptions } from '../transport.js';
import { entryFields, type Entry } from './entry.js';
import type { ConsumerPlan, RedisConsumer, Source } from './redis-consumer.js';

export class RedisDelivery implements Delivery {
  private state: 'acked' | 'nacked' | 'handed back' | undefined;

  constructor(
    private readonly consumer: RedisConsumer,
    readonly source: Source,
    readonly id: string,
    private readonly entry: Entry,
    readonly attempt: number,
  ) {}

  get body(): Uint8Array { return this.entry.body; }
  get headers(): Headers { return this.entry.headers; }
  get queue(): string { return this.consumer.queue; }
  get redelivered(): boolean { return this.attempt > 1; }
  get settled(): boolean { return this.state !== undefined; }

  async ack(): Promise<void> {
    this.settle('acked');
    try {
      await this.consumer.ackLater(this.source, this.id);
    } catch (err) {
      this.consumer.settleFailed();
      throw new errors.SY_ERR_BROKER(`ack on "${this.queue}"`, `${(err as Error).message}; the message stays pending and is delivered again`);
    }
  }

  async nack(options: NackOptions): Promise<void> {
    this.settle('nacked');
    try {
      if (!options.requeue) await this.deadLetter(options.reason);
      else if (options.delayMs && options.delayMs > 0) await this.delay(options.delayMs);
      else await this.consumer.moveHome(this.source, this.id, this.entry, this.attempt + 1);
    } catch (err) {
      if ((err as { code?: string }).code === 'SY_ERR_DELIVERY_RECLAIMED') throw err;
      this.consumer.settleFailed();
      throw new errors.SY_ERR_BROKER(`nack on "${this.queue}"`, `${(err as Error).message}; the message stays pending and is delivered again`);
    }
  }

  /** @internal stop(): back to the queue, flagged, unless settled meanwhile. */
  handBackOnStop(): Promise<void> {
    if (this.state) return Promise.resolve();
    this.settle('handed back');
    return this.consumer.moveHome(this.source, this.id, this.entry, this.attempt + 1);
  }

  private async delay(delayMs: number): Promise<void> {
    const { plan, name } = this.consumerInfo();
    const uid = `${this.source.stream}\u0000${this.id}`;
    const ok = await this.consumer.redis.syDelay(this.source.stream, plan.home.delayedSet, plan.home.delayedData, plan.group,
      this.source.deleteOnAck ? '1' : '0', this.id, name, Math.ceil(delayMs), uid, ...entryFields(this.entry.body, this.entry.headers, this.attempt + 1));
    if (!ok) throw new errors.SY_ERR_DELIVERY_RECLAIMED(this.queue);
    this.consumer.delaysWaiting = true;
  }

  private async deadLetter(reason: string): Promise<void> {
    const { plan, name } = this.consumerInfo();
    const headers = {
      ...this.entry.headers,
      [DEAD_LETTER_HEADERS.reason]: reason,
      [DEAD_LETTER_HEADERS.sourceQueue]: this.queue,
      [DEAD_LETTER_HEADERS.attempts]: String(this.attempt),
    };
    const ok = await this.consumer.redis.syMove(this.source.stream, plan.deadLetterStream, plan.group, this.source.deleteOnAck ? '1' : '0',
      this.id, name, ...entryFields(this.entry.body, headers, 1));
    if (!ok) throw new errors.SY_ERR_DELIVERY_RECLAIMED(this.queue);
  }

  private consumerInfo(): { plan: ConsumerPlan; name: string } {
    return { plan: this.consumer.plan, name: this.consumer.name };
  }

  private settle(how: 'acked' | 'nacked' | 'handed back'): void {
    if (this.state) throw new errors.SY_ERR_DELIVERY_SETTLED(this.queue, this.state);
    this.state = how;
    this.consumer.forget(this);
  }
}
