// Messages/s of a no-I/O worker on the memory transport against a bare loop doing the
// same queue operations (consume, parse the id, send the result, ack) on the same
// transport in the same run. Runs alternate so machine noise hits both alike.
//   npm run bench -- memory-worker [messages] [rounds]

import { parseSysMap, MapConfigSource } from '../dist/config/sysmap.js';
import { createLogger } from '../dist/observability/logger.js';
import { FsObjectStore } from '../dist/storage/fs/mod.js';
import { MemoryTransport } from '../dist/transports/memory/mod.js';
import { startWorker, worker, parseId, encodeId } from '../dist/models/worker/mod.js';
import { alternate, median, printResult } from './_result.js';

const MESSAGES = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const CONCURRENCY = 16;
const map = parseSysMap('services:\n  bench:\n    in: bench-in\n    out:\n      - { case: true, queues: [bench-out] }\n', 'bench sysmap');

async function drain(transport: MemoryTransport, started: number): Promise<number> {
  while (transport.depth('bench-out') < MESSAGES) await new Promise((r) => setImmediate(r));
  return MESSAGES / ((performance.now() - started) / 1000);
}

async function fill(transport: MemoryTransport): Promise<void> {
  for (let i = 0; i < MESSAGES; i++) await transport.send('bench-in', { body: encodeId(BigInt(i)) });
}

async function ours(): Promise<number> {
  const transport = new MemoryTransport();
  await transport.start();
  await fill(transport);
  const started = performance.now();
  const running = await startWorker(worker('bench', (id) => [[id, true]], { concurrency: CONCURRENCY }), {
    transport,
    store: new FsObjectStore({ root: '/tmp/switchyard-bench-unused' }),
    config: new MapConfigSource(map),
    logger: createLogger({ level: 'silent' }),
  });
  const rate = await drain(transport, started);
  await running.stop();
  await transport.close();
  return rate;
}

async function bare(): Promise<number> {
  const transport = new MemoryTransport();
  await transport.start();
  await fill(transport);
  const started = performance.now();
  const sub = await transport.consume('bench-in', async (d) => {
    const id = parseId(d.body);
    await transport.send('bench-out', { body: encodeId(id) });
    await d.ack();
  }, { prefetch: CONCURRENCY });
  const rate = await drain(transport, started);
  await sub.stop();
  await transport.close();
  return rate;
}

await ours(); // warm-up: JIT both paths before measuring
await bare();
// Which side goes first flips every round (bench/_result.ts alternate), as in the other
// benchmarks: the worker used to go first in every round.
const runs = await alternate(ROUNDS, { ours, bare }, (round, last) =>
  console.log(`round ${round + 1}: worker ${last.ours.toFixed(0)} msg/s, bare loop ${last.bare.toFixed(0)} msg/s`));
const oursRuns = runs.ours;
const bareRuns = runs.bare;
printResult({
  bench: 'memory-worker', case: `no-io-c${CONCURRENCY}`, against: 'bare-memory-loop', unit: 'msg/s',
  ours: Math.round(median(oursRuns)), baseline: Math.round(median(bareRuns)),
});
