// Connection models declared with zod (through src/schema): handler args typed and parsed
// from the schema, both directions validated, errors naming the connection and the field.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from '../../src/schema/mod.js';
import { startService, service, replyer, requester, t } from '../../src/models/service/mod.js';
import { MemorySockets } from '../../src/transports/memory/mod.js';

const Order = z.object({ id: z.string().min(1), qty: z.number().int().positive(), side: z.enum(['buy', 'sell']).default('buy') }).strict();
const Ack = z.object({ accepted: z.boolean(), side: z.enum(['buy', 'sell']) });

describe('service models with zod', () => {
  it('a zod replyer and requester: parsed args (defaults applied) reach the handler; errors name the field', async () => {
    const sockets = new MemorySockets();
    const seen: Array<z.output<typeof Order>> = [];
    const server = await startService(service({
      connections: {
        in: {
          place: replyer({ arguments: Order, returnArguments: Ack }, (args) => {
            // Compile-time: args is z.output<typeof Order>.
            const side: 'buy' | 'sell' = args.side;
            seen.push(args);
            return { accepted: args.qty < 100, side };
          }),
        },
      },
    }), { sockets, addresses: { connections: { in: { place: { replyer: 'mem:place' } } } } });
    const client = await startService(service({ connections: { out: { place: requester({ arguments: Order.partial({ side: true }), returnArguments: Ack }) } } }),
      { sockets, addresses: { connections: { out: { place: { requester: 'mem:place' } } } } });
    assert.deepEqual(await client.toSend('connection', 'place', { id: 'o1', qty: 5 }), { accepted: true, side: 'buy' });
    assert.deepEqual(seen, [{ id: 'o1', qty: 5, side: 'buy' }]);
    await assert.rejects(client.toSend('connection', 'place', { id: 'o2', qty: 0 }), /outbound args of connection "place" is not valid: field "qty": expected number > 0, got integer/);
    await assert.rejects(client.toSend('connection', 'place', { id: 'o3', qty: 1, extra: true }), /field "extra": expected no such key/);
    await client.stop();
    await server.stop();
    await sockets.close();
  });

  it('grammar models infer handler types too (compile-time checks)', () => {
    const model = replyer({ requiredArguments: { n: t.int, tags: [t.str] }, optionalArguments: { note: t.str } }, (args) => {
      const n: number | bigint = args.n;
      const tags: string[] = args.tags;
      const note: string | undefined = args.note;
      return { n, tags, note };
    });
    assert.equal(model.connectionType, 'replyer');
  });
});
