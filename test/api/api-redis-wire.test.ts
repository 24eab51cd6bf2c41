// Lightbus wire compatibility on Redis, checked with raw ioredis standing in for a Python
// Lightbus service (SPECS.md §5): the exact keys, fields and blobs both ways; plus the
// faults: malformed stream entries set aside, a Redis restart mid-stream, RPC timeout.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createBus, defineApi } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { uuid1 } from '../../src/transports/bus/uuid1.js';
import { startRedis, suiteRedis } from '../support/redis-server.js';
import { waitUntil } from './bus-conformance.js';

const logger = createLogger({ level: 'silent' });
const auth = defineApi({
  name: 'my_company.auth',
  rpcs: { check_password: { params: z.object({ username: z.string(), password: z.string() }), result: z.boolean() } },
  events: { user_registered: { params: z.object({ username: z.string(), email: z.string(), is_admin: z.boolean() }) } },
});

describe('Lightbus wire format on Redis', { timeout: 60_000 }, () => {
  const redis = suiteRedis();

  it('fires an event as a by-field stream entry on "{api}.*:stream"', async () => {
    const bus = createBus({ apis: { auth }, transport: new RedisBusTransport({ url: redis.server.url, logger }), logger });
    await bus.start();
    await bus.auth.user_registered.fire({ username: 'adam', email: 'a@x.io', is_admin: false });
    await bus.stop();
    const entries = await redis.raw.xrange('my_company.auth.*:stream', '-', '+');
    const fields = entries.at(-1)![1];
    const map = Object.fromEntries(fields.reduce<[string, string][]>((acc, v, i) => (i % 2 ? acc : [...acc, [v, fields[i + 1]!]]), []));
    assert.equal(map.api_name, 'my_company.auth');
    assert.equal(map.event_name, 'user_registered');
    assert.equal(map.version, '1');
    assert.match(map.id!, /^[0-9a-f-]{36}$/);
    assert.equal(map[':username'], '"adam"');
    assert.equal(map[':email'], '"a@x.io"');
    assert.equal(map[':is_admin'], 'false');
  });

  it('serves a call sent as Lightbus sends it, with the result at the return path', async () => {
    const bus = createBus({ transport: new RedisBusTransport({ url: redis.server.url, logger }), serviceName: 'auth', logger });
    bus.serve(auth, { check_password: ({ username, password }) => username === 'adam' && password === 'secret' });
    await bus.start();
    const id = '1bff06d0-fa9b-11e9-b8ca-f218986bf8ce';
    const blob = `{"kwargs":{"password":"secret","username":"adam"},"metadata":{"api_name":"my_company.auth","id":"${id}","procedure_name":"check_password","return_path":"redis+key://my_company.auth.check_password:result:${id}"}}`;
    await redis.raw.multi().rpush('my_company.auth:rpc_queue', blob).set(`rpc_expiry_key:${id}`, '1').expire(`rpc_expiry_key:${id}`, 5).exec();
    const popped = await redis.raw.blpop(`my_company.auth.check_password:result:${id}`, 5);
    assert.ok(popped, 'a result arrived at the return path');
    const result = JSON.parse(popped[1]);
    assert.deepEqual(result.kwargs, { result: true });
    assert.equal(result.metadata.error, false);
    assert.equal(result.metadata.rpc_message_id, id);
    assert.ok(popped[1].indexOf('"kwargs"') < popped[1].indexOf('"metadata"'), 'keys sorted as Lightbus does');
    assert.ok((await redis.raw.ttl(`my_company.auth.check_password:result:${id}`)) <= 60);
    // A call whose caller gave up (expiry key gone) is dropped, not run.
    const late = '2bff06d0-fa9b-11e9-b8ca-f218986bf8ce';
    await redis.raw.rpush('my_company.auth:rpc_queue', blob.replaceAll(id, late));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await redis.raw.exists(`my_company.auth.check_password:result:${late}`), 0);
    await bus.stop();
  });

  it('calls with a Lightbus blob and an expiry key, and reads a Lightbus result', async () => {
    const bus = createBus({ apis: { auth }, transport: new RedisBusTransport({ url: redis.server.url, logger }), logger, settings: { rpcTimeoutMs: 5000 } });
    await bus.start();
    const pending = bus.auth.check_password({ username: 'adam', password: 'pw' });
    const [, blob] = (await redis.raw.blpop('my_company.auth:rpc_queue', 5))!;
    const call = JSON.parse(blob);
    assert.deepEqual(call.kwargs, { password: 'pw', username: 'adam' });
    assert.equal(call.metadata.api_name, 'my_company.auth');
    assert.equal(call.metadata.procedure_name, 'check_password');
    assert.match(call.metadata.return_path, /^redis\+key:\/\//);
    assert.equal(await redis.raw.del(`rpc_expiry_key:${call.metadata.id}`), 1, 'the expiry key was set');
    const key = call.metadata.return_path.slice('redis+key://'.length);
    await redis.raw.lpush(key, JSON.stringify({ kwargs: { result: true }, metadata: { error: false, id: 'r1', rpc_message_id: call.metadata.id } }));
    assert.equal(await pending, true);
    await bus.stop();
  });

  it('publishes results for our callers on their reply channel, and pushes them to the list when no one listens', async () => {
    const bus = createBus({ transport: new RedisBusTransport({ url: redis.server.url, logger }), serviceName: 'auth', logger });
    bus.serve(auth, { check_password: ({ username }) => username === 'adam' });
    await bus.start();
    const send = async (id: string, replyKey: string) => {
      const blob = `{"kwargs":{"password":"x","username":"adam"},"metadata":{"api_name":"my_company.auth","id":"${id}","procedure_name":"check_password","return_path":"redis+key://${replyKey}"}}`;
      await redis.raw.multi().set(`rpc_expiry_key:${id}`, '1', 'EX', 5).rpush('my_company.auth:rpc_queue', blob).exec();
    };
    // A caller of ours listening on its channel: the result comes there, the list stays empty.
    const listening = 'switchyard:reply:listening';
    const subscriber = new Redis(redis.server.url);
    const published = new Promise<string>((resolve) => subscriber.on('message', (_c: string, m: string) => resolve(m)));
    await subscriber.subscribe(listening);
    const fresh = uuid1(); // run without the DEL round trip; its expiry key goes with the result
    await send(fresh, listening);
    const message = JSON.parse(await published);
    assert.deepEqual(message.kwargs, { result: true });
    assert.equal(message.metadata.rpc_message_id, fresh);
    assert.equal(await redis.raw.exists(listening), 0, 'nothing left on the list');
    assert.equal(await redis.raw.exists(`rpc_expiry_key:${fresh}`), 0, 'the expiry key was deleted with the result');
    subscriber.disconnect();
    // No one on the channel (a caller reconnecting): the result waits on the list, with its TTL.
    const away = 'switchyard:reply:away';
    await send('4bff06d0-fa9b-11e9-b8ca-f218986bf8ce', away);
    const popped = await redis.raw.blpop(away, 5);
    assert.ok(popped, 'the result was pushed to the list');
    assert.equal(JSON.parse(popped[1]).metadata.rpc_message_id, '4bff06d0-fa9b-11e9-b8ca-f218986bf8ce');
    await send('5bff06d0-fa9b-11e9-b8ca-f218986bf8ce', away);
    for (let i = 0; i < 100 && (await redis.raw.llen(away)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await redis.raw.llen(away), 1, 'the second result on the list');
    const ttl = await redis.raw.ttl(away);
    assert.ok(ttl > 0 && ttl <= 60, `the list expires (ttl ${ttl})`);
    await bus.stop();
  });

  it('a server stopped while a call runs still answers it', async () => {
    const slowApi = defineApi({ name: 'my_company.slow', rpcs: { wait: { params: z.object({ ms: z.number() }), result: z.string() } } });
    const serving = createBus({ transport: new RedisBusTransport({ url: redis.server.url, logger }), serviceName: 'slow', logger });
    serving.serve(slowApi, { wait: async ({ ms }) => (await new Promise((r) => setTimeout(r, ms)), 'done') });
    await serving.start();
    const client = createBus({ apis: { slowApi }, transport: new RedisBusTransport({ url: redis.server.url, logger }), logger, settings: { rpcTimeoutMs: 5000 } });
    await client.start();
    const pending = client.slowApi.wait({ ms: 300 });
    await new Promise((r) => setTimeout(r, 100)); // the call is running
    const stopped = serving.stop();
    assert.equal(await pending, 'done');
    await stopped;
    await client.stop();
  });

  it('answers by the list when Redis refuses our reply channel (an ACL user without channels)', async () => {
    await redis.raw.call('ACL', 'SETUSER', 'nochannels', 'on', '>pw', '~*', '+@all', 'resetchannels');
    const url = redis.server.url.replace('redis://', 'redis://nochannels:pw@');
    const serving = createBus({ transport: new RedisBusTransport({ url, logger }), serviceName: 'auth', logger });
    serving.serve(auth, { check_password: ({ username }) => username === 'adam' });
    await serving.start();
    const client = createBus({ apis: { auth }, transport: new RedisBusTransport({ url, logger }), logger, settings: { rpcTimeoutMs: 5000 } });
    await client.start();
    assert.equal(await client.auth.check_password({ username: 'adam', password: 'x' }), true);
    assert.equal(await client.auth.check_password({ username: 'eve', password: 'x' }), false);
    await client.stop();
    await serving.stop();
  });

  it('times a first call out on time while the reply subscription waits, and sends nothing after close', async () => {
    const call = () => ({ id: uuid1(), api: 'my_company.nobody', procedure: 'p', kwargs: {} });
    // Redis paused: the first call's subscription cannot complete; its deadline still holds.
    const paused = new RedisBusTransport({ url: redis.server.url, logger });
    await paused.start();
    await redis.raw.call('CLIENT', 'PAUSE', '1200', 'ALL');
    const started = Date.now();
    await assert.rejects(paused.call(call(), { timeoutMs: 300 }), (e: { code?: string }) => e.code === 'SY_ERR_REQUEST_TIMEOUT');
    assert.ok(Date.now() - started < 1000, `timed out after ${Date.now() - started} ms`);
    await redis.raw.ping(); // answered once the pause ends
    await paused.close();
    // Closed before its subscription completed: the call fails at once and is never queued.
    const closing = new RedisBusTransport({ url: redis.server.url, logger });
    await closing.start();
    const failed = assert.rejects(closing.call(call(), { timeoutMs: 5000 }), (e: { code?: string }) => e.code === 'SY_ERR_TRANSPORT_CLOSED');
    await closing.close();
    await failed;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await redis.raw.llen('my_company.nobody:rpc_queue'), 0);
    // Nothing opened after close either (a connection opened then would keep the process up).
    const clients = String(await redis.raw.call('CLIENT', 'LIST'));
    assert.doesNotMatch(clients, /name=switchyard-rpc-calls/, 'no call connection left open');
  });

  it('stores the schema as Lightbus does: schema:{api} with a TTL and the "schemas" set', async () => {
    const bus = createBus({ transport: new RedisBusTransport({ url: redis.server.url, logger }), logger, schemaTtlS: 30 });
    bus.serve(auth, { check_password: () => true });
    await bus.start();
    assert.ok((await redis.raw.smembers('schemas')).includes('my_company.auth'));
    const ttl = await redis.raw.ttl('schema:my_company.auth');
    assert.ok(ttl > 0 && ttl <= 30, `ttl ${ttl}`);
    const schema = JSON.parse((await redis.raw.get('schema:my_company.auth'))!);
    assert.equal(schema.events.user_registered.parameters.title, 'Event my_company.auth.user_registered parameters');
    assert.equal(schema.rpcs.check_password.response.type, 'boolean');
    await bus.stop();
  });

  it('sets malformed entries aside with the reason and keeps the stream flowing', async () => {
    const bus = createBus({ apis: { auth }, transport: new RedisBusTransport({ url: redis.server.url, logger }), serviceName: 'mal', logger });
    const got: string[] = [];
    await bus.auth.user_registered.listen((p) => void got.push(p.username), { listenerName: 'l' });
    await bus.start();
    const stream = 'my_company.auth.*:stream';
    await redis.raw.xadd(stream, '*', 'id', 'x1', 'api_name', 'my_company.auth', 'event_name', 'user_registered', ':username', 'not json');
    await redis.raw.xadd(stream, '*', 'id', 'x2', 'api_name', 'my_company.auth', 'event_name', 'user_registered', ':username', '42', ':email', '"e"', ':is_admin', 'true');
    await redis.raw.xadd(stream, '*', 'id', 'x3', 'api_name', 'my_company.auth', 'event_name', 'user_registered', ':username', '"ok"', ':email', '"e"', ':is_admin', 'true');
    await waitUntil('the good event', () => got.length >= 1);
    let dead: [string, string[]][] = [];
    for (let i = 0; i < 200 && dead.length < 2; i++) {
      dead = await redis.raw.xrange(`${stream}:dead_letter`, '-', '+');
      await new Promise((r) => setTimeout(r, 20));
    }
    const reasons = dead.map(([, f]) => f[f.indexOf('x-switchyard-dead-letter-reason') + 1]);
    assert.equal(dead.length, 2, JSON.stringify(reasons));
    assert.match(reasons[0]!, /field ":username" is not JSON/);
    assert.match(reasons[1]!, /field "username": expected string, got integer/);
    assert.deepEqual(got, ['ok']);
    await bus.stop();
  });

  it('keeps listening and serving across a Redis restart', async () => {
    const durable = await startRedis({ appendOnly: true });
    try {
      const transport = () => new RedisBusTransport({ url: durable.url, logger });
      const listener = createBus({ apis: { auth }, transport: transport(), serviceName: 'restart', logger });
      listener.serve(auth, { check_password: () => true });
      const got = new Set<string>();
      let handled = 0;
      await listener.auth.user_registered.listen((p) => {
        handled++;
        got.add(p.username);
      }, { listenerName: 'l', reclaimIdleMs: 500 });
      await listener.start();
      const firer = createBus({ apis: { auth }, transport: transport(), logger, settings: { eventFireTimeoutMs: 20_000, rpcTimeoutMs: 20_000 } });
      await firer.start();
      const N = 200;
      for (let i = 0; i < N; i++) {
        if (i === N / 2) {
          await durable.stop();
          setTimeout(() => void durable.start(), 300);
        }
        await firer.auth.user_registered.fire({ username: `u${i}`, email: 'e', is_admin: false });
      }
      await waitUntil(`all ${N} events after the restart`, () => got.size >= N, 30_000);
      assert.equal(got.size, N, 'no event lost');
      assert.ok(handled >= N, `duplicates counted: ${handled - N}`);
      assert.equal(await firer.auth.check_password({ username: 'a', password: 'b' }), true, 'RPC works after the restart');
      await firer.stop();
      await listener.stop();
    } finally {
      await durable.destroy();
    }
  });
});
