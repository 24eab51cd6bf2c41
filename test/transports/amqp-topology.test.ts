import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { delayTierOf, groupQueueOf, queueFlagsError } from '../../src/transports/amqp/topology.js';

describe('amqp topology', () => {
  it('maps a delay to the largest tier not above it, 100 ms at least', () => {
    assert.deepEqual([0, 50, 100, 199, 200, 450, 30_000].map(delayTierOf), [100, 100, 100, 100, 200, 400, 25_600]);
  });

  it('names group queues so that no two (topic, group) pairs meet', () => {
    assert.notEqual(groupQueueOf('a', 'b:c'), groupQueueOf('a:b', 'c'));
    assert.notEqual(groupQueueOf('a', 'b:c'), 'a:b:c');
  });

  it('turns PRECONDITION_FAILED into an error naming queue, flag, values and setting', () => {
    const broker = `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'jobs' in vhost '/': received 'quorum' but current is 'classic'"`;
    const err = queueFlagsError('jobs', broker) as Error & { code: string };
    assert.equal(err.code, 'SY_ERR_QUEUE_FLAGS');
    assert.match(err.message, /queue "jobs"/);
    assert.match(err.message, /x-queue-type = classic/);
    assert.match(err.message, /queues\.jobs\.arguments\.x-queue-type: classic/);
  });

  it('still names the queue when the broker says something else', () => {
    const err = queueFlagsError('jobs', 'PRECONDITION_FAILED - something new');
    assert.match(err.message, /queue "jobs".*something new/);
  });
});
