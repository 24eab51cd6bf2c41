// Acks coalesced per consuming channel (src/transports/amqp/ack-coalescer.ts): the frames
// sent for one tick of finished deliveries, and what a real RabbitMQ makes of them — every
// done delivery acked, a slow earlier one not holding later acks back, a nack between acks
// honoured and never folded into a multiple ack, nothing sent for a closed channel.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Channel, type ChannelModel, type ConsumeMessage, type RecoveringChannelModel } from 'amqplib';
import { AckCoalescer } from '../../src/transports/amqp/ack-coalescer.js';
import { AmqpConsumer, type Resettler } from '../../src/transports/amqp/amqp-consumer.js';
import { errors } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Delivery } from '../../src/transports/transport.js';
import { requireRabbitMq, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';

type Frame = { kind: 'ack' | 'nack'; tag: number; multiple: boolean; requeue?: boolean };

/** A channel that records the frames it is asked to send, and a tick run by hand. */
function spied() {
  const frames: Frame[] = [];
  const channel = {
    ack: (m: { fields: { deliveryTag: number } }, multiple?: boolean) => void frames.push({ kind: 'ack', tag: m.fields.deliveryTag, multiple: multiple === true }),
    nack: (m: { fields: { deliveryTag: number } }, multiple?: boolean, requeue?: boolean) => void frames.push({ kind: 'nack', tag: m.fields.deliveryTag, multiple: multiple === true, requeue: requeue === true }),
  } as unknown as Channel;
  const scheduled: (() => void)[] = [];
  const acks = new AckCoalescer(channel, () => new errors.SY_ERR_CHANNEL_LOST('q'), (flush) => void scheduled.push(flush));
  const tick = () => {
    for (const flush of scheduled.splice(0)) flush();
  };
  return { frames, acks, tick, scheduled };
}

describe('ack coalescing: the frames sent', () => {
  it('deliveries done in one tick go as one multiple ack', async () => {
    const { frames, acks, tick } = spied();
    for (let tag = 1; tag <= 6; tag++) acks.delivered(tag);
    const done = [3, 1, 5, 2, 4].map((tag) => acks.ack(tag));
    assert.deepEqual(frames, [], 'nothing before the tick ends');
    tick();
    await Promise.all(done);
    assert.deepEqual(frames, [{ kind: 'ack', tag: 5, multiple: true }]);
  });

  it('once no delivery is left working the batch goes at once, without waiting for the tick', async () => {
    const { frames, acks } = spied();
    for (let tag = 1; tag <= 3; tag++) acks.delivered(tag);
    const done = [acks.ack(2), acks.ack(3)];
    assert.deepEqual(frames, []);
    done.push(acks.ack(1));
    assert.deepEqual(frames, [{ kind: 'ack', tag: 3, multiple: true }]);
    await Promise.all(done);
  });

  it('a lone delivery (c1) is acked at once, as the raw loop does (multiple=false)', async () => {
    const { frames, acks } = spied();
    acks.delivered(1);
    await acks.ack(1);
    assert.deepEqual(frames, [{ kind: 'ack', tag: 1, multiple: false }]);
  });

  it('a slow first delivery does not hold the later acks: they go one by one, in the same tick', () => {
    const { frames, acks, tick } = spied();
    for (let tag = 1; tag <= 4; tag++) acks.delivered(tag);
    void acks.ack(2);
    void acks.ack(4);
    tick();
    assert.deepEqual(frames, [{ kind: 'ack', tag: 2, multiple: false }, { kind: 'ack', tag: 4, multiple: false }]);
    frames.length = 0;
    void acks.ack(1);
    tick();
    // 2 is acked already: 1 alone, not a multiple over a tag that is outstanding (3).
    assert.deepEqual(frames, [{ kind: 'ack', tag: 1, multiple: false }]);
    frames.length = 0;
    void acks.ack(3);
    tick();
    assert.deepEqual(frames, [{ kind: 'ack', tag: 3, multiple: false }]);
  });

  it('the prefix stops at the first delivery still working; those after it are acked singly', () => {
    const { frames, acks, tick } = spied();
    for (let tag = 1; tag <= 6; tag++) acks.delivered(tag);
    for (const tag of [1, 2, 3, 5, 6]) void acks.ack(tag);
    tick();
    assert.deepEqual(frames, [{ kind: 'ack', tag: 3, multiple: true }, { kind: 'ack', tag: 5, multiple: false }, { kind: 'ack', tag: 6, multiple: false }]);
  });

  it('a nack goes at once, alone, and no multiple ack is sent over a tag still outstanding', () => {
    const { frames, acks, tick } = spied();
    for (let tag = 1; tag <= 5; tag++) acks.delivered(tag);
    void acks.ack(1);
    acks.nack(2, true);
    assert.deepEqual(frames, [{ kind: 'nack', tag: 2, multiple: false, requeue: true }], 'the nack is not held for the tick');
    void acks.ack(4);
    tick();
    // 2 is settled by its nack (sent before): the multiple ack may pass it; 3 is still out.
    assert.deepEqual(frames.slice(1), [{ kind: 'ack', tag: 1, multiple: false }, { kind: 'ack', tag: 4, multiple: false }]);
    frames.length = 0;
    void acks.ack(3);
    void acks.ack(5);
    tick();
    assert.deepEqual(frames, [{ kind: 'ack', tag: 5, multiple: true }]);
  });

  it('a channel that closed: pending acks are dropped (nothing sent) and their promises reject', async () => {
    const { frames, acks, tick } = spied();
    acks.delivered(1);
    acks.delivered(2);
    const pending = acks.ack(1);
    acks.drop();
    tick();
    assert.deepEqual(frames, []);
    await assert.rejects(pending, { code: 'SY_ERR_CHANNEL_LOST' });
    await assert.rejects(acks.ack(2), { code: 'SY_ERR_CHANNEL_LOST' });
    acks.nack(2, true);
    assert.deepEqual(frames, []);
  });
});

requireRabbitMq();

describe('ack coalescing on a real RabbitMQ', () => {
  let broker: RabbitMq;
  let admin: ChannelModel;
  let control: Channel;

  before(async () => {
    broker = await startRabbitMq();
    admin = await connect(broker.url);
    control = await admin.createChannel();
  });
  after(async () => {
    await admin?.close().catch(() => undefined);
    await broker?.destroy();
  });

  async function filled(queue: string, count: number): Promise<void> {
    await control.assertQueue(queue, { durable: true });
    const ch = await admin.createConfirmChannel();
    for (let i = 1; i <= count; i++) ch.sendToQueue(queue, Buffer.from(String(i)), { persistent: true });
    await ch.waitForConfirms();
    await ch.close();
  }

  /** The next `count` deliveries on `channel` from `queue`. */
  function take(channel: Channel, queue: string, count: number): Promise<ConsumeMessage[]> {
    return new Promise((resolve, reject) => {
      const got: ConsumeMessage[] = [];
      channel.consume(queue, (m) => {
        if (!m) return;
        got.push(m);
        if (got.length === count) resolve(got);
      }).catch(reject);
    });
  }

  it('a slow first delivery and a nack between acks: the broker keeps exactly those two, and the channel stays open', { timeout: 30_000 }, async () => {
    const queue = 'coalesce-mixed';
    await filled(queue, 6);
    const connection = await connect(broker.url);
    try {
      const channel = await connection.createChannel();
      let channelError: Error | undefined;
      channel.on('error', (err: Error) => (channelError = err));
      await channel.prefetch(6);
      const acks = new AckCoalescer(channel, () => new errors.SY_ERR_CHANNEL_LOST(queue));
      let seventh!: (m: ConsumeMessage) => void;
      const redelivered = new Promise<ConsumeMessage>((resolve) => (seventh = resolve));
      const seen: ConsumeMessage[] = [];
      const six = new Promise<void>((resolve, reject) => {
        channel.consume(queue, (m) => {
          if (!m) return;
          acks.delivered(m.fields.deliveryTag);
          seen.push(m);
          if (seen.length === 6) resolve();
          if (seen.length === 7) seventh(m);
        }).catch(reject);
      });
      await six;
      const tagOf = (body: string) => seen.find((m) => m.content.toString() === body)!.fields.deliveryTag;
      // One tick: 1 still working, 2 and 3 done, 4 handed back, 5 and 6 done.
      const done = [acks.ack(tagOf('2')), acks.ack(tagOf('3'))];
      acks.nack(tagOf('4'), true);
      done.push(acks.ack(tagOf('5')), acks.ack(tagOf('6')));
      await Promise.all(done);
      const again = await redelivered;
      assert.equal(again.content.toString(), '4');
      assert.equal(again.fields.redelivered, true);
      // Still unacked: 1 (slow) and 4's redelivery. Closing hands back exactly those.
      await channel.close();
      assert.equal(channelError, undefined, 'no PRECONDITION_FAILED for an unknown or repeated delivery tag');
      const { messageCount } = await control.checkQueue(queue);
      assert.equal(messageCount, 2);
      const check = await connection.createChannel();
      const left = await take(check, queue, 2);
      assert.deepEqual(left.map((m) => m.content.toString()).sort(), ['1', '4']);
      await check.close();
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  it('a consumer whose deliveries all finish in one tick sends far fewer ack frames than deliveries, and the broker has them all acked', { timeout: 30_000 }, async () => {
    const queue = 'coalesce-consumer';
    const count = 32;
    await filled(queue, count);
    const connection = await connect(broker.url);
    let ackFrames = 0;
    const model = {
      createChannel: async () => {
        const channel = await connection.createChannel();
        const ack = channel.ack.bind(channel);
        channel.ack = (message, allUpTo) => {
          ackFrames++;
          ack(message, allUpTo);
        };
        return channel;
      },
    } as unknown as RecoveringChannelModel;
    const resettler: Resettler = { retry: () => Promise.reject(new Error('not used')), deadLetter: () => Promise.reject(new Error('not used')) };
    // Every handler waits until all deliveries are in, then they all finish in the same tick.
    let arrived = 0;
    let release!: () => void;
    const allIn = new Promise<void>((r) => (release = r));
    let handled = 0;
    const consumer = new AmqpConsumer(model, queue, async (delivery: Delivery) => {
      if (++arrived === count) release();
      await allIn;
      await delivery.ack();
      handled++;
    }, count, resettler, createLogger({ level: 'silent' }));
    try {
      await consumer.start();
      await allIn;
      while (handled < count) await new Promise((r) => setTimeout(r, 5));
      await consumer.stop();
      assert.ok(ackFrames >= 1 && ackFrames <= 2, `${count} deliveries done in one tick, ${ackFrames} ack frames`);
      // Closed without anything outstanding: nothing is handed back to the queue.
      const { messageCount } = await control.checkQueue(queue);
      assert.equal(messageCount, 0);
    } finally {
      await consumer.stop();
      await connection.close().catch(() => undefined);
    }
  });
});
