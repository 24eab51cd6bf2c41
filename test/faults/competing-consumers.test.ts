// Scaling out: several worker processes on one queue share its messages (competing
// consumers, each with its own prefetch). Every id arrives once, and each process did a
// fair part of the work, counted from its own "message done" log lines.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUCKETS, expectedSingle } from './fixtures/contents.js';
import { assertNoLoss, checkObjects, Collector, ids, log, publishIds, queueDepth, startRig, type Rig } from './fault-kit.js';

const MESSAGES = 600;
const PROCESSES = 3;
/** The least share of the messages each process must have handled. */
const MIN_SHARE = 0.1;

describe('scaling out: competing consumers', () => {
  let rig: Rig | undefined;
  let collector: Collector | undefined;
  after(async () => {
    await collector?.stop();
    await rig?.close();
  });

  it(`${PROCESSES} worker processes on one queue share ${MESSAGES} messages, each id once`, { timeout: 120_000 }, async () => {
    const began = Date.now();
    const list = ids(MESSAGES);
    rig = await startRig({ seed: list });
    const { broker } = rig;
    collector = new Collector(broker.url, ['done']);
    await collector.start();

    // Every process consumes before the first message is sent, so none starts with a head start.
    const env = { SY_FAULT_CONCURRENCY: '8', SY_FAULT_DELAY_MS: '10' };
    const workers = Array.from({ length: PROCESSES }, () => rig!.spawnWorker('single.ts', { env }));
    await Promise.all(workers.map((w) => w.ready()));
    const published = await publishIds(broker.url, 'single-in', list);
    assert.equal(published.confirmed, MESSAGES);

    const missing = await collector.waitForAll(list, 90_000);
    assertNoLoss('ids at done', missing, workers);
    await sleep(500); // a duplicate would show up now
    const outputs = await checkObjects(rig.s3Client, BUCKETS.out, list, expectedSingle);
    assert.deepEqual(outputs.missing, [], `output objects missing in ${BUCKETS.out}`);
    assert.deepEqual(outputs.wrong, [], `output objects with the wrong content in ${BUCKETS.out}`);
    assert.equal(await queueDepth(broker.url, 'single-in'), 0, 'single-in is empty at the end');

    // Each line says which service and message; the process is the stdout it came from.
    const shares = workers.map((w) => w.doneIds());
    for (const [i, w] of workers.entries()) {
      for (const line of w.lines('message done')) {
        assert.equal(line.service, 'single');
        assert.equal(line.input, 'single-in');
      }
      assert.ok(shares[i]!.length >= MESSAGES * MIN_SHARE, `process ${w.pid} handled ${shares[i]!.length} of ${MESSAGES}, less than ${MIN_SHARE * 100}%; shares: ${shares.map((s) => s.length).join(', ')}`);
    }
    // Each message was handled by one process only, once (no failures, no crash here).
    const handled = shares.flat();
    assert.equal(new Set(handled).size, MESSAGES, 'every message handled');
    assert.equal(handled.length, MESSAGES, 'no message handled twice');
    assert.equal(collector.duplicates, 0, 'every id arrived once');

    log(`competing consumers: sent ${MESSAGES}, results ${collector.unique} unique, ${collector.duplicates} duplicates; ` +
      `shares per process ${shares.map((s) => s.length).join(' / ')}; total ${((Date.now() - began) / 1000).toFixed(1)} s`);
  });
});
