// Messages/s end to end on a real RabbitMQ and an S3-compatible server (s3rver) of a
// worker that reads a 1 KB object and writes a 1 KB object per message, against a raw
// loop (amqplib + @aws-sdk/client-s3) doing exactly the same broker and storage work, in
// the same run, at concurrency 1, 16 and 128. Runs alternate, median of rounds.
//   npm run bench -- s3-worker [rounds]

import { connect } from 'amqplib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseSysMap, MapConfigSource } from '../dist/config/sysmap.js';
import { createLogger } from '../dist/observability/logger.js';
import { S3ObjectStore } from '../dist/storage/s3/mod.js';
import { AmqpTransport } from '../dist/transports/amqp/mod.js';
import { startWorker, worker } from '../dist/models/worker/mod.js';
import { brokerKit, IN, OUT } from './_amqp-kit.js';
import { startS3Server } from '../test/support/s3-server.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 4);
const LEVELS = [
  { concurrency: 1, messages: 300 },
  { concurrency: 16, messages: 1_500 },
  { concurrency: 128, messages: 1_500 },
];
const INPUTS = 'bench-inputs';
const OUTPUTS = 'bench-outputs';
const KB = Buffer.alloc(1024, 'x');

const kit = await brokerKit();
const { broker, prepare, finished } = kit;
const s3 = await startS3Server({ buckets: [INPUTS, OUTPUTS] });
const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
const client = new S3Client({ endpoint: s3.endpoint, region: 'garage', forcePathStyle: true, credentials });
// Both sides keep one S3 client for the whole run, as a running worker keeps its store.
const store = new S3ObjectStore({ endpoint: s3.endpoint, ...credentials });

// Input objects, once: every run reads the same ones.
const most = Math.max(...LEVELS.map((l) => l.messages));
for (let i = 0; i < most; i += 32) {
  await Promise.all(Array.from({ length: Math.min(32, most - i) }, (_, j) => client.send(new PutObjectCommand({ Bucket: INPUTS, Key: String(i + j), Body: KB }))));
}

async function ours(concurrency: number, messages: number): Promise<number> {
  await prepare(messages);
  const map = parseSysMap(`services:\n  bench:\n    in: ${IN}\n    out:\n      - { case: true, queues: [${OUT}] }\n    buckets: { in: ${INPUTS}, out: ${OUTPUTS} }\n`, 'bench');
  const logger = createLogger({ level: 'silent' });
  const transport = new AmqpTransport({ url: broker.url, logger });
  await transport.start();
  const started = performance.now();
  const running = await startWorker(worker('bench', async (id, { readFile, writeFile }) => {
    const input = await (await readFile('in', id)).bytes();
    await (await writeFile('out', id)).write(input);
    return [[id, true]];
  }, { concurrency }), { transport, store, config: new MapConfigSource(map), logger });
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
    void (async () => {
      const key = BigInt(message.content.toString().trim()).toString();
      const got = await client.send(new GetObjectCommand({ Bucket: INPUTS, Key: key }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      await client.send(new PutObjectCommand({ Bucket: OUTPUTS, Key: key, Body: body }));
      await new Promise<void>((resolve, reject) => publishChannel.sendToQueue(OUT, Buffer.from(key), { persistent: true }, (err: unknown) => (err ? reject(err as Error) : resolve())));
      consumeChannel.ack(message);
    })();
  });
  const rate = await finished(messages, started);
  await consumeChannel.cancel(consumerTag);
  await connection.close();
  return rate;
}

try {
  for (const { concurrency, messages } of LEVELS) {
    const { ours: o, raw: r } = await alternate(ROUNDS, { raw: () => raw(concurrency, messages), ours: () => ours(concurrency, messages) }, (round, last) =>
      console.log(`c=${concurrency} round ${round + 1}: worker ${last.ours.toFixed(0)} msg/s, raw amqplib+s3 ${last.raw.toFixed(0)} msg/s`),
    );
    printResult({ bench: 's3-worker', case: `1kb-read-write-c${concurrency}`, against: 'raw-amqplib+aws-sdk', unit: 'msg/s', ours: Math.round(median(o)), baseline: Math.round(median(r)) });
  }
} finally {
  client.destroy();
  await s3.close();
  await store.close();
  await kit.close();
}
