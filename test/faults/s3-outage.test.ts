// Fault: the S3 server goes away for a few seconds while messages flow through a one-stage
// worker. A message whose upload failed must publish no result: every id read from `done`
// has its output object in the store at the moment it is read (through S3 when the server
// is up, from s3rver's folder on disk while it is down). The failed messages are retried
// and succeed once S3 is back; none is dead-lettered.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUCKETS, expectedSingle } from './fixtures/contents.js';
import { assertNoLoss, checkObjects, Collector, getText, ids, log, publishIds, queueDepth, readStoredObject, startRig, type Received, type Rig } from './fault-kit.js';

const MESSAGES = 500;
/** S3 stops once this many results arrived, for OUTAGE_MS. */
const STOP_AFTER = 100;
const OUTAGE_MS = 4_000;

describe('faults: S3 outage', () => {
  let rig: Rig | undefined;
  let collector: Collector | undefined;
  after(async () => {
    await collector?.stop();
    await rig?.close();
  });

  it(`${MESSAGES} messages, S3 down for ${OUTAGE_MS / 1000} s: no result without its object, all complete after`, { timeout: 150_000 }, async () => {
    const began = Date.now();
    const list = ids(MESSAGES);
    rig = await startRig({ seed: list });
    const { s3, s3Client, broker } = rig;

    let outage = false;
    const violations: string[] = [];
    const checkedBy = { s3: 0, disk: 0, duringOutage: 0 };
    // Right when an id is read from done (before it is acked), its object must be stored.
    const check = async ({ id }: Received) => {
      if (outage) checkedBy.duringOutage++;
      let text: string | undefined;
      let viaS3 = false;
      if (s3.running) {
        try {
          text = await getText(s3Client, BUCKETS.out, id);
          viaS3 = true;
        } catch {
          // the server went down meanwhile: look on disk
        }
      }
      if (!viaS3) text = await readStoredObject(s3, BUCKETS.out, id);
      checkedBy[viaS3 ? 's3' : 'disk']++;
      if (text !== expectedSingle(id)) violations.push(`${id}: ${text === undefined ? 'no object' : JSON.stringify(text)} when its result arrived${outage ? ' (during the outage)' : ''}`);
    };
    collector = new Collector(broker.url, ['done'], check);
    await collector.start();

    // 40 ms between the read and the staged write: most messages in flight when S3 stops
    // have read their input and fail at the upload, the case under test.
    const worker = rig.spawnWorker('s3-single.ts', { env: { SY_FAULT_CONCURRENCY: '8', SY_FAULT_DELAY_MS: '40' } });
    await worker.ready();
    const published = await publishIds(broker.url, 'single-in', list);
    assert.equal(published.confirmed, MESSAGES);

    const deadline = Date.now() + 60_000;
    while (collector.unique < STOP_AFTER) {
      assert.ok(Date.now() < deadline, `only ${collector.unique} results after 60 s:\n${worker.tail()}`);
      await sleep(10);
    }
    const atStop = collector.unique;
    outage = true;
    await s3.stop();
    await sleep(OUTAGE_MS);
    const duringOutage = collector.unique - atStop;
    outage = false;
    await s3.restart();

    const missing = await collector.waitForAll(list, 90_000);
    assertNoLoss('ids at done after an S3 outage', missing, [worker]);
    assert.deepEqual(violations, [], `results published before their output object was stored:\n${violations.slice(0, 20).join('\n')}`);
    const outputs = await checkObjects(s3Client, BUCKETS.out, list, expectedSingle);
    assert.deepEqual(outputs.missing, [], `output objects missing in ${BUCKETS.out}`);
    assert.deepEqual(outputs.wrong, [], `output objects with the wrong content in ${BUCKETS.out}`);
    await sleep(300);
    assert.equal(await queueDepth(broker.url, 'single-in'), 0, 'single-in is empty at the end');
    assert.equal(await queueDepth(broker.url, 'single-in.dead-letter'), 0, `nothing was dead-lettered:\n${worker.tail()}`);

    // The outage was felt: messages failed on S3 and were retried.
    const failed = worker.lines('message failed');
    assert.ok(failed.length > 0, `messages failed during the outage:\n${worker.tail()}`);
    const storageFailures = failed.filter((l) => /SY_ERR_(STORAGE|OBJECT)|ECONNREFUSED|socket|connect/i.test(JSON.stringify(l.err)));
    assert.ok(storageFailures.length > 0, `failures name the storage: ${JSON.stringify(failed[0]).slice(0, 500)}`);
    const uploadFailures = failed.filter((l) => /could not upload/.test(JSON.stringify(l.err)));
    assert.ok(uploadFailures.length > 0, `some messages failed at the upload (their results must not have been published):\n${worker.tail()}`);
    assert.ok(!worker.cli.hasExited(), `the worker kept running:\n${worker.tail()}`);

    log(`s3 outage: sent ${MESSAGES}, results ${collector.unique} unique, ${collector.duplicates} duplicates; ${atStop} in when S3 stopped, ` +
      `${duringOutage} arrived during the ${OUTAGE_MS / 1000} s outage; checked through S3 ${checkedBy.s3}, on disk ${checkedBy.disk}; ` +
      `${failed.length} "message failed" lines, ${uploadFailures.length} of them at the upload (longest retry wait ${Math.max(...failed.map((l) => Number(l.retryInMs ?? 0)))} ms); total ${((Date.now() - began) / 1000).toFixed(1)} s`);
  });
});
