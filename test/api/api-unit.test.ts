import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createBus, defineApi, schemaOfApi } from '../../src/models/api/mod.js';
import { createTestBus } from '../../src/models/api/testing.js';
import { parseRepr, reprOf } from '../../src/transports/bus/python-repr.js';
import { toBus } from '../../src/models/api/codec.js';
import { intervalMs } from '../../src/models/api/scheduler.js';
import { busConfigLayer, lightbusConfigJsonSchema, loadBusConfigLayer } from '../../src/models/api/lightbus-config-file.js';
import { expandName } from '../../src/models/api/name-placeholders.js';
import { busFromConfig, settingsFromBusConfig } from './bus-from-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { BusOverTransport } from '../../src/transports/bus/bus-over-transport.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';

const logger = createLogger({ level: 'silent' });
const shop = defineApi({
  name: 'shop.orders',
  rpcs: { place: { params: z.object({ sku: z.string(), qty: z.number().int().default(1) }), result: z.object({ order: z.string() }) } },
  events: { placed: { params: z.object({ order: z.string(), sku: z.string() }) } },
});

describe('defineApi', () => {
  it('refuses names Lightbus refuses, saying why', () => {
    assert.throws(() => defineApi({ name: 'default' }), /SY_ERR_API_DEFINITION.*"default" is reserved/);
    assert.throws(() => defineApi({ name: 'default.x' }), /reserved/);
    assert.throws(() => defineApi({ name: 'has space' }), /dotted identifiers/);
    assert.throws(() => defineApi({ name: 'a.b', rpcs: { _private: { params: z.object({}), result: z.null() } } }), /rpc name "_private" must start with a letter/);
    assert.throws(() => defineApi({ name: 'a.b', events: { 'x.y': { params: z.object({}) } } }), /event name "x.y"/);
    assert.throws(() => defineApi({ name: 'a.b', rpcs: { x: { params: z.string() as never, result: z.null() } } }), /needs params: z.object/);
    assert.throws(
      () => defineApi({ name: 'a.b', rpcs: { x: { params: z.object({}), result: z.null() } }, events: { x: { params: z.object({}) } } }),
      /"x" is both an rpc and an event/,
    );
  });

  it('makes Lightbus-shaped schemas: titles, required without defaults, no extra keys', () => {
    const s = schemaOfApi(shop) as unknown as { rpcs: Record<string, any>; events: Record<string, any> };
    assert.equal(s.rpcs.place.parameters.title, 'RPC shop.orders.place() parameters');
    assert.deepEqual(s.rpcs.place.parameters.required, ['sku']);
    assert.equal(s.rpcs.place.parameters.additionalProperties, false);
    assert.equal(s.rpcs.place.response.title, 'RPC shop.orders.place() response');
    assert.equal(s.events.placed.parameters.title, 'Event shop.orders.placed parameters');
    assert.equal(s.events.placed.parameters.$schema, 'http://json-schema.org/draft-07/schema#');
  });
});

describe('codec and remote errors', () => {
  it('deforms values for JSON as Lightbus does', () => {
    assert.deepEqual(toBus({ b: new Uint8Array([104, 105]), d: new Date('2020-01-02T03:04:05Z'), n: 10n, s: new Set([1, 2]), u: undefined, m: new Map([['k', 1]]) }), {
      b: 'aGk=',
      d: '2020-01-02T03:04:05.000Z',
      n: '10',
      s: [1, 2],
      m: { k: 1 },
    });
  });

  it('writes and reads Python-style reprs', () => {
    assert.equal(reprOf(new TypeError('bad')), "TypeError('bad')");
    assert.equal(reprOf(new Error("it's")), 'Error("it\'s")');
    assert.deepEqual(parseRepr("ValueError('bad')"), { type: 'ValueError', message: 'bad' });
    assert.deepEqual(parseRepr(reprOf(new RangeError('a\nb \\ c'))), { type: 'RangeError', message: 'a\nb \\ c' });
    assert.deepEqual(parseRepr('something odd'), { type: 'Error', message: 'something odd' });
  });
});

