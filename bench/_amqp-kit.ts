// What the broker benchmarks share: one RabbitMQ, an inbound and an outbound queue, a
// confirmed pre-fill, and a clock that stops when every result is in the outbound queue.

import { connect, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { startRabbitMq, type RabbitMq } from '../test/support/rabbitmq-server.js';

export const IN = 'bench-in';
export const OUT = 'bench-out';

export interface BrokerKit {
  readonly broker: RabbitMq;
  /** Fills the inbound queue with ids 0..messages-1 (confirmed) and empties the outbound one. */
  prepare(messages: number): Promise<void>;
  /** msg/s from `started` until `messages` results wait in the outbound queue. */
  finished(messages: number, started: number): Promise<number>;
  close(): Promise<void>;
}

export async function brokerKit(): Promise<BrokerKit> {
  const broker = await startRabbitMq();
  const admin: ChannelModel = await connect(broker.url);
  const channel: Channel = await admin.createChannel();
  await channel.assertQueue(IN, { durable: true });
  await channel.assertQueue(OUT, { durable: true });
  return {
    broker,
    async prepare(messages) {
      await channel.purgeQueue(IN);
      await channel.purgeQueue(OUT);
      const ch: ConfirmChannel = await admin.createConfirmChannel();
      for (let i = 0; i < messages; i++) {
        if (!ch.sendToQueue(IN, Buffer.from(String(i)), { persistent: true })) await new Promise((r) => ch.once('drain', r));
        if (i % 1000 === 999) await ch.waitForConfirms();
      }
      await ch.waitForConfirms();
      await ch.close();
    },
    async finished(messages, started) {
      for (;;) {
        const { messageCount } = await channel.checkQueue(OUT);
        if (messageCount >= messages) return messages / ((performance.now() - started) / 1000);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      await admin.close().catch(() => undefined);
      await broker.destroy();
    },
  };
}
