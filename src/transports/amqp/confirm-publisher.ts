// Publishing with broker confirmation: a publish resolves only when the broker confirmed
// it (so the message is durable in a durable queue), and rejects when it was nacked, when
// the channel died before the confirm, or — with `mandatory` — when no queue took it.
// One confirm channel per connection, made again after a reconnect.

import type { ConfirmChannel, Message, Options, RecoveringChannelModel } from 'amqplib';
import { errors } from '../../errors.js';

let sequence = 0;

export class ConfirmPublisher {
  private channel: Promise<ConfirmChannel> | undefined;
  private drained: Promise<void> | undefined;
  /** messageId → reject, for mandatory publishes the broker may return. */
  private readonly returnable = new Map<string, (err: Error) => void>();

  constructor(private readonly connection: RecoveringChannelModel) {}

  async publish(exchange: string, routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    const channel = await this.open();
    if (this.drained) await this.drained;
    return new Promise<void>((resolve, reject) => {
      let returned: Error | undefined;
      let messageId = options.messageId as string | undefined;
      if (options.mandatory) {
        messageId ??= `sy-${process.pid}-${++sequence}`;
        this.returnable.set(messageId, (err) => (returned = err));
      }
      const ok = channel.publish(exchange, routingKey, body, messageId ? { ...options, messageId } : options, (err: unknown) => {
        if (messageId) this.returnable.delete(messageId);
        if (err) reject(new errors.SY_ERR_BROKER(`publish to ${describeTarget(exchange, routingKey)}`, `not confirmed (${(err as Error).message}); it may or may not have been stored`));
        else if (returned) reject(returned);
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

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    if (channel) await (await channel.catch(() => undefined))?.close().catch(() => undefined);
  }

  private open(): Promise<ConfirmChannel> {
    this.channel ??= this.connection.createConfirmChannel().then((channel) => {
      channel.on('error', () => undefined); // 'close' follows; unconfirmed publishes are rejected by amqplib
      channel.on('close', () => {
        this.channel = undefined;
        this.drained = undefined;
      });
      // A mandatory message no queue took comes back before its confirm.
      channel.on('return', (message: Message) => {
        const id = message.properties.messageId as string | undefined;
        const reject = id ? this.returnable.get(id) : undefined;
        reject?.(new errors.SY_ERR_UNROUTABLE(describeTarget(message.fields.exchange, message.fields.routingKey)));
      });
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
