// Memory held by the memory transport when 1,000,000 messages go through the local inbox
// of `switchyard send` (issue 17 #8). Not a test: run by hand, figures in
// docs/reliability/worker.md.
//
//   node --expose-gc --import tsx test/worker/measure/inbox-memory.ts [consume]
//
// Without "consume", nobody reads the queue; with it, a worker takes the ids and routes
// them to an end queue that a plain consumer drains. The ids go in 100 requests of 10,000
// (what `switchyard send q <10,000 ids>` sends), one after the other.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInbox, sendThroughInbox } from '../../../src/cli/inbox.js';
import { MemoryTransport } from '../../../src/transports/memory/mod.js';
import { parseSysMap, MapConfigSource } from '../../../src/config/sysmap.js';
import { createLogger } from '../../../src/observability/logger.js';
import { FsObjectStore } from '../../../src/storage/fs/mod.js';
import { startWorker, worker } from '../../../src/models/worker/mod.js';

const consume = process.argv.includes('consume');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const settle = () => { gc(); gc(); return process.memoryUsage(); };

const dir = await mkdtemp(join(tmpdir(), 'sy-inbox-memory-'));
const transport = new MemoryTransport();
await transport.start();
const inbox = await openInbox(transport, dir, { fullWaitMs: 1000 } as never);
let done = 0;
const stops: Array<() => Promise<void>> = [];
if (consume) {
  const map = parseSysMap('services:\n  pass:\n    in: m-in\n    out:\n      - { case: true, queues: [m-out] }\n', 'm.yaml');
  const w = await startWorker(worker('pass', (id) => [[id, true]], { concurrency: 16 }), {
    transport, store: new FsObjectStore({ root: join(dir, 'store') }), config: new MapConfigSource(map), logger: createLogger({ level: 'silent' }),
  });
  const sub = await transport.consume('m-out', (d) => { done++; return d.ack(); }, { prefetch: 100 });
  stops.push(() => w.stop(), () => sub.stop());
}
const base = settle();
let peakRss = base.rss;
let peakLive = base.heapUsed;
let maxDepth = 0;
// Every 2 s: what is still reachable after a full GC (what the queue really holds), the
// process's resident size, and how many messages wait in the inbound queue.
const sample = setInterval(() => {
  const m = settle();
  peakRss = Math.max(peakRss, m.rss);
  peakLive = Math.max(peakLive, m.heapUsed);
  maxDepth = Math.max(maxDepth, transport.depth('m-in'));
}, 2000);
let accepted = 0;
let refused = '';
const began = Date.now();
for (let batch = 0; batch < 100; batch++) {
  const bodies = Array.from({ length: 10_000 }, (_, i) => String(batch * 10_000 + i + 1));
  try {
    accepted += await sendThroughInbox(dir, 'm-in', bodies);
  } catch (err) {
    refused = (err as Error).message.slice(0, 160);
    const m = /after taking (\d+)/.exec(refused);
    if (m) accepted += Number(m[1]);
    break;
  }
}
if (consume) while (done < accepted) await new Promise((r) => setTimeout(r, 50));
const end = settle();
clearInterval(sample);
console.log(JSON.stringify({
  scenario: consume ? 'worker consuming' : 'nobody consuming',
  accepted, waiting: transport.depth('m-in'), delivered: done, seconds: (Date.now() - began) / 1000,
  maxWaiting: maxDepth,
  liveHeapBase: mib(base.heapUsed), liveHeapPeak: mib(peakLive), liveHeapGrowth: mib(peakLive - base.heapUsed), heapHeldAtEnd: mib(end.heapUsed - base.heapUsed),
  rssBase: mib(base.rss), rssPeak: mib(peakRss), rssGrowth: mib(peakRss - base.rss),
  refused,
}, null, 1));
for (const stop of stops) await stop();
await inbox.stop();
await transport.close();
await rm(dir, { recursive: true, force: true });
