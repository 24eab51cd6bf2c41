// Dead letters on every transport that keeps them, through the one DeadLetters interface,
// against the real transports: memory, RabbitMQ and Redis (servers started for this file).
// The same scenario on each: messages a consumer sets aside are listed with their reason,
// attempts and source; a look changes nothing; retry sends one (or all) back to the source
// queue, where it is consumed again with its own headers and a fresh attempt count;
// discard removes one (or all).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/observability/logger.js';
import { AmqpDeadLetters } from '../../src/transports/amqp/amqp-dead-letters.js';
import { AmqpTransport } from '../../src/transports/amqp/amqp-transport.js';
import type { DeadLetters } from '../../src/transports/dead-letters.js';
import { MemoryDeadLetters } from '../../src/transports/memory/memory-dead-letters.js';
import { MemoryTransport } from '../../src/transports/memory/memory-transport.js';
import type { QueueLook } from '../../src/transports/queue-look.js';
import { RedisDeadLetters } from '../../src/transports/redis/redis-dead-letters.js';
import { RedisTransport } from '../../src/transports/redis/redis-transport.js';
import { DEAD_LETTER_HEADERS, type Delivery, type Transport } from '../../src/transports/transport.js';
import { rabbitMqInstalled, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';
import { redisInstalled, startRedis, type RedisServer } from '../support/redis-server.js';

const silent = createLogger({ level: 'silent' });

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Setup {
  transport: Transport;
  deadLetters: DeadLetters & Partial<QueueLook>;
  stop(): Promise<void>;
}

function scenario(name: string, setup: () => Promise<Setup>): void {
  describe(`dead letters on ${name}`, () => {
    let s: Setup;
    before(async () => {
      s = await setup();
    });
    after(async () => {
      await s?.deadLetters.close();
      await s?.stop();
    });

    it('list, peek (changing nothing), retry one, discard one, retry all, discard all', async () => {
      const queue = `orders-${name}`;
      await s.transport.declareQueue(queue);
      let accept = false;
      const consumed: Delivery[] = [];
      const sub = await s.transport.consume(queue, async (d) => {
        if (!accept && Buffer.from(d.body).toString().startsWith('bad')) return d.nack({ requeue: false, reason: `no route for case "${Buffer.from(d.body).toString()}"` });
        consumed.push(d);
        await d.ack();
      }, { prefetch: 4 });
      try {
        await s.transport.send(queue, { body: Buffer.from('bad-1'), headers: { trace: 't1' } });
        await s.transport.send(queue, { body: Buffer.from('bad-2') });
        await s.transport.send(queue, { body: Buffer.from('good') });
        const count = async () => (await s.deadLetters.queues()).find((q) => q.queue === queue)?.count ?? 0;
        await until('two dead letters', async () => (await count()) === 2 && consumed.length === 1);

        const letters = await s.deadLetters.peek(queue);
        assert.deepEqual(letters.map((l) => [Buffer.from(l.body).toString(), l.reason, l.attempts, l.source]), [
          ['bad-1', 'no route for case "bad-1"', 1, queue],
          ['bad-2', 'no route for case "bad-2"', 1, queue],
        ]);
        assert.equal(letters[0]!.headers.trace, 't1');
        assert.equal(letters[0]!.headers[DEAD_LETTER_HEADERS.reason], undefined, 'the recorded headers are split out');
        assert.deepEqual((await s.deadLetters.peek(`${queue}.dead-letter`, { limit: 1 })).map((l) => l.id), [letters[0]!.id], 'the dead-letter name works too, and peek changed nothing');
        if (s.deadLetters.listQueues) {
          const look = (await s.deadLetters.listQueues([queue]))[0]!;
          assert.equal(look.deadLetters, 2);
          assert.equal(look.depth, 0);
        }

        accept = true;
        assert.equal(await s.deadLetters.retry(queue, letters[0]!.id), true);
        await until('the retried message consumed', () => consumed.length === 2);
        const again = consumed[1]!;
        assert.equal(Buffer.from(again.body).toString(), 'bad-1');
        assert.equal(again.headers.trace, 't1', 'its own headers travel back');
        assert.equal(again.headers[DEAD_LETTER_HEADERS.reason], undefined);
        assert.equal(again.attempt, 1, 'a fresh count of tries');
        assert.equal(await s.deadLetters.retry(queue, letters[0]!.id), false, 'gone once retried');

        assert.equal(await s.deadLetters.discard(queue, letters[1]!.id), true);
        assert.equal(await count(), 0);
        assert.ok(!(await s.deadLetters.queues()).some((q) => q.queue === queue), 'no longer listed');

        accept = false;
        for (const body of ['bad-3', 'bad-4', 'bad-5']) await s.transport.send(queue, { body: Buffer.from(body) });
        await until('three dead letters', async () => (await count()) === 3);
        accept = true;
        assert.equal(await s.deadLetters.retryAll(queue), 3);
        await until('all three consumed', () => consumed.length === 5);
        assert.deepEqual(consumed.slice(2).map((d) => Buffer.from(d.body).toString()).sort(), ['bad-3', 'bad-4', 'bad-5']);

        accept = false;
        for (const body of ['bad-6', 'bad-7']) await s.transport.send(queue, { body: Buffer.from(body) });
        await until('two more dead letters', async () => (await count()) === 2);
        assert.equal(await s.deadLetters.discardAll(queue), 2);
        assert.equal(await count(), 0);
      } finally {
        await sub.stop();
      }
    });
  });
}

scenario('memory', async () => {
  const transport = new MemoryTransport();
  await transport.start();
  return { transport, deadLetters: new MemoryDeadLetters(transport), stop: () => transport.close() };
});

if (!rabbitMqInstalled()) throw new Error('rabbitmq-server is not installed: apt-get install -y rabbitmq-server (or run npm test, which installs it)');
scenario('amqp', async () => {
  const broker: RabbitMq = await startRabbitMq();
  const transport = new AmqpTransport({ url: broker.url, logger: silent });
  await transport.start();
  return {
    transport,
    deadLetters: new AmqpDeadLetters({ url: broker.url, queues: () => ['orders-amqp'] }),
    stop: async () => {
      await transport.close();
      await broker.destroy();
    },
  };
});

if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server (or run npm test, which installs it)');
scenario('redis', async () => {
  const server: RedisServer = await startRedis();
  const transport = new RedisTransport({ url: server.url, logger: silent, blockMs: 200 });
  await transport.start();
  return {
    transport,
    deadLetters: new RedisDeadLetters({ url: server.url }),
    stop: async () => {
      await transport.close();
      await server.destroy();
    },
  };
});
