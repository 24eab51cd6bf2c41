#!/usr/bin/env node
// Screenshots of the dashboard for the docs: a synthetic mixed system of N services (every
// model, case-routed worker pipelines, RPCs, events) emitting observer events, the page in
// Debian's chromium. Run after `npm run build`:
//   node scripts/dashboard-screenshots.mjs docs/images   (writes dashboard-5.png, dashboard-50.png)

import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Observer } from '../dist/observability/observer.js';
import { startDashboard } from '../dist/runtime/dashboard/start-dashboard.js';
import { MemoryTransport } from '../dist/transports/memory/memory-transport.js';
import { MemoryDeadLetters } from '../dist/transports/memory/memory-dead-letters.js';
import { memoryProbe } from '../dist/transports/memory/memory-probe.js';

const MODELS = ['worker', 'api', 'service', 'task', 'provider'];
const TRANSPORT = { worker: 'amqp', api: 'redis', service: 'zeromq', task: 'http', provider: 'unix' };
const KIND = { worker: 'queue', api: 'rpc', service: 'socket', task: 'http', provider: 'unix' };

/** N services in chains of up to 5 stages; stage k of a chain is model k (so every model shows). */
function system(n) {
  const services = [];
  for (let i = 0; i < n; i++) {
    const chain = Math.floor(i / 5);
    const stage = i % 5;
    const model = MODELS[(stage + chain) % MODELS.length];
    const name = n <= 5 ? ['ingest', 'classify', 'pricing', 'report', 'archive'][stage] : `${model}-${chain}-${stage}`;
    services.push({ model, name, chain, stage });
  }
  return services.map((s, i) => {
    const next = services[i + 1]?.chain === s.chain ? services[i + 1] : undefined;
    const input = { kind: KIND[s.model], name: `${s.name}-in` };
    const outputs = next
      ? [{ kind: KIND[next.model], name: `${next.name}-in`, ...(s.model === 'worker' ? { label: 'true' } : {}) }, ...(s.model === 'worker' ? [{ kind: 'queue', name: `${s.name}-rejected`, label: 'false' }] : [])]
      : [{ kind: 'queue', name: `${s.name}-done` }];
    return { ...s, input, outputs, next };
  });
}

async function shoot(n, file, memory) {
  const observer = new Observer();
  const dashboard = await startDashboard({ observer, deadLetters: [new MemoryDeadLetters(memory)], probes: [memoryProbe(memory)], pushIntervalMs: 500 });
  const services = system(n);
  const emitters = services.map((s) => observer.for({ model: s.model, service: s.name, transport: TRANSPORT[s.model] }));
  services.forEach((s, i) => emitters[i].emit({ type: 'state', state: 'ready', inputs: [s.input], outputs: s.outputs }));
  let id = 0;
  const traffic = setInterval(() => {
    services.forEach((s, i) => {
      if (s.stage !== 0) return;
      let k = i;
      const msg = String(id++);
      while (k < services.length && services[k].chain === s.chain) {
        const here = services[k];
        const e = emitters[k];
        e.emit({ type: 'received', input: here.input.name, id: msg, attempt: 1 });
        if (Math.random() < 0.02) e.emit({ type: 'failed', input: here.input.name, id: msg, durationMs: 3, error: { message: 'boom' } });
        else e.emit({ type: 'handled', input: here.input.name, id: msg, durationMs: 1 + Math.random() * 8, produced: [{ output: here.outputs[0].name, id: msg, ...(here.outputs[0].label ? { label: here.outputs[0].label } : {}) }] });
        k++;
      }
    });
  }, 20);
  const profile = await mkdtemp(join(tmpdir(), 'sy-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(dashboard.url);
    await page.waitForSelector('[data-node-id]');
    await page.waitForTimeout(6000);
    if (n <= 5) await page.click(`[data-node-id="${services[1].model}:${services[1].name}"]`);
    await page.waitForTimeout(600);
    await page.screenshot({ path: file });
    console.log(`wrote ${file} (${n} services)`);
  } finally {
    clearInterval(traffic);
    await context.close();
    await rm(profile, { recursive: true, force: true });
    await dashboard.close();
  }
}

const out = process.argv[2] ?? 'docs/images';
await mkdir(out, { recursive: true });
const memory = new MemoryTransport();
await memory.start();
await memory.declareQueue('ingest-in');
const sub = await memory.consume('ingest-in', (d) => d.nack({ requeue: false, reason: 'no route for case "maybe"' }), { prefetch: 1 });
await memory.send('ingest-in', { body: Buffer.from('42') });
await shoot(5, join(out, 'dashboard-5.png'), memory);
await shoot(50, join(out, 'dashboard-50.png'), memory);
await sub.stop();
await memory.close();
