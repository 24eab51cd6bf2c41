// Fault: a poison message. stage-a always throws for one id (poison-a.ts: retry
// { maxAttempts: 4, initialDelayMs: 100 }). That message is tried 4 times and then lands in
// a-in.dead-letter with its body and the reason, source queue and attempts in headers,
// while every other message of the stream flows through both stages to `done`.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUCKETS, expectedTwoStage, POISON_ID } from './fixtures/contents.js';
import { assertNoLoss, checkObjects, Collector, getText, ids, log, publishIds, queueDepth, startRig, type Rig } from './fault-kit.js';

const MESSAGES = 201; // 1..201, the poison id among them
const POISON = String(POISON_ID);

describe('faults: a poison message', () => {
  let rig: Rig | undefined;
  const collectors: Collector[] = [];
  after(async () => {
    for (const c of collectors) await c.stop();
    await rig?.close();
  });

  it(`id ${POISON} always throws: dead-lettered after 4 tries with its reason, the other ${MESSAGES - 1} arrive`, { timeout: 120_000 }, async () => {
    const began = Date.now();
    const list = ids(MESSAGES);
    assert.ok(list.includes(POISON));
    const healthy = list.filter((id) => id !== POISON);
    rig = await startRig({ seed: list });
    const { broker } = rig;
    const done = new Collector(broker.url, ['done']);
    const dead = new Collector(broker.url, ['a-in.dead-letter']);
    collectors.push(done, dead);
    await Promise.all([done.start(), dead.start()]);

    const a = rig.spawnWorker('poison-a.ts');
    const b = rig.spawnWorker('stage-b.ts');
    await Promise.all([a.ready(), b.ready()]);
    const published = await publishIds(broker.url, 'a-in', list);
    assert.equal(published.confirmed, MESSAGES);

    const missing = await done.waitForAll(healthy, 60_000);
    assertNoLoss('healthy ids at done', missing, [a, b]);
    assert.deepEqual(await dead.waitForAll([POISON], 30_000), [], `${POISON} reached a-in.dead-letter:\n${a.tail()}`);
    await sleep(500); // anything more would show up now

    assert.equal(done.counts.get(POISON), undefined, 'the poison id never reaches done');
    assert.deepEqual([...dead.counts.keys()], [POISON], 'only the poison id is dead-lettered');
    assert.equal(dead.received.length, 1, 'dead-lettered once');
    const letter = dead.received[0]!.message;
    assert.equal(letter.content.toString('utf8'), POISON, 'the dead letter keeps the original body');
    const headers = letter.properties.headers ?? {};
    const header = (name: string) => {
      const v = headers[name] as unknown;
      return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    };
    assert.match(header('x-switchyard-dead-letter-reason'), new RegExp(`poison id ${POISON}: stage-a always fails on it`));
    assert.match(header('x-switchyard-dead-letter-reason'), /failed 4 time\(s\)/);
    assert.equal(header('x-switchyard-source-queue'), 'a-in');
    assert.equal(header('x-switchyard-attempts'), '4');

    // Tried exactly 4 times: three failures retried (each with its wait), then the fourth is the
    // dead letter. The lines are derived from the observer stream: a "failed" event is a
    // failure that will be tried again; the last one is the "dead-lettered" event, whose
    // reason carries the count and the error.
    const failures = a.lines('message failed').filter((l) => l.id === POISON);
    assert.equal(failures.length, 3, a.tail());
    assert.ok(failures.every((l) => typeof l.retryInMs === 'number'), 'the first three are retried');
    assert.ok(failures.every((l) => /always fails on it/.test(String((l.err as { message?: unknown } | undefined)?.message))), 'each names the error');
    const deadLines = a.lines('message dead-lettered');
    assert.equal(deadLines.length, 1);
    assert.equal(deadLines[0]!.id, POISON);
    assert.equal(deadLines[0]!.reasonKind, 'max_attempts');
    assert.match(String(deadLines[0]!.reason), /failed 4 time\(s\), giving up: poison id/);
    // The poison left nothing behind. (Other failures would be S3 glitches: reported, retried.)
    const otherFailures = a.lines('message failed').length - failures.length + b.lines('message failed').length;
    assert.equal(await getText(rig.s3Client, BUCKETS.mid, POISON), undefined, 'no intermediate object for the poison id');

    const outputs = await checkObjects(rig.s3Client, BUCKETS.out, healthy, expectedTwoStage);
    assert.deepEqual(outputs.missing, [], `output objects missing in ${BUCKETS.out}`);
    assert.deepEqual(outputs.wrong, [], `output objects with the wrong content in ${BUCKETS.out}`);
    for (const q of ['a-in', 'b-in', 'b-in.dead-letter']) assert.equal(await queueDepth(broker.url, q), 0, `${q} is empty at the end`);

    log(`poison: sent ${MESSAGES}, results ${done.unique} unique, ${done.duplicates} duplicates; ${POISON} dead-lettered after ${failures.length + 1} attempts; ${otherFailures} failures of other messages; total ${((Date.now() - began) / 1000).toFixed(1)} s`);
  });
});