describe('scheduler and listeners', () => {
  it('refuses a zero interval and converts units', () => {
    assert.throws(() => intervalMs(0), /SY_ERR_SCHEDULE.*more than 0 ms/);
    assert.throws(() => intervalMs({}), /more than 0 ms/);
    assert.equal(intervalMs({ minutes: 1, seconds: 30 }), 90_000);
  });

  it('refuses a cron expression that is not one', () => {
    const bus = createBus({ transport: new BusOverTransport(new MemoryTransport()), logger });
    assert.throws(() => bus.schedule('every tuesday', () => undefined), /SY_ERR_SCHEDULE.*not a cron expression/);
  });

  it('runs every(...) tasks, sync or async, and stops them with the bus', async () => {
    const bus = createBus({ transport: new BusOverTransport(new MemoryTransport()), logger });
    let sync = 0;
    let async_ = 0;
    bus.every(20, () => void sync++, { alsoRunImmediately: true });
    bus.every({ ms: 20 }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      async_++;
    });
    await bus.start();
    // Until both ran twice (a loaded machine may stretch 20 ms timers; 10 s is the bound).
    const deadline = Date.now() + 10_000;
    while ((sync < 2 || async_ < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await bus.stop();
    const [s, a] = [sync, async_];
    assert.ok(s >= 2 && a >= 2, `ran ${s} and ${a} times`);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(sync, s, 'no run after stop');
  });

  it('requires a listener name and refuses an event the API does not declare', async () => {
    const bus = createBus({ apis: { shop }, transport: new BusOverTransport(new MemoryTransport()), logger });
    await assert.rejects(bus.shop.placed.listen(() => undefined, {} as never), /SY_ERR_LISTENER.*listenerName is required/);
    await assert.rejects(bus.listen([{ api: 'shop.orders', event: 'nope' }], () => undefined, { listenerName: 'x' }), /declares no event "nope".*placed/);
    await bus.shop.placed.listen(() => undefined, { listenerName: 'dup' });
    await assert.rejects(bus.shop.placed.listen(() => undefined, { listenerName: 'dup' }), /already has a listener of that name/);
  });

  it('refuses calls before start, naming the fix', async () => {
    const bus = createBus({ apis: { shop }, transport: new BusOverTransport(new MemoryTransport()), logger });
    await assert.rejects(bus.shop.place({ sku: 'a' }), /SY_ERR_BUS_STATE.*await bus.start\(\)/);
  });
});

describe('testing utilities', () => {
  it('records calls and events, with stubs and partial-match assertions', async () => {
    const bus = createTestBus({ apis: { shop } });
    bus.stub(shop, { place: ({ sku }) => ({ order: `o-${sku}` }) });
    await bus.start();
    assert.deepEqual(await bus.shop.place({ sku: 'x' }), { order: 'o-x' });
    await bus.shop.placed.fire({ order: 'o-x', sku: 'x' });
    bus.assertCalled(bus.shop.place, { sku: 'x' });
    bus.assertCalled(bus.shop.place, { qty: 1 }); // defaults applied before recording
    bus.assertFired(bus.shop.placed, { order: 'o-x' });
    assert.throws(() => bus.assertCalled(bus.shop.place, { sku: 'y' }), /expected RPC shop.orders.place\(\) to be called with \{"sku":"y"\}; calls seen: \{"sku":"x","qty":1\}/);
    assert.throws(() => bus.assertNotFired(bus.shop.placed), /not to be fired/);
    bus.reset();
    bus.assertNotCalled(bus.shop.place);
    await bus.stop();
  });

  it('an RPC left out of a stub fails saying so', async () => {
    const two = defineApi({ name: 'two.rpcs', rpcs: { a: { params: z.object({}), result: z.number() }, b: { params: z.object({}), result: z.number() } } });
    const bus = createTestBus({ apis: { two } });
    bus.stub(two, { a: () => 1 });
    await bus.start();
    assert.equal(await bus.two.a({}), 1);
    await assert.rejects(bus.two.b({}), /two.rpcs.b\(\) is not stubbed/);
    await bus.stop();
  });
});

describe('bus configuration', () => {
  it('names the key as the file spells it, the file, and the allowed values of a bad setting', () => {
    assert.throws(() => busConfigLayer({ apis: { default: { event_transport: { redis: { stream_use: 'per_day' } } } } }, 'bus.yaml'), (err: Error) => {
      assert.match(err.message, /SY_ERR_SETTINGS: invalid settings: apis.default.event_transport.redis.stream_use \(from bus config bus.yaml\): expected one of "per_api"\|"per_event"/);
      return true;
    });
    assert.throws(() => busConfigLayer({ bus: { log_level: 'loud' } }, 'x'), /bus.log_level \(from bus config x\): expected one of "debug"\|"info"\|"warning"\|"error"\|"critical"/);
    assert.throws(() => busConfigLayer({ servce_name: 'typo' }, 'x'), /servce_name \(from bus config x\): expected no such key/);
  });

  it('prints a JSON Schema and expands name placeholders', () => {
    const schema = lightbusConfigJsonSchema() as { properties: Record<string, unknown> };
    assert.ok(schema.properties.apis && schema.properties.bus && schema.properties.service_name);
    assert.match(expandName('{hostname}-{pid}-{random4}'), new RegExp(`-${process.pid}-[0-9a-f]{4}$`));
    assert.match(expandName('{friendly}'), /^[a-z]+-[a-z]+$/);
  });

  it('makes a working bus from a config, per-API settings in ms', async () => {
    const { bus, close } = await busFromConfig({ service_name: 'svc', apis: { default: { rpc_timeout: 2 }, 'shop.orders': { rpc_timeout: 7, validate: { outgoing: false } } } }, { apis: { shop }, logger });
    assert.equal(bus.serviceName, 'svc');
    assert.equal(bus.settingsOf('shop.orders').rpcTimeoutMs, 7000);
    assert.deepEqual(bus.settingsOf('shop.orders').validate, { outgoing: false, incoming: true });
    assert.equal(bus.settingsOf('other.api').rpcTimeoutMs, 2000);
    bus.serve(shop, { place: () => ({ order: 'o1' }) });
    await bus.start();
    assert.deepEqual(await bus.shop.place({ sku: 'a' }), { order: 'o1' });
    await close();
  });

  it('refuses one API on two different transports', () => {
    assert.throws(() => settingsFromBusConfig({ apis: { 'a.b': { event_transport: { memory: {} }, rpc_transport: { redis: { url: 'redis://127.0.0.1:1' } } } } }), /SY_ERR_SETTINGS.*apis.a.b \(from bus config test\).*make them equal/);
  });
});

describe('uuid1', async () => {
  const { uuid1, ageOfUuid1 } = await import('../../src/transports/bus/uuid1.js');
  it('makes unique time-based ids whose age can be read back', () => {
    const ids = Array.from({ length: 5000 }, () => uuid1());
    assert.equal(new Set(ids).size, ids.length);
    assert.match(ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const age = ageOfUuid1(ids[0]!)!;
    assert.ok(age >= 0 && age < 1000, `age ${age}`);
    // Lightbus's example id (SPECS.md §5.1) was made on 2019-10-29.
    const then = new Date(Date.now() - ageOfUuid1('1bff06d0-fa9b-11e9-b8ca-f218986bf8ce')!);
    assert.equal(then.toISOString().slice(0, 10), '2019-10-29');
    assert.equal(ageOfUuid1('6f1c1a0e-8d2b-4c3a-9e4f-123456789abc'), undefined, 'v4 ids have no time');
  });
});

describe('bus configuration from a URL', () => {
  it('loads YAML over http and names the URL (without credentials) when it fails', async () => {
    const { createServer } = await import('node:http');

    const server = createServer((req, res) => {
      if (req.url === '/bus.yaml') res.end('service_name: from_url\napis:\n  default:\n    rpc_timeout: 3\n');
      else if (req.url === '/bad.yaml') res.end('bus:\n  log_level: loud\n');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const layer = await loadBusConfigLayer(`${base}/bus.yaml`);
      assert.equal(layer.values.api!.serviceName, 'from_url');
      assert.deepEqual(layer.values.api!.apis, { default: { rpcTimeout: 3 } });
      await assert.rejects(loadBusConfigLayer(`${base}/bad.yaml`), /bus.log_level \(from bus config http/);
      await assert.rejects(loadBusConfigLayer(`http://user:hunter2@127.0.0.1:${(server.address() as { port: number }).port}/missing.yaml`), (err: Error) => {
        assert.match(err.message, /answered 404/);
        assert.ok(!err.message.includes('hunter2'), 'no password in the message');
        return true;
      });
    } finally {
      server.close();
    }
  });
});
