// Fault: SIGTERM to a worker under load. It stops taking messages, finishes every message
// it had taken (result published, acked), and exits 0. A new worker drains the rest.
// Nothing is lost and nothing is left unacked.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUCKETS, expectedSingle } from './fixtures/contents.js';
import { assertNoLoss, checkObjects, Collector, ids, log, publishIds, queueDepth, startRig, type Rig } from './fault-kit.js';

const MESSAGES = 300;
/** SIGTERM once the first worker finished this many. */
const TERM_AFTER = 40;

describe('faults: SIGTERM under load', () => {
  let rig: Rig | undefined;
  let collector: Collector | undefined;
  after(async () => {
    await collector?.stop();
    await rig?.close();
  });

  it(`SIGTERM with ${MESSAGES} messages queued: in-flight ones finish, exit 0, a new worker drains the rest`, { timeout: 120_000 }, async () => {
    const began = Date.now();
    const list = ids(MESSAGES);
    rig = await startRig({ seed: list });
    const { broker } = rig;
    collector = new Collector(broker.url, ['done']);
    await collector.start();

    // ~20 ms of work per message, 8 at a time; debug logs show each message taken.
    const options = { env: { SY_FAULT_CONCURRENCY: '8', SY_FAULT_DELAY_MS: '20' }, logLevel: 'debug' };
    const first = rig.spawnWorker('single.ts', options);
    await first.ready();
    const published = await publishIds(broker.url, 'single-in', list);
    assert.equal(published.confirmed, MESSAGES);

    const deadline = Date.now() + 60_000;
    while (first.lines('message done').length < TERM_AFTER) {
      assert.ok(Date.now() < deadline, `the first worker finished fewer than ${TERM_AFTER} in 60 s:\n${first.tail()}`);
      await sleep(5);
    }
    const termAt = Date.now();
    first.kill('SIGTERM');
    const exit = await first.exited(20_000);
    const stopMs = Date.now() - termAt;
    assert.deepEqual(exit, { code: 0, signal: null }, first.tail());

    // Every message it took, it finished: a "message done" for each "message received".
    const taken = new Set(first.lines('message received').map((l) => String(l.id)));
    const finished = new Set(first.doneIds());
    const unfinished = [...taken].filter((id) => !finished.has(id));
    assert.deepEqual(unfinished, [], `taken but not finished before exit:\n${first.tail(30)}`);
    assert.ok(taken.size < MESSAGES, 'it stopped before taking everything');
    assert.equal(first.lines('message failed').length, 0, first.tail());
    assert.ok(first.stdout().includes('"msg":"worker stopped"'), first.tail());
    // Its results are all at done (published before the ack, confirmed).
    assertNoLoss('results of the stopped worker', await collector.waitForAll([...finished], 10_000), [first]);

    const second = rig.spawnWorker('single.ts', options);
    await second.ready();
    const missing = await collector.waitForAll(list, 60_000);
    assertNoLoss('ids at done', missing, [first, second]);
    second.kill('SIGTERM');
    assert.deepEqual(await second.exited(20_000), { code: 0, signal: null }, second.tail());

    // No consumer is left: anything unacked would be back in the queue now.
    await sleep(300);
    assert.equal(await queueDepth(broker.url, 'single-in'), 0, 'nothing left in single-in');
    assert.equal(await queueDepth(broker.url, 'single-in.dead-letter'), 0, 'nothing dead-lettered');
    const outputs = await checkObjects(rig.s3Client, BUCKETS.out, list, expectedSingle);
    assert.deepEqual(outputs.missing, [], `output objects missing in ${BUCKETS.out}`);
    assert.deepEqual(outputs.wrong, [], `output objects with the wrong content in ${BUCKETS.out}`);
    // Acked before the exit: none of them came back to the second worker.
    const redone = second.doneIds().filter((id) => finished.has(id));
    assert.deepEqual(redone, [], 'messages the first worker finished were redelivered: not acked before it exited');
    const both = new Set([...finished, ...second.doneIds()]);
    assert.equal(both.size, MESSAGES, 'the two workers together finished every message');

    log(`sigterm: sent ${MESSAGES}, results ${collector.unique} unique, ${collector.duplicates} duplicates; the first worker took ${taken.size}, ` +
      `finished all of them, exited 0 ${stopMs} ms after SIGTERM; the second finished ${second.doneIds().length}; total ${((Date.now() - began) / 1000).toFixed(1)} s`);
  });
});
