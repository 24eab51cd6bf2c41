// Wire compatibility with the real Lightbus 1.3.0a6 (../shared/upstream/lightbus, run as
// `lightbus run` by test/support/lightbus-peer.ts) on one Redis: Lightbus calls our RPCs
// and we call its (results, errors, timeouts), events both ways, schemas both ways (it
// reads ours from the bus, we read its through the dynamic client `bus.api(name)`), and
// what we do with bad input from it. One Lightbus process for the whole file.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createBus, defineApi, schemaOfApi, RemoteError, datetime, type Bus, type TypedBus } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { lightbusCommand, startLightbusPeer, type LightbusPeer } from '../support/lightbus-peer.js';
import { busConfigLayer } from '../../src/models/api/lightbus-config-file.js';
import { settingsFromBusConfig } from '../api/bus-from-config.js';
import { waitUntil } from '../api/bus-conformance.js';
import { trace } from '@opentelemetry/api';
import { traceBus } from '../../src/transports/tracing/mod.js';
import { registerTestSdk } from '../support/tracing-sdk.js';

const logger = createLogger({ level: 'silent' });
// Tracing (docs/tracing.md): an SDK is registered for the tests that trace; with
// SY_TEST_TRACING=1 every bus of this file is traced, so the whole file runs with
// the context on the wire.
const sdk = registerTestSdk();
const traceAll = process.env.SY_TEST_TRACING === '1';

// What this side serves (Lightbus calls it and listens to its event).
const syPeer = defineApi({
  name: 'sy_peer',
  rpcs: {
    add: { params: z.object({ a: z.number().int(), b: z.number().int() }), result: z.number().int() },
    fail: { params: z.object({ why: z.string() }), result: z.string() },
    sleep: { params: z.object({ ms: z.number() }), result: z.string() },
    echo_time: { params: z.object({ when: datetime() }), result: z.object({ iso: z.string(), year: z.number() }) },
  },
  events: { pinged: { params: z.object({ n: z.number().int(), note: z.string() }) } },
});
// The same, but Lightbus does not validate what it sends to it (its config: validate.outgoing false).
const syLax = defineApi({ name: 'sy_lax', rpcs: { add: { params: z.object({ a: z.number().int(), b: z.number().int() }), result: z.number().int() } } });
// Served only after Lightbus's call to it expired.
const syLate = defineApi({ name: 'sy_late', rpcs: { ping: { params: z.object({}), result: z.string() } } });
// Lightbus's API as we declare it, for typed listening (its events only).
const lbPeer = defineApi({
  name: 'lb_peer',
  events: {
    happened: { params: z.object({ name: z.string(), count: z.number().int() }) },
    loose: { params: z.object({ count: z.number() }) },
  },
});

