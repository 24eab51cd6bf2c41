// Publishing with broker confirmation: a publish resolves only when the broker confirmed
// it (so the message is durable in a durable queue), and rejects when it was nacked, when
// the channel died before the confirm, or — with `mandatory` — when no queue took it.
// One confirm channel per connection, made again after a reconnect.
//
// Returns are matched without a message id (setting one on every publish cost ~9 µs of
// CPU per message in amqplib): the broker sends basic.return for an unroutable mandatory
// message after its publish and before its confirm, so a publish whose target saw a return
// between the two is the returned one — or, rarely, another in flight to the same target at
// that moment. Those are all rejected: at worst a stored message is sent again (at-least-
// once), never a lost one reported as stored.

import type { ConfirmChannel, Message, Options, RecoveringChannelModel } from 'amqplib';
import { errors } from '../../errors.js';

export class ConfirmPublisher {
  private channel: Promise<ConfirmChannel> | undefined;
  /** The open channel, once `channel` resolved: lets the hot path publish without an await. */
  private ready: ConfirmChannel | undefined;
  private drained: Promise<void> | undefined;
  /** "exchange\0routingKey" → how many returns that target has seen on this publisher. */
  private readonly returns = new Map<string, number>();

  constructor(private readonly connection: RecoveringChannelModel) {}

  publish(exchange: string, routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    const channel = this.ready;
    if (channel && !this.drained) return this.publishOn(channel, exchange, routingKey, body, options);
    return this.publishWhenReady(exchange, routingKey, body, options);
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    this.ready = undefined;
    if (channel) await (await channel.catch(() => undefined))?.close().catch(() => undefined);
  }

  private async publishWhenReady(exchange: string, routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    const channel = await this.open();
    while (this.drained) await this.drained;
    return this.publishOn(channel, exchange, routingKey, body, options);
  }

  private publishOn(channel: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const target = options.mandatory ? `${exchange}\0${routingKey}` : undefined;
      const returnsBefore = target === undefined ? 0 : (this.returns.get(target) ?? 0);
      const ok = channel.publish(exchange, routingKey, body, options, (err: unknown) => {
        if (err) reject(new errors.SY_ERR_BROKER(`publish to ${describeTarget(exchange, routingKey)}`, `not confirmed (${(err as Error).message}); it may or may not have been stored`));
        else if (target !== undefined && (this.returns.get(target) ?? 0) !== returnsBefore) reject(new errors.SY_ERR_UNROUTABLE(describeTarget(exchange, routingKey)));
        else resolve();
      });
      if (!ok && !this.drained) {
        // Released on 'drain', or on 'close' (then the next publish opens a new channel).
        this.drained = new Promise<void>((r) => {
          const release = () => {
            channel.off('drain', release);
            channel.off('close', release);
            this.drained = undefined;
            r();
          };
          channel.once('drain', release);
          channel.once('close', release);
        });
      }
    });
  }

  private open(): Promise<ConfirmChannel> {
    this.channel ??= this.connection.createConfirmChannel().then((channel) => {
      channel.on('error', () => undefined); // 'close' follows; unconfirmed publishes are rejected by amqplib
      channel.on('close', () => {
        if (this.ready === channel) this.ready = undefined;
        this.channel = undefined;
        this.drained = undefined;
      });
      // A mandatory message no queue took comes back before its confirm.
      channel.on('return', (message: Message) => {
        const target = `${message.fields.exchange}\0${message.fields.routingKey}`;
        this.returns.set(target, (this.returns.get(target) ?? 0) + 1);
      });
      this.ready = channel;
      return channel;
    }, (err: unknown) => {
      this.channel = undefined;
      throw err;
    });
    return this.channel;
  }
}

export function describeTarget(exchange: string, routingKey: string): string {
  return exchange === '' ? `queue "${routingKey}"` : `exchange "${exchange}" (routing key "${routingKey}")`;
}
