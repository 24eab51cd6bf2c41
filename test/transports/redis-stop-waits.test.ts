// Waits bounded by a stop (unlessStopped): one per ack or read, so each must leave nothing
// behind once it settled. A wait on a stop promise kept a reaction on it until the stop
// (~460 bytes per event handled, for the life of a listener); a wait on a Signal does not.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { graceAfter, signal, unlessStopped } from '../../src/transports/redis/connection.js';

it('waits bounded by a signal that settled leave no watcher on it', async () => {
  const stop = signal();
  for (let i = 0; i < 1_000; i++) assert.equal(await unlessStopped(Promise.resolve(i), stop), i);
  await assert.rejects(unlessStopped(Promise.reject(new Error('failed')), stop), /failed/);
  assert.equal(stop.watching, 0);
});

it('a wait still running when the signal resolves ends with undefined, and one begun after ends at once', async () => {
  const stop = signal();
  const waiting = unlessStopped(new Promise<number>(() => undefined), stop);
  assert.equal(stop.watching, 1);
  stop.resolve();
  assert.equal(await waiting, undefined);
  assert.equal(await unlessStopped(new Promise<number>(() => undefined), stop), undefined);
  assert.equal(stop.watching, 0);
});

it('the grace after a stop is a signal too: settled waits leave nothing on it', async () => {
  const stopped = signal();
  const grace = graceAfter(stopped.promise);
  for (let i = 0; i < 100; i++) await unlessStopped(Promise.resolve(i), grace);
  assert.equal(grace.watching, 0);
});
