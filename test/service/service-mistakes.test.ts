// Mistakes a user makes with the service model (issue 15): a requester pointed at an address
// where no replyer runs, without timeoutMs, waits as the original does, but says so (a
// warning naming the connection and the address after warnAfterMs) instead of saying nothing.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { requester, service, startService, t } from '../../src/models/service/mod.js';
import { ZeroMqSockets } from '../../src/transports/zeromq/mod.js';
import { waitFor, watch } from './service-kit.js';

/** A loopback port nothing listens on (taken from the OS, then released). */
async function deadAddress(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return `127.0.0.1:${port}`;
}

describe('a requester with a wrong address and no timeout', () => {
  it('keeps waiting, and warns after warnAfterMs naming the connection and the address', async () => {
    const sockets = new ZeroMqSockets();
    const w = watch('warn');
    const address = await deadAddress();
    const caller = await startService(service({ connections: { out: { quote: requester({ requiredArguments: { symbol: t.str }, warnAfterMs: 300 }) } } }),
      { sockets, addresses: { connections: { out: { quote: { requester: address } } } }, logger: w.logger });
    let settled = false;
    const pending = caller.toSend('connection', 'quote', { symbol: 'A' }).then(() => (settled = true), () => (settled = true));
    try {
      await waitFor(() => w.lines.some((l) => l.connection === 'quote'), 'the waiting warning', 10_000);
      const line = w.lines.find((l) => l.connection === 'quote')!;
      assert.equal(line.level, 'warn');
      assert.equal(line.address, address);
      assert.match(String(line.msg), new RegExp(`requester "quote" has had no reply from (tcp://)?${address.replace(/\./g, '\\.')} for 0\\.3 s and waits on \\(it has no timeoutMs\\): check that a replyer runs at that address \\(addresses file: connections\\.out\\.quote\\.requester\\)`));
      assert.equal(settled, false, 'the request still waits, as the original does');
    } finally {
      await caller.stop();
      await sockets.close();
      await pending;
    }
  });

});
