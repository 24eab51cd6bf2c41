// A delta gap must not hold up the service (issue 17 #9): the receiver fetches the sender's
// snapshot off the service loop, so requests keep being answered meanwhile (handlers see the
// state as it was before the gap), updates that arrive meanwhile are held and replayed on
// top of the snapshot, and a failed fetch is retried by the next delta. The snapshot
// replyer here answers only when the test lets it; before the fix the loop waited for it
// (up to snapshotTimeoutMs, 60 s here) and the request below went unanswered.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeEnvelope, encodeReply, replyer, requester, service, startService, t, type RunningService,
} from '../../src/models/service/mod.js';
import type { Closable, PublisherSocket, SocketFactory } from '../../src/transports/sockets.js';
import { freePorts } from '../support/service-framework-peer.js';
import { factories, waitFor, warmUp, watch } from './service-kit.js';

for (const { name: factoryName, make } of factories) {
  describe(`delta-state resync off the service loop, on ${factoryName} sockets`, () => {
    let sockets: SocketFactory;
    const closables: Closable[] = [];
    const running: RunningService[] = [];
    before(() => {
      sockets = make();
    });
    after(async () => {
      for (const s of running.reverse()) await s.stop();
      for (const c of closables) await c.close();
      await sockets.close();
    });

    it('requests are answered while a snapshot is awaited; held updates replay on top of it', { timeout: 30_000 }, async () => {
      const [pubPort, snapPort, peekPort] = await freePorts(3);
      const pubAddr = `127.0.0.1:${pubPort}`;
      const snapAddr = `127.0.0.1:${snapPort}`;
      const peekAddr = `127.0.0.1:${peekPort}`;
      const pub: PublisherSocket = await sockets.publisher(pubAddr);
      closables.push(pub);
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let snapshotRequests = 0;
      closables.push(await sockets.replyer(snapAddr, async () => {
        snapshotRequests++;
        await released;
        return encodeReply({ state: { a: 1, b: 2 }, current_num: 5 }, null);
      }));
      const w = watch('debug');
      const receiver = await startService(service({
        states: { in: { book: { stateType: 'delta_update_in', snapshotTimeoutMs: 60_000 } } },
        connections: { in: { peek: replyer({ optionalReturnArguments: { book: t.dict } }, (_a, _s, states) => ({ book: { ...(states.book as Record<string, unknown>) } })) } },
      }), {
        sockets,
        addresses: { states: { in: { book: { subscriber: pubAddr, requester: snapAddr } } }, connections: { in: { peek: { replyer: peekAddr } } } },
        observer: w.observer,
        logger: w.logger,
      });
      running.push(receiver);
      const caller = await startService(service({ connections: { out: { peek: requester({ optionalReturnArguments: { book: t.dict }, timeoutMs: 10_000 }) } } }),
        { sockets, addresses: { connections: { out: { peek: { requester: peekAddr } } } } });
      running.push(caller);
      const publish = (current_num: number, is_snapshot: boolean, state: Record<string, unknown>) => pub.publish(encodeEnvelope({ current_num, is_snapshot, state }, null));
      const outcomes = () => w.stateLog('book').map((e) => e.outcome);

      await warmUp(() => publish(0, true, { a: 1 }), () => outcomes().includes('snapshot'), 'the delta receiver');
      await publish(5, false, { b: 2 }); // a gap: 5 after 0
      await waitFor(() => outcomes().includes('gap'), 'the gap');
      await waitFor(() => snapshotRequests === 1, 'the snapshot request');
      // The snapshot is not here yet: the replyer answers anyway, with the state before the gap.
      assert.deepEqual(await caller.toSend('connection', 'peek', {}), { book: { a: 1 } });
      await publish(6, false, { c: 3 }); // held
      await waitFor(() => outcomes().includes('held'), 'the held update');
      release();
      await waitFor(() => outcomes().includes('reset') && outcomes().at(-1) === 'applied', 'the reset and the replay');
      assert.deepEqual(receiver.states().book, { a: 1, b: 2, c: 3 });
      assert.deepEqual(outcomes().slice(-4), ['gap', 'held', 'reset', 'applied']);
      assert.equal(snapshotRequests, 1);
    });
  });
}
