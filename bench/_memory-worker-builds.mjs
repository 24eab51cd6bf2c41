// memory-worker across two builds in ONE process, for a loaded machine where separate runs
// of `npm run bench -- memory-worker` swing 0.65–1.15 for the same code: the worker of build
// A, the worker of build B and the bare loop (on B's modules, as in bench/memory-worker.ts)
// take turns every round (order reversed every other round); medians of msg/s and of CPU
// µs per message (process.cpuUsage over the drain). The work is bench/memory-worker.ts's.
//   node bench/_memory-worker-builds.mjs BEFORE_DIST AFTER_DIST [messages] [rounds]
// e.g. a copy of main built in /tmp/main: node bench/_memory-worker-builds.mjs /tmp/main/dist dist 50000 21

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distA, distB] = process.argv.slice(2, 4);
if (!distA || !distB) {
  console.error('usage: node bench/_memory-worker-builds.mjs BEFORE_DIST AFTER_DIST [messages] [rounds]');
  process.exit(2);
}
const MESSAGES = Number(process.argv[4] ?? 50_000);
const ROUNDS = Number(process.argv[5] ?? 21);

async function load(dist) {
  const at = (p) => import(pathToFileURL(resolve(dist, p)).href);
  return {
    ...(await at('config/sysmap.js')), ...(await at('observability/logger.js')), ...(await at('storage/fs/mod.js')),
    ...(await at('transports/memory/mod.js')), ...(await at('models/worker/mod.js')),
  };
}
const a = await load(distA);
const b = await load(distB);

async function fill(L, transport) {
  for (let i = 0; i < MESSAGES; i++) await transport.send('bench-in', { body: L.encodeId(BigInt(i)) });
}

/** Starts the consumer, drains, returns [msg/s, CPU µs per message]. */
async function timed(transport, begin) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const stop = await begin();
  while (transport.depth('bench-out') < MESSAGES) await new Promise((r) => setImmediate(r));
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await stop();
  await transport.close();
  return [MESSAGES / (wallMs / 1000), (used.user + used.system) / MESSAGES];
}

async function ours(L) {
  const map = L.parseSysMap('services:\n  bench:\n    in: bench-in\n    out:\n      - { case: true, queues: [bench-out] }\n', 'bench sysmap');
  const transport = new L.MemoryTransport();
  await transport.start();
  await fill(L, transport);
  return timed(transport, async () => {
    const running = await L.startWorker(L.worker('bench', (id) => [[id, true]], { concurrency: 16 }), {
      transport, store: new L.FsObjectStore({ root: '/tmp/switchyard-bench-unused' }), config: new L.MapConfigSource(map), logger: L.createLogger({ level: 'silent' }),
    });
    return () => running.stop();
  });
}

async function bare(L) {
  const transport = new L.MemoryTransport();
  await transport.start();
  await fill(L, transport);
  return timed(transport, async () => {
    const sub = await transport.consume('bench-in', async (d) => {
      const id = L.parseId(d.body);
      await transport.send('bench-out', { body: L.encodeId(id) });
      await d.ack();
    }, { prefetch: 16 });
    return () => sub.stop();
  });
}

const sides = { before: () => ours(a), after: () => ours(b), bare: () => bare(b) };
const names = Object.keys(sides);
for (const n of names) await sides[n](); // warm-up
const runs = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const n of round % 2 ? [...names].reverse() : names) runs[n].push(await sides[n]());
}
const median = (v) => { const s = [...v].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const rate = (n) => median(runs[n].map((r) => r[0]));
const cpu = (n) => median(runs[n].map((r) => r[1]));
for (const n of names) console.log(`${n}: ${rate(n).toFixed(0)} msg/s, ${cpu(n).toFixed(2)} µs CPU/msg (medians of ${ROUNDS})`);
for (const n of ['before', 'after']) console.log(`${n} / bare: ${(rate(n) / rate('bare')).toFixed(3)} msg/s, ${(cpu('bare') / cpu(n)).toFixed(3)} by CPU per message`);
