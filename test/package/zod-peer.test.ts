// zod is a peer dependency (^4). A zod 3 schema handed to a define-function must fail at
// once with the catalogue's SY_ERR_ZOD_VERSION naming where it was declared, not later with
// "needs params: z.object(...)" or an empty JSON Schema. zod 4 ships zod 3's API at
// `zod/v3`, which makes schemas exactly like a zod 3 installation's (`_def`, no `_zod`).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z as z3 } from 'zod/v3';
import { z } from 'zod';
import { defineApi } from '../../src/models/api/mod.js';
import { replyer, service, subscriber, t } from '../../src/models/service/mod.js';

function refusedAs(place: string) {
  return (err: unknown) => {
    const e = err as { code?: string; message: string };
    assert.equal(e.code, 'SY_ERR_ZOD_VERSION', e.message);
    assert.ok(e.message.includes(`${place} is a zod 3 schema: install zod@^4`), e.message);
    return true;
  };
}

describe('a zod 3 schema in a define-function', () => {
  it('api: rpc params, rpc result and event params are named', () => {
    const params3 = z3.object({ a: z3.number() }) as never;
    assert.throws(() => defineApi({ name: 'calc', rpcs: { add: { params: params3, result: z.number() } } }), refusedAs('api "calc" rpc "add" params'));
    assert.throws(
      () => defineApi({ name: 'calc', rpcs: { add: { params: z.object({ a: z.number() }), result: z3.number() as never } } }),
      refusedAs('api "calc" rpc "add" result'),
    );
    assert.throws(() => defineApi({ name: 'calc', events: { added: { params: params3 } } }), refusedAs('api "calc" event "added" params'));
  });

  it('service: connection args, state args and the config model are named', () => {
    assert.throws(
      () => service({ name: 'pricer', connections: { in: { quote: replyer({ arguments: z3.object({ sku: z3.string() }) as never }, () => ({})) } } }),
      refusedAs('service "pricer" connections.in.quote.arguments'),
    );
    assert.throws(
      () => service({ name: 'pricer', connections: { in: { ticks: subscriber({ requiredArguments: { price: z3.number() as never } }, () => undefined) } } }),
      refusedAs('service "pricer" connections.in.ticks.requiredArguments.price'),
    );
    assert.throws(
      () => service({ name: 'pricer', states: { out: { level: { stateType: 'full', requiredArguments: { v: z3.number() as never } } } } as never }),
      refusedAs('service "pricer" states.out.level.requiredArguments.v'),
    );
    assert.throws(() => service({ config: z3.object({ port: z3.number() }) as never }), refusedAs('service config'));
  });

  it('zod 4 schemas and the service grammar are accepted as before', () => {
    const api = defineApi({ name: 'calc', rpcs: { add: { params: z.object({ a: z.number() }), result: z.number() } }, events: { added: { params: z.object({ a: z.number() }) } } });
    assert.equal(api.name, 'calc');
    const svc = service({
      name: 'pricer',
      connections: { in: { quote: replyer({ arguments: z.object({ sku: z.string() }), requiredReturnArguments: { price: t.float } }, () => ({ price: 1 })) } },
      config: z.object({ port: z.number() }),
    });
    assert.ok(svc.connections?.in?.quote);
  });
});
