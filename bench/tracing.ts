// What tracing costs a no-I/O worker on the memory transport, against the same worker on the
// unwrapped transport (the code path without tracing) in the same run, rounds alternating:
//   off        tracing off through the registry: must be the same path (ratio ≈ 1)
//   on-no-sdk  tracing on, no SDK registered (spans are the API's no-ops)
//   on-sdk     tracing on, an SDK with a BatchSpanProcessor and an exporter that drops spans
//   npm run bench -- tracing [messages] [rounds] [case,case]   (default: every case)

import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { parseSysMap, MapConfigSource } from '../dist/config/sysmap.js';
import { createLogger } from '../dist/observability/logger.js';
import { TransportRegistry } from '../dist/runtime/registry.js';
import { FsObjectStore } from '../dist/storage/fs/mod.js';
import { MemoryTransport } from '../dist/transports/memory/mod.js';
import { startWorker, worker, encodeId } from '../dist/models/worker/mod.js';
import type { Transport } from '../dist/transports/transport.js';
import { median, printResult } from './_result.js';

const MESSAGES = Number(process.argv[2] ?? 30_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const CONCURRENCY = 16;
const CASES = new Set((process.argv[4] ?? 'off,on-no-sdk,on-sdk').split(','));
const logger = createLogger({ level: 'silent' });
const map = parseSysMap('services:\n  bench:\n    in: bench-in\n    out:\n      - { case: true, queues: [bench-out] }\n', 'bench sysmap');

/** The worker over `transport` (filled first, untimed); messages/s from its start to the last result. */
async function run(transport: Transport, close: () => Promise<void>): Promise<number> {
  await transport.start();
  for (let i = 0; i < MESSAGES; i++) await transport.send('bench-in', { body: encodeId(BigInt(i)) });
  const depth = (transport as unknown as MemoryTransport).depth.bind(transport);
  const started = performance.now();
  const running = await startWorker(worker('bench', (id) => [[id, true]], { concurrency: CONCURRENCY }), {
    transport, store: new FsObjectStore({ root: '/tmp/switchyard-bench-unused' }), config: new MapConfigSource(map), logger,
  });
  while (depth('bench-out') < MESSAGES) await new Promise((r) => setImmediate(r));
  const rate = MESSAGES / ((performance.now() - started) / 1000);
  await running.stop();
  await close();
  return rate;
}

const unwrapped = () => {
  const t = new MemoryTransport();
  return run(t, () => t.close());
};
const throughRegistry = (tracing: boolean) => async () => {
  const registry = new TransportRegistry({ logger, tracing });
  const t = (await registry.open('memory', 'worker', ['queue'])).queues!;
  return run(t, () => registry.close());
};

async function measure(name: string, against: () => Promise<number>, ours: () => Promise<number>): Promise<void> {
  await ours(); // warm-up
  await against();
  const o: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? ['ours', 'base'] : ['base', 'ours']) (side === 'ours' ? o : b).push(await (side === 'ours' ? ours : against)());
    console.log(`${name} round ${round + 1}: ${o.at(-1)!.toFixed(0)} msg/s, unwrapped ${b.at(-1)!.toFixed(0)} msg/s`);
  }
  printResult({ bench: 'tracing', case: `${name}-c${CONCURRENCY}`, against: 'unwrapped-memory-worker', unit: 'msg/s', ours: Math.round(median(o)), baseline: Math.round(median(b)) });
}

if (CASES.has('off')) await measure('off', unwrapped, throughRegistry(false));
if (CASES.has('on-no-sdk')) await measure('on-no-sdk', unwrapped, throughRegistry(true));
if (!CASES.has('on-sdk')) process.exit(0);

/** Drops what it is given: the cost measured is making and batching spans, not shipping them. */
class DropExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (r: { code: number }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
const exporter = new DropExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 2048 })] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
await measure('on-sdk', unwrapped, throughRegistry(true));
await provider.forceFlush();
console.log(`on-sdk: ${exporter.spans} spans exported (2 per message: send, process; plus the fill's sends)`);
await provider.shutdown();
