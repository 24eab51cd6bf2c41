// The dashboard in a real browser (Debian's chromium, driven by playwright-core): the page
// served by startDashboard, fed by a Runtime whose components emit the observer events of
// a small mixed system (workers with case routes, API services, a task service). Checks
// that every service and edge is drawn, that rates move while events flow, and that a dead
// letter on the memory transport appears with its reason and flows again after "retry".
// Screenshots are saved as test artefacts (the folder is printed).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observer } from '../../src/observability/observer.js';
import { startDashboard, type Dashboard } from '../../src/runtime/dashboard/start-dashboard.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { MemoryDeadLetters } from '../../src/transports/memory/memory-dead-letters.js';
import { memoryProbe } from '../../src/transports/memory/memory-probe.js';
import { MemoryTransport } from '../../src/transports/memory/memory-transport.js';
import type { Subscription } from '../../src/transports/transport.js';
import { openBrowser, type Browser } from '../support/chromium.js';
import { mixedSystem, quietLogger, type MixedSystem } from '../support/dashboard-system.js';

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the page never showed ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('dashboard in a real browser', () => {
  let system: MixedSystem;
  let dashboard: Dashboard;
  let memory: MemoryTransport;
  let browser: Browser;
  let consumer: Subscription;
  let artefacts: string;
  let traffic: NodeJS.Timeout | undefined;
  let accept = false;
  const consumed: string[] = [];

  before(async () => {
    artefacts = await mkdtemp(join(tmpdir(), 'sy-dashboard-screens-'));
    console.log(`dashboard screenshots: ${artefacts}`);
    memory = new MemoryTransport();
    await memory.start();
    await memory.declareQueue('classify-in');
    consumer = await memory.consume('classify-in', async (d) => {
      const body = Buffer.from(d.body).toString();
      if (!accept) return d.nack({ requeue: false, reason: `no route for case "${body}"` });
      consumed.push(body);
      await d.ack();
    }, { prefetch: 1 });
    const observer = new Observer();
    const runtime = new Runtime({ logger: quietLogger(), observer });
    dashboard = await startDashboard({ observer, health: () => runtime.health(), deadLetters: [new MemoryDeadLetters(memory)], probes: [memoryProbe(memory)], pushIntervalMs: 250 });
    system = await mixedSystem(runtime);
    browser = await openBrowser();
  });

  after(async () => {
    clearInterval(traffic);
    await browser?.close();
    await dashboard?.close();
    await system?.runtime.stop();
    await consumer?.stop();
    await memory?.close();
  });

  it('draws every service and edge, rates move while work flows, a dead letter is retried from the page', async () => {
    const { page } = browser;
    await page.goto(dashboard.url);
    for (const id of ['worker:ingest', 'worker:classify', 'worker:answer', 'api:calc', 'api:audit', 'task:text-stats', 'channel:summaries', 'channel:ingest-in']) {
      await page.waitForSelector(`[data-node-id="${id}"]`, { timeout: 20_000 });
    }
    const edges = await page.$$eval('[data-edge-id]', (els) => els.map((e) => e.getAttribute('data-edge-id')));
    for (const id of ['worker:ingest->worker:classify@classify-in', 'worker:classify->worker:answer@answer-in', 'worker:answer->api:calc@calc.add', 'api:calc->api:audit@calc.added', 'channel:POST /compute->task:text-stats@POST /compute']) {
      assert.ok(edges.includes(id), `edge ${id} drawn (${edges.join(', ')})`);
    }
    const label = await page.textContent('[data-edge-id="worker:classify->worker:answer@answer-in"] .label');
    assert.equal(label, 'answer-in [question]', 'the case value labels the route');
    await page.screenshot({ path: join(artefacts, '1-topology.png') });

    // Work flows: the figures on the page move.
    let n = 0;
    traffic = setInterval(() => {
      for (let k = 0; k < 5; k++) system.pipeline(n++);
      system.call(`call-${n}`);
    }, 40);
    const received = () => page.getAttribute('[data-node-id="worker:ingest"]', 'data-received').then(Number);
    const first = await received();
    const figure = (name: string) => page.getAttribute('[data-node-id="worker:ingest"]', name).then(Number);
    await until('a rate on ingest', async () => (await figure('data-rate-in')) > 0);
    await until('more received on ingest', async () => (await figure('data-received')) > first + 20);
    const edgeRate = await page.getAttribute('[data-edge-id="worker:ingest->worker:classify@classify-in"]', 'data-rate');
    assert.ok(Number(edgeRate) > 0, `the edge shows a rate (${edgeRate})`);
    await page.screenshot({ path: join(artefacts, '2-live.png') });

    // A dead letter appears with its reason; "retry" makes it flow again.
    await memory.send('classify-in', { body: Buffer.from('maybe') });
    await page.click('nav button[data-tab="dead"]');
    await page.waitForSelector('#dead-queues .name[data-queue="classify-in"]', { timeout: 20_000 });
    await page.click('#dead-queues .name[data-queue="classify-in"]');
    await page.waitForSelector('#dead-letters .letter .reason', { timeout: 20_000 });
    assert.equal(await page.textContent('#dead-letters .letter .reason'), 'no route for case "maybe"');
    assert.match(await page.textContent('#dead-letters .letter') ?? '', /maybe/);
    await page.screenshot({ path: join(artefacts, '3-dead-letter.png') });
    accept = true;
    await page.click('#dead-letters .letter button.retry');
    await until('the retried message consumed', () => consumed.includes('maybe'));
    assert.deepEqual(consumed, ['maybe'], 'the retried message was consumed from its queue');
    await page.waitForSelector('#dead-queues .name[data-queue="classify-in"]', { state: 'detached', timeout: 20_000 });
    assert.equal(memory.depth('classify-in.dead-letter'), 0);

    // A message's journey, picked by id.
    await page.click('nav button[data-tab="journey"]');
    await page.fill('#journey-id', '1003');
    await page.click('#journey-form button');
    await page.waitForSelector('#journey .stage', { timeout: 20_000 });
    const stages = await page.$$eval('#journey .stage h3', (els) => els.map((e) => e.textContent));
    assert.deepEqual(stages, ['id 3', 'id 1003 (picked)']);
    await page.screenshot({ path: join(artefacts, '4-journey.png') });
    assert.deepEqual(browser.pageErrors, [], 'the page threw or logged no error');
  });
});