describe('the real Lightbus 1.3 and Switchyard on one Redis', { timeout: 120_000 }, () => {
  // Stopped in this order at the end: Lightbus, our buses, then Redis.
  const redis = {} as { server: RedisServer; raw: Redis };
  let peer: LightbusPeer;
  let ours: TypedBus<{ lbPeer: typeof lbPeer }>;
  let dynamic: Bus;
  const handled: unknown[] = [];
  const executedHere: string[] = [];
  const buses: Bus[] = [];
  const transport = () => (traceAll ? traceBus(new RedisBusTransport({ url: redis.server.url, logger })) : new RedisBusTransport({ url: redis.server.url, logger }));
  const tracedTransport = () => traceBus(new RedisBusTransport({ url: redis.server.url, logger }));
  /** Runs `work` inside a span, as a traced caller does. */
  const inSpan = <T>(work: () => Promise<T>) => trace.getTracer('test').startActiveSpan('test', async (span) => {
    try {
      return await work();
    } finally {
      span.end();
    }
  });

  before(async () => {
    redis.server = await startRedis();
    redis.raw = new Redis(redis.server.url);
    const bus = createBus({ apis: { lbPeer }, transport: transport(), serviceName: 'sy', logger });
    bus.serve(syPeer, {
      add: ({ a, b }) => (executedHere.push('add'), a + b),
      fail: ({ why }) => {
        throw new TypeError(why);
      },
      sleep: async ({ ms }) => (await new Promise((r) => setTimeout(r, ms)), 'slept'),
      echo_time: ({ when }) => ({ iso: when.toISOString(), year: when.getUTCFullYear() }),
    });
    bus.serve(syLax, { add: ({ a, b }) => (executedHere.push('lax.add'), a + b) });
    await bus.lbPeer.happened.listen((p) => void handled.push(p), { listenerName: 'typed' });
    await bus.lbPeer.loose.listen((p) => void handled.push(p), { listenerName: 'loose' });
    await bus.start();
    buses.push(bus);
    ours = bus;
    // Started after ours, so that Lightbus finds our schemas on the bus when it starts.
    peer = await startLightbusPeer({ redisUrl: redis.server.url, rpcTimeoutS: 2, laxApis: ['sy_lax'] });
    dynamic = createBus({ transport: transport(), serviceName: 'dyn', logger, settings: { rpcTimeoutMs: 5_000 } });
    await dynamic.start();
    buses.push(dynamic);
    // Lightbus's listener group exists once its listener started: events from then on reach it.
    const group = `${peer.serviceName}-lb_listener`;
    for (let i = 0; i < 300; i++) {
      const groups = (await redis.raw.xinfo('GROUPS', 'sy_peer.*:stream').catch(() => [])) as unknown[][];
      if (groups.some((g) => g.includes(group))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    await peer?.stop();
    for (const bus of buses) await bus.stop();
    redis.raw?.disconnect();
    await redis.server?.destroy();
    await sdk.shutdown();
  });

  it('Lightbus calls our RPC: the result, and our error as its LightbusWorkerError with type, message and trace', async () => {
    assert.deepEqual(await peer.request({ op: 'call', api: 'sy_peer', name: 'add', kwargs: { a: 2, b: 3 } }), { ok: true, result: 5 });
    const failed = await peer.request({ op: 'call', api: 'sy_peer', name: 'fail', kwargs: { why: "can't" } });
    assert.equal(failed.ok, false);
    assert.equal(failed.type, 'LightbusWorkerError');
    assert.match(failed.message!, /Error while calling sy_peer\.fail: TypeError\("can't"\)/);
    assert.match(failed.message!, /Remote stack trace:\nTypeError: can't\n\s+at /);
    // A datetime Lightbus sends (isoformat, naive) reaches our handler as a Date.
    const echoed = await peer.request({ op: 'call', api: 'sy_peer', name: 'echo_time', kwargs: { when: '2024-02-03T04:05:06+00:00' } });
    assert.deepEqual(echoed, { ok: true, result: { iso: '2024-02-03T04:05:06.000Z', year: 2024 } });
  });

  it('one server of ours serves Lightbus callers (their format) and our callers (ours) at once', async () => {
    const client = createBus({ apis: { syPeer }, transport: transport(), logger });
    await client.start();
    buses.push(client);
    // Alone first, watched (keyspace events of lists): our caller pushes to our queue of the API, never to Lightbus's.
    await redis.raw.config('SET', 'notify-keyspace-events', 'Kl');
    const watcher = new Redis(redis.server.url);
    const touched = new Set<string>();
    watcher.on('pmessage', (_p: string, channel: string, op: string) => op === 'rpush' && touched.add(channel.replace(/^__keyspace@0__:/, '')));
    await watcher.psubscribe('__keyspace@0__:*rpc_queue*');
    assert.equal(await client.syPeer.add({ a: 1, b: 1 }), 2);
    await redis.raw.ping(); // notifications of what came before are delivered by now
    await new Promise((r) => setTimeout(r, 50));
    watcher.disconnect();
    assert.deepEqual([...touched], ['switchyard:rpc_queue:sy_peer']);
    const replies = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => peer.request({ op: 'call', api: 'sy_peer', name: 'add', kwargs: { a: i, b: 1 } }).then((r) => r.result)),
      ...Array.from({ length: 20 }, (_, i) => client.syPeer.add({ a: i, b: 2 })),
    ]);
    assert.deepEqual(replies, [...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 20 }, (_, i) => i + 2)]);
  });

  it('Lightbus reads our schema from the bus, and validates its calls against it before sending', async () => {
    const schema = await peer.request({ op: 'schema', api: 'sy_peer' });
    assert.equal(schema.ok, true);
    assert.deepEqual(schema.result, JSON.parse(JSON.stringify(schemaOfApi(syPeer))));
    const before = executedHere.length;
    const refused = await peer.request({ op: 'call', api: 'sy_peer', name: 'add', kwargs: { a: 'two', b: 3 } });
    assert.equal(refused.ok, false);
    assert.equal(refused.type, 'ValidationError', refused.message);
    assert.equal(executedHere.length, before, 'the call never reached us');
  });

  it('a call from Lightbus that our schema refuses, or to a procedure we do not serve, gets an error result naming why', async () => {
    const bad = await peer.request({ op: 'call', api: 'sy_lax', name: 'add', kwargs: { a: 'two', b: 3 } });
    assert.equal(bad.ok, false);
    assert.equal(bad.type, 'LightbusWorkerError');
    assert.match(bad.message!, /SY_ERR_VALIDATION: RPC sy_lax\.add\(\) parameters is not valid: field "a": expected number, got string/);
    const unknown = await peer.request({ op: 'call', api: 'sy_lax', name: 'nope', kwargs: {} });
    assert.equal(unknown.ok, false);
    assert.match(unknown.message!, /SY_ERR_API_UNKNOWN: this process does not serve sy_lax\.nope\(\)/);
    assert.ok(!executedHere.includes('lax.add'), 'the handler never ran');
  });

  it('Lightbus times out on our slow RPC; its call queued while no server of ours ran is dropped once its expiry key lapsed', async () => {
    const [slow, late] = await Promise.all([
      peer.request({ op: 'call', api: 'sy_peer', name: 'sleep', kwargs: { ms: 3_000 } }),
      peer.request({ op: 'call', api: 'sy_late', name: 'ping', kwargs: {} }),
    ]);
    for (const reply of [slow, late]) {
      assert.equal(reply.ok, false);
      assert.equal(reply.type, 'LightbusTimeout');
      assert.match(reply.message!, /rpc_timeout/);
    }
    assert.equal(await redis.raw.llen('sy_late:rpc_queue'), 1, 'the call waits in the queue');
    let ran = 0;
    const late2 = createBus({ transport: transport(), serviceName: 'late', logger });
    late2.serve(syLate, { ping: () => (ran++, 'pong') });
    await late2.start();
    buses.push(late2);
    for (let i = 0; i < 100 && (await redis.raw.llen('sy_late:rpc_queue')) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await redis.raw.llen('sy_late:rpc_queue'), 0);
    assert.equal(ran, 0, 'a call whose caller gave up is not run (at most once)');
  });

  it('we call Lightbus\'s RPC in its format: the result, its error as RemoteError, our timeout', async () => {
    const lb = dynamic.api('lb_peer');
    assert.equal(await lb.call('add', { a: 2, b: 40 }), 42);
    await assert.rejects(lb.call('fail', { why: 'bad input' }), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.remoteType, 'ValueError');
      assert.equal(e.remoteMessage, 'bad input');
      assert.match(e.trace, /^Traceback \(most recent call last\):[\s\S]*ValueError: bad input/);
      return true;
    });
    const impatient = createBus({ transport: transport(), logger, settings: { rpcTimeoutMs: 400 } });
    await impatient.start();
    buses.push(impatient);
    await assert.rejects(impatient.api('lb_peer').call('slow', { seconds: 1.5 }), (e: Error & { code?: string }) => e.code === 'SY_ERR_REQUEST_TIMEOUT' && /within 400 ms; .* raise rpc_timeout/.test(e.message));
    const executed = await peer.request({ op: 'executed' });
    assert.deepEqual(executed.result, { add: 1, fail: 1, slow: 1 }, 'each call ran once on the Lightbus side');
  });

  it('we read Lightbus\'s schema through bus.api(name): our calls are checked against it before they are sent', async () => {
    assert.deepEqual(Object.keys(dynamic.schemas().lb_peer?.rpcs ?? {}).sort(), ['add', 'describe', 'fail', 'now', 'slow']);
    await assert.rejects(dynamic.api('lb_peer').call('add', { a: 'x', b: 1 }), /SY_ERR_VALIDATION: RPC lb_peer\.add\(\) parameters is not valid: field "a": expected (integer|number), got string/);
    await assert.rejects(dynamic.api('lb_peer').call('add', { a: 1 }), /field "b": expected/);
    const executed = await peer.request({ op: 'executed' });
    assert.equal((executed.result as Record<string, number>).add, 1, 'nothing reached Lightbus');
  });

  it('the dynamic client takes what Lightbus sends: naive datetimes and "03:04:05" times (formats not asserted, as in Lightbus)', async () => {
    const lb = dynamic.api('lb_peer');
    // A result: datetime.now().isoformat(), no offset, where the schema says date-time.
    assert.match(String(await lb.call('now')), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
    // Parameters: sent as Lightbus would; Lightbus casts the datetime back (and leaves a time as text).
    assert.equal(await lb.call('describe', { when: '2024-01-02T03:04:05', clock: '03:04:05' }), 'datetime 2024-01-02T03:04:05 / str 03:04:05');
    // An event: reaches a listener that knows the API only by its schema on the bus.
    const stamped: unknown[] = [];
    await lb.event('stamped').listen((p) => void stamped.push(p), { listenerName: 'stamped' });
    assert.equal((await peer.request({ op: 'fire', api: 'lb_peer', name: 'stamped', kwargs: { when: '2024-01-02T03:04:05.123456', clock: '03:04:05' } })).ok, true);
    await waitUntil('the stamped event', () => stamped.length >= 1);
    assert.deepEqual(stamped, [{ when: '2024-01-02T03:04:05.123456', clock: '03:04:05' }]);
    // Where we still refuse (not text at all), the message names the field and the type.
    await assert.rejects(lb.call('describe', { when: 20240102, clock: '03:04:05' }), /RPC lb_peer\.describe\(\) parameters is not valid: field "when": expected string, got integer/);
  });

  it('an event Lightbus fires reaches our listener, typed by our declaration', async () => {
    const fired = await peer.request({ op: 'fire', api: 'lb_peer', name: 'happened', kwargs: { name: 'first', count: 3 } });
    assert.equal(fired.ok, true, fired.message);
    await waitUntil('our listener got the event', () => handled.length >= 1);
    assert.deepEqual(handled, [{ name: 'first', count: 3 }]);
  });

  it('an event we fire reaches Lightbus\'s listener with its values typed', async () => {
    await ours.fire('sy_peer', 'pinged', { n: 7, note: 'hi' });
    await waitUntil('Lightbus got the event', () => peer.events.length >= 1);
    assert.deepEqual(peer.events, [{ kind: 'event', api: 'sy_peer', event: 'pinged', kwargs: { n: 7, note: 'hi' }, types: { n: 'int', note: 'str' } }]);
  });

  it('tracing on: our call to Lightbus\'s RPC carries the context (blob "trace_context") and Lightbus answers it', async () => {
    const traced = createBus({ transport: tracedTransport(), serviceName: 'traced', logger });
    await traced.start();
    buses.push(traced);
    sdk.exporter.reset();
    // What goes to Redis, read with MONITOR: the call blob Lightbus pops.
    const monitor = await redis.raw.monitor();
    const blobs: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => blobs.push(...args.filter((a) => a.includes('"procedure_name":"add"'))));
    try {
      assert.equal(await inSpan(() => traced.api('lb_peer').call('add', { a: 20, b: 22 })), 42);
    } finally {
      monitor.disconnect();
    }
    assert.ok(blobs.length > 0, 'the call blob was seen');
    assert.match(blobs[0]!, /,"trace_context":\{"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"\}\}$/, 'the context rides beside kwargs and metadata');
    assert.ok(sdk.spans().some((s) => s.name === 'lb_peer.add' && s.kind === 2 /* CLIENT */), 'the call was traced');
  });

  it('tracing on: an event we fire with the context (the entry\'s empty-name field) reaches Lightbus\'s listener unchanged', async () => {
    const traced = createBus({ transport: tracedTransport(), serviceName: 'traced-firer', logger });
    await traced.start();
    buses.push(traced);
    const before = peer.events.length;
    await inSpan(() => traced.fire('sy_peer', 'pinged', { n: 8, note: 'traced' }));
    const [entry] = (await redis.raw.xrevrange('sy_peer.*:stream', '+', '-', 'COUNT', 1)) as [string, string[]][];
    const fields = entry![1];
    assert.match(fields[fields.indexOf('') + 1] ?? '', /^\{"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"\}$/, `the entry carries the context: ${JSON.stringify(fields)}`);
    await waitUntil('Lightbus got the traced event', () => peer.events.length > before);
    assert.deepEqual(peer.events[before], { kind: 'event', api: 'sy_peer', event: 'pinged', kwargs: { n: 8, note: 'traced' }, types: { n: 'int', note: 'str' } });
  });

  it('an event from Lightbus that fails our declaration is set aside with the reason, and the next one is handled', async () => {
    const count = handled.length;
    assert.equal((await peer.request({ op: 'fire', api: 'lb_peer', name: 'loose', kwargs: { count: 'many' } })).ok, true);
    assert.equal((await peer.request({ op: 'fire', api: 'lb_peer', name: 'loose', kwargs: { count: 2.5 } })).ok, true);
    await waitUntil('the good event handled', () => handled.length > count);
    assert.deepEqual(handled.slice(count), [{ count: 2.5 }]);
    let dead: [string, string[]][] = [];
    for (let i = 0; i < 100 && dead.length === 0; i++) {
      dead = await redis.raw.xrange('lb_peer.*:stream:dead_letter', '-', '+');
      if (dead.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(dead.length, 1);
    const fields = dead[0]![1];
    assert.match(fields[fields.indexOf('x-switchyard-dead-letter-reason') + 1]!, /Event lb_peer\.loose parameters are not valid: field "count": expected number, got string/);
  });

  it('every setting in Lightbus\'s own config schema (lightbus dumpconfigschema) loads, at its default and at other values', async () => {
    const schema = JSON.parse(await lightbusCommand(['dumpconfigschema'])) as JsonSchemaNode;
    const defaults = configFrom(schema, false);
    const others = configFrom(schema, true);
    const paths = leafPaths(defaults);
    assert.ok(paths.length >= 50, `${paths.length} settings`);
    for (const config of [defaults, others]) {
      const parsed = busConfigLayer(config, 'lightbus dumpconfigschema');
      settingsFromBusConfig(config, 'lightbus dumpconfigschema'); // and its values fit the api section
      for (const path of parsed.unused) assert.ok(paths.includes(path) || paths.some((p) => p.startsWith(`${path}.`)), path);
    }
  });
});

