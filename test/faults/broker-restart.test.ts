// Fault: RabbitMQ goes down in the middle of a stream and comes back (same data: durable
// queues, persistent messages). The workers keep running and must reconnect and consume
// again by themselves; the test's own publisher (raw amqplib, confirm channel) connects
// again and re-sends only what the broker had not confirmed. Nothing may be lost.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUCKETS, expectedTwoStage } from './fixtures/contents.js';
import { assertNoLoss, checkObjects, Collector, ids, log, publishIds, queueDepth, startRig, type Rig, type WorkerProcess } from './fault-kit.js';

const MESSAGES = 500;
/** The broker stops once this many ids were confirmed to a-in. */
const STOP_AFTER = 200;

describe('faults: RabbitMQ restarts mid-stream', () => {
  let rig: Rig | undefined;
  let collector: Collector | undefined;
  after(async () => {
    await collector?.stop();
    await rig?.close();
  });

  it(`${MESSAGES} messages through two stages, broker stopped and started after ${STOP_AFTER}: nothing lost, workers reconnect`, { timeout: 180_000 }, async () => {
    const began = Date.now();
    const list = ids(MESSAGES);
    rig = await startRig({ seed: list });
    const { broker } = rig;
    collector = new Collector(broker.url, ['done']);
    await collector.start();
    // A little work per message, so that both stages hold messages in flight when the broker goes.
    const env = { SY_FAULT_CONCURRENCY: '8', SY_FAULT_DELAY_MS: '10' };
    const workers: WorkerProcess[] = [rig.spawnWorker('stage-a.ts', { env }), rig.spawnWorker('stage-b.ts', { env })];
    await Promise.all(workers.map((w) => w.ready()));

    // The stream: 10 ids every 100 ms. The restart runs beside it once STOP_AFTER are confirmed.
    let confirmedSoFar = 0;
    let resultsAtStop = -1;
    let downMs = 0;
    const restart = (async () => {
      const deadline = Date.now() + 60_000;
      while (confirmedSoFar < STOP_AFTER) {
        if (Date.now() > deadline) throw new Error(`only ${confirmedSoFar} ids confirmed after 60 s`);
        await sleep(20);
      }
      resultsAtStop = collector!.unique;
      const down = Date.now();
      await broker.stop();
      await sleep(1_000);
      await broker.start();
      downMs = Date.now() - down;
    })();
    const [published] = await Promise.all([
      publishIds(broker.url, 'a-in', list, { batch: 10, pauseMs: 100, deadlineMs: 120_000, onBatch: (n) => void (confirmedSoFar = n) }),
      restart,
    ]);
    assert.equal(published.confirmed, MESSAGES);
    assert.ok(published.reconnects >= 1, 'the publisher lost its connection and made a new one');

    const missing = await collector.waitForAll(list, 90_000);
    assertNoLoss('ids at done after a broker restart', missing, workers);
    const outputs = await checkObjects(rig.s3Client, BUCKETS.out, list, expectedTwoStage);
    assert.deepEqual(outputs.missing, [], `output objects missing in ${BUCKETS.out}`);
    assert.deepEqual(outputs.wrong, [], `output objects with the wrong content in ${BUCKETS.out}`);
    await sleep(300);
    assert.equal(await queueDepth(broker.url, 'a-in'), 0, 'a-in is empty at the end');
    assert.equal(await queueDepth(broker.url, 'b-in'), 0, 'b-in is empty at the end');

    // The workers stayed up, saw the broker go, said so, came back and consumed again.
    for (const w of workers) {
      assert.ok(!w.cli.hasExited(), `${w.fixture} kept running through the restart:\n${w.tail()}`);
      const out = w.stdout();
      const lost = out.indexOf('"msg":"disconnected from the broker; reconnecting with backoff"');
      assert.ok(lost >= 0, `${w.fixture} logs the disconnect:\n${w.tail(40)}`);
      assert.ok(out.indexOf('"msg":"connected to the broker"', lost) > lost, `${w.fixture} logs the reconnect:\n${w.tail(40)}`);
      assert.ok(out.indexOf('"msg":"consuming again"', lost) > lost, `${w.fixture} consumes again:\n${w.tail(40)}`);
    }
    assert.ok(collector.reconnects >= 1, 'the test\'s own consumer reconnected');
    assert.ok(resultsAtStop < MESSAGES, 'the broker went down while results were still coming');

    const failed = workers.reduce((n, w) => n + w.lines('message failed').length, 0);
    const unsettled = workers.reduce((n, w) => n + w.lines('could not settle a message; it will be redelivered (its results may be published again)').length, 0);
    log(`broker restart: sent ${MESSAGES} (${published.publishes} publishes, ${published.reconnects} publisher reconnects), ` +
      `results ${collector.unique} unique, ${collector.duplicates} duplicates; ${resultsAtStop} results in when the broker stopped, down ${(downMs / 1000).toFixed(1)} s; ` +
      `${failed} "message failed", ${unsettled} "could not settle" lines; total ${((Date.now() - began) / 1000).toFixed(1)} s`);
  });
});
