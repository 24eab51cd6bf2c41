// A peer that floods a service with bad frames cannot flood its log (issue 17): every bad
// frame is still answered (a replyer's error reply) and counted (a `rejected` event), but
// the warnings are rate-limited per kind, and how many were held back is written when the
// window ends or the service stops.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/observability/logger.js';
import { decodeReply, encodeEnvelope, replyer, service, startService, subscriber, t } from '../../src/models/service/mod.js';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';
import { MemorySockets } from '../../src/transports/memory/mod.js';

describe('bad frames and the log', () => {
  it('200 malformed requests and 200 invalid publications: all answered and counted, a handful of warnings plus the suppressed counts', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const sockets = new MemorySockets();
    const events: ObserverEvent[] = [];
    const observer = new Observer();
    observer.listen((e) => void events.push(e));
    try {
      const svc = await startService(service({
        connections: {
          in: {
            q: replyer({ requiredArguments: { n: t.int } }, () => ({})),
            s: subscriber({ requiredArguments: { n: t.int } }, () => undefined),
          },
        },
      }), { sockets, logger, addresses: { connections: { in: { q: { replyer: 'q:1' }, s: { subscriber: 'p:1' } } } }, observer });
      const req = await sockets.requester('q:1');
      const pub = await sockets.publisher('p:1');
      for (let i = 0; i < 200; i++) {
        const reply = decodeReply(await req.request(Uint8Array.from([0xc1, i & 0xff])));
        assert.match(reply.error ?? '', /is not msgpack/);
        await pub.publish(encodeEnvelope({ n: 'not an int' }, null));
      }
      await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 50 && events.filter((e) => e.type === 'rejected').length < 400; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(events.filter((e) => e.type === 'rejected' && e.input === 'q' && e.reason === 'undecodable').length, 200);
      assert.equal(events.filter((e) => e.type === 'rejected' && e.input === 's' && e.reason === 'invalid').length, 200);
      const warned = lines.filter((l) => l.suppressed === undefined);
      assert.ok(warned.length <= 10, `${warned.length} warning lines for 400 bad frames`);
      assert.ok(warned.some((l) => /malformed request/.test(String(l.msg))) && warned.some((l) => /invalid message/.test(String(l.msg))));
      await svc.stop();
      await req.close();
      await pub.close();
      // On stop, the counts of what was held back.
      const suppressed = lines.filter((l) => typeof l.suppressed === 'number').map((l) => l.suppressed as number);
      assert.equal(suppressed.reduce((a, b) => a + b, 0) + warned.length, 400, JSON.stringify(lines.slice(-3)));
    } finally {
      await sockets.close();
    }
  });
});