interface JsonSchemaNode {
  type?: string;
  default?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  anyOf?: JsonSchemaNode[];
  enum?: unknown[];
}

/**
 * A config holding every setting of Lightbus's config schema: its default, or (`varied`)
 * another value of its type where the default is null or there is one. Transport
 * selectors get their `redis` entry (Lightbus's selectors hold one transport); `apis`
 * gets a `default` and a named API.
 */
function configFrom(node: JsonSchemaNode, varied: boolean): unknown {
  const options = node.anyOf?.filter((o) => o.type !== 'null') ?? [];
  const object = node.properties ? node : options.find((o) => o.properties);
  if (object?.properties) {
    const keys = Object.keys(object.properties);
    const selector = keys.includes('redis') && keys.includes('debug');
    return Object.fromEntries(keys.filter((k) => !selector || k === 'redis').map((k) => [k, configFrom(object.properties![k]!, varied)]));
  }
  if (typeof node.additionalProperties === 'object') {
    const api = configFrom(node.additionalProperties, varied);
    return { default: api, 'my_company.auth': api };
  }
  const type = node.type ?? options[0]?.type;
  if (!varied && node.default !== undefined) return node.default;
  if (node.enum) return node.enum.at(-1);
  switch (type) {
    case 'integer':
      return typeof node.default === 'number' ? node.default + 1 : 7;
    case 'number':
      return typeof node.default === 'number' ? node.default + 0.5 : 7.5;
    case 'boolean':
      return typeof node.default === 'boolean' ? !node.default : true;
    case 'string':
      return typeof node.default === 'string' ? node.default : 'given';
    case 'object':
      return { maxsize: 10 };
    default:
      return node.default ?? null;
  }
}

function leafPaths(value: unknown, path: string[] = []): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [path.join('.')];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leafPaths(v, [...path, k]));
}

