// Messages/s end to end on a real RabbitMQ (consume → publish with confirm → ack) of a
// worker that does no file I/O, against a raw amqplib loop doing exactly the same broker
// work, in the same run, at concurrency 1, 16 and 128. Runs alternate, median of rounds.
//   npm run bench -- amqp [rounds]

import { connect } from 'amqplib';
import { parseSysMap, MapConfigSource } from '../dist/config/sysmap.js';
import { createLogger } from '../dist/observability/logger.js';
import { FsObjectStore } from '../dist/storage/fs/mod.js';
import { AmqpTransport } from '../dist/transports/amqp/mod.js';
import { startWorker, worker } from '../dist/models/worker/mod.js';
import { brokerKit, IN, OUT } from './_amqp-kit.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 4);
const LEVELS = [
  { concurrency: 1, messages: 2_000 },
  { concurrency: 16, messages: 20_000 },
  { concurrency: 128, messages: 20_000 },
];
const kit = await brokerKit();
const { broker, prepare, finished } = kit;

async function ours(concurrency: number, messages: number): Promise<number> {
  await prepare(messages);
  const map = parseSysMap(`services:\n  bench:\n    in: ${IN}\n    out:\n      - { case: true, queues: [${OUT}] }\n`, 'bench');
  const logger = createLogger({ level: 'silent' });
  const transport = new AmqpTransport({ url: broker.url, logger });
  await transport.start();
  const started = performance.now();
  const running = await startWorker(worker('bench', (id) => [[id, true]], { concurrency }), {
    transport, store: new FsObjectStore({ root: '/tmp/switchyard-bench-unused' }), config: new MapConfigSource(map), logger,
  });
  const rate = await finished(messages, started);
  await running.stop();
  await transport.close();
  return rate;
}

async function raw(concurrency: number, messages: number): Promise<number> {
  await prepare(messages);
  const connection = await connect(broker.url, { noDelay: true });
  const consumeChannel = await connection.createChannel();
  const publishChannel = await connection.createConfirmChannel();
  await consumeChannel.prefetch(concurrency);
  const started = performance.now();
  const { consumerTag } = await consumeChannel.consume(IN, (message) => {
    if (!message) return;
    const id = BigInt(message.content.toString().trim());
    publishChannel.sendToQueue(OUT, Buffer.from(id.toString()), { persistent: true }, (err: unknown) => {
      if (!err) consumeChannel.ack(message);
    });
  });
  const rate = await finished(messages, started);
  await consumeChannel.cancel(consumerTag);
  await connection.close();
  return rate;
}

try {
  for (const { concurrency, messages } of LEVELS) {
    const { ours: o, raw: r } = await alternate(ROUNDS, { raw: () => raw(concurrency, messages), ours: () => ours(concurrency, messages) }, (round, last) =>
      console.log(`c=${concurrency} round ${round + 1}: worker ${last.ours.toFixed(0)} msg/s, raw amqplib ${last.raw.toFixed(0)} msg/s`),
    );
    printResult({ bench: 'amqp', case: `no-io-c${concurrency}`, against: 'raw-amqplib', unit: 'msg/s', ours: Math.round(median(o)), baseline: Math.round(median(r)) });
  }
} finally {
  await kit.close();
}
