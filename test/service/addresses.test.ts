// addresses.json in both shapes the original used: nested with states (0.0.3) and flat,
// connections only (0.0.19+, {"in": …, "out": …}). In-process sockets: the shape is read
// before any socket exists.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAddresses, replyer, requester, service, startService, t } from '../../src/models/service/mod.js';
import { MemorySockets } from '../../src/transports/memory/mod.js';

const echo = replyer({ requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } }, (a) => ({ n: Number(a.n) + 1 }));
const ask = requester({ requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } });

describe('service addresses files', () => {
  it('the flat file of 0.0.19+ ({"in": …, "out": …}) is read as the connections', async () => {
    const sockets = new MemorySockets();
    try {
      let seen: unknown;
      const server = await startService(service({ connections: { in: { echo } }, setupAddresses: (addresses) => ((seen = addresses), addresses) }),
        { sockets, addresses: { in: { echo: { replyer: 'svc:1' } } } });
      // setupAddresses gets the file as it is, as the original of either version does.
      assert.deepEqual(seen, { in: { echo: { replyer: 'svc:1' } } });
      const client = await startService(service({ connections: { out: { ask } } }), { sockets, addresses: { out: { ask: { requester: 'svc:1' } } } });
      assert.deepEqual(await client.toSend('connection', 'ask', { n: 1 }), { n: 2 });
      await client.stop();
      await server.stop();
    } finally {
      await sockets.close();
    }
  });

  it('the nested file stays as it was; a file mixing both shapes is refused, naming both', () => {
    const nested = { connections: { in: { echo: { replyer: 'a:1' } } }, states: { in: {} } };
    assert.equal(normalizeAddresses(nested), nested);
    assert.deepEqual(normalizeAddresses({ in: { echo: { replyer: 'a:1' } }, out: {} }), { connections: { in: { echo: { replyer: 'a:1' } }, out: {} } });
    assert.throws(() => normalizeAddresses({ in: {}, connections: {} } as never), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SERVICE_ADDRESSES');
      assert.match(err.message, /mixes the nested shape .* with the flat one of 0\.0\.19\+/);
      return true;
    });
  });

  it('a flat file names a missing connection the same way', async () => {
    const sockets = new MemorySockets();
    try {
      await assert.rejects(startService(service({ connections: { in: { echo } } }), { sockets, addresses: { in: {} } }), /addresses: connections\.in\.echo is missing/);
    } finally {
      await sockets.close();
    }
  });
});
