// What a peer on the bus controls, handled with care (issue 17 #11, #12 and its design
// choices; issue 15's timeout hint): an event entry whose only parameter is ":__proto__"
// is refused, a call whose kwargs is a list gets an error result, stack traces in error
// results can be left out (and are, in production mode), a flood of bad input writes a
// few log lines and a count, and a timed-out call names the setting to raise.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { createBus, defineApi, RemoteError } from '../../src/models/api/mod.js';
import { remoteTracesByDefault } from '../../src/models/api/settings.js';
import { createLogger } from '../../src/observability/logger.js';
import { BusOverTransport } from '../../src/transports/bus/bus-over-transport.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { suiteRedis } from '../support/redis-server.js';
import { waitUntil } from './bus-conformance.js';

const silent = createLogger({ level: 'silent' });

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', destination }), lines };
}

const notes = defineApi({
  name: 'hard.notes',
  rpcs: {
    add: { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
    boom: { params: z.object({}), result: z.null() },
  },
  events: { noted: { params: z.object({ note: z.string().optional() }) } },
});

async function popResult(raw: import('ioredis').Redis, key: string): Promise<{ kwargs: { result: string }; metadata: Record<string, unknown> }> {
  const popped = await raw.blpop(key, 5);
  assert.ok(popped, `a result at ${key}`);
  return JSON.parse(popped[1]);
}

describe('bus input a peer controls (Redis)', { timeout: 60_000 }, () => {
  const redis = suiteRedis();

  it('an event entry whose only parameter field is ":__proto__" is set aside, not handled (issue 17 #11)', async () => {
    const bus = createBus({ apis: { notes }, transport: new RedisBusTransport({ url: redis.server.url, logger: silent }), serviceName: 'proto', logger: silent });
    const got: unknown[] = [];
    await bus.notes.noted.listen((p) => void got.push(p), { listenerName: 'l' });
    await bus.start();
    try {
      const stream = 'hard.notes.*:stream';
      await redis.raw.xadd(stream, '*', 'id', 'p1', 'api_name', 'hard.notes', 'event_name', 'noted', 'version', '1', ':__proto__', '{"note":"x"}');
      await redis.raw.xadd(stream, '*', 'id', 'p2', 'api_name', 'hard.notes', 'event_name', 'noted', 'version', '1', ':note', '"fine"');
      await waitUntil('the good event', () => got.length >= 1);
      let dead: [string, string[]][] = [];
      for (let i = 0; i < 100 && dead.length === 0; i++) {
        dead = await redis.raw.xrange(`${stream}:dead_letter`, '-', '+');
        if (dead.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(dead.length, 1);
      const fields = dead[0]![1];
      assert.match(fields[fields.indexOf('x-switchyard-dead-letter-reason') + 1]!, /field ":__proto__" is not a parameter name/);
      assert.deepEqual(got, [{ note: 'fine' }], 'only the good one was handled');
    } finally {
      await bus.stop();
    }
  });

  it('a call whose kwargs is a JSON list gets an error result naming why, in Lightbus\'s format and ours (issue 17 #12)', async () => {
    let ran = 0;
    const bus = createBus({ transport: new RedisBusTransport({ url: redis.server.url, logger: silent }), serviceName: 'lists', logger: silent });
    bus.serve(notes, { add: ({ a, b }) => (ran++, a + b), boom: () => null });
    await bus.start();
    try {
      const id = '1bff06d0-fa9b-11e9-b8ca-f218986bf8ce';
      const key = `hard.notes.add:result:${id}`;
      const blob = `{"kwargs":[1,2],"metadata":{"api_name":"hard.notes","id":"${id}","procedure_name":"add","return_path":"redis+key://${key}"}}`;
      await redis.raw.multi().set(`rpc_expiry_key:${id}`, '1', 'EX', 5).rpush('hard.notes:rpc_queue', blob).exec();
      const result = await popResult(redis.raw, key);
      assert.equal(result.metadata.error, true);
      assert.equal(result.metadata.rpc_message_id, id);
      assert.match(result.kwargs.result, /SY_ERR_BUS_CALL: the call 1bff06d0-fa9b-11e9-b8ca-f218986bf8ce of RPC hard\.notes\.add\(\) could not be read: "kwargs" is a list; send the parameters as a JSON object of named values; it was not run/);
      // Our own format: a line whose kwargs is a list, answered on the caller's reply key.
      const reply = 'switchyard:reply:list-test';
      await redis.raw.rpush('switchyard:rpc_queue:hard.notes', `sy1 ${reply}\n["n1","add",${Date.now() + 60_000},[1,2]]`);
      const popped = await redis.raw.blpop(reply, 5);
      assert.ok(popped, 'an error result line');
      const [rpcId, error, description] = JSON.parse(popped[1]) as [string, boolean, string];
      assert.equal(rpcId, 'n1');
      assert.equal(error, true);
      assert.match(description, /SY_ERR_BUS_CALL: the call n1 of API hard\.notes could not be read: kwargs is a list; send the parameters as a JSON object of named values; it was not run/);
      assert.equal(ran, 0);
    } finally {
      await bus.stop();
    }
  });

  it('error results carry the stack trace unless remoteTraces is off, which production mode (NODE_ENV=production) makes the default', async () => {
    assert.equal(remoteTracesByDefault({}), true);
    assert.equal(remoteTracesByDefault({ NODE_ENV: 'production' }), false);
    assert.equal(remoteTracesByDefault({ NODE_ENV: 'production', SWITCHYARD_REMOTE_TRACES: 'true' }), true);
    assert.equal(remoteTracesByDefault({ SWITCHYARD_REMOTE_TRACES: 'false' }), false);
    assert.throws(() => remoteTracesByDefault({ SWITCHYARD_REMOTE_TRACES: 'maybe' }), /SY_ERR_SETTINGS: .*api.remoteTraces \(from environment variable SWITCHYARD_REMOTE_TRACES\): must be true or false/);
    const traceOf = async (remoteTraces: boolean | undefined) => {
      const server = createBus({ transport: new RedisBusTransport({ url: redis.server.url, logger: silent }), serviceName: 'traces', logger: silent, ...(remoteTraces === undefined ? {} : { remoteTraces }) });
      server.serve(notes, {
        add: ({ a, b }) => a + b,
        boom: () => {
          throw new RangeError('out of range');
        },
      });
      await server.start();
      const client = createBus({ apis: { notes }, transport: new RedisBusTransport({ url: redis.server.url, logger: silent }), logger: silent });
      await client.start();
      try {
        const error = await client.notes.boom({}).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof RemoteError);
        assert.equal(error.remoteType, 'RangeError');
        assert.equal(error.remoteMessage, 'out of range');
        return error.trace;
      } finally {
        await client.stop();
        await server.stop();
      }
    };
    assert.match(await traceOf(undefined), /^RangeError: out of range\n\s+at /, 'on by default outside production');
    assert.equal(await traceOf(false), '', 'no file paths leave the service');
  });

  it('a flood of bad input writes a few warning lines and then a count of the rest', async () => {
    const { logger, lines } = capturingLogger();
    const bus = createBus({ apis: { notes }, transport: new RedisBusTransport({ url: redis.server.url, logger }), serviceName: 'flood', logger });
    bus.serve(notes, { add: ({ a, b }) => a + b, boom: () => null });
    const got: unknown[] = [];
    await bus.notes.noted.listen((p) => void got.push(p), { listenerName: 'l' });
    await bus.start();
    const N = 200;
    try {
      const pipe = redis.raw.pipeline();
      for (let i = 0; i < N; i++) {
        pipe.rpush('hard.notes:rpc_queue', `not json ${i}`);
        pipe.xadd('hard.notes.*:stream', '*', 'id', `m${i}`, 'api_name', 'hard.notes', 'event_name', 'noted', ':note', '42');
      }
      await pipe.exec();
      await redis.raw.xadd('hard.notes.*:stream', '*', 'id', 'last', 'api_name', 'hard.notes', 'event_name', 'noted', ':note', '"last"');
      await waitUntil('the good event after the flood', () => got.length >= 1, 20_000);
      for (let i = 0; i < 200 && (await redis.raw.llen('hard.notes:rpc_queue')) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await bus.stop();
    }
    const unreadable = lines.filter((l) => l.msg === 'an RPC call could not be read; dropped (no return path to answer on)');
    const invalid = lines.filter((l) => l.msg === 'an event that fails its schema was set aside');
    assert.ok(unreadable.length >= 1 && unreadable.length <= 5, `unreadable calls: ${unreadable.length} lines`);
    assert.ok(invalid.length >= 1 && invalid.length <= 5, `invalid events: ${invalid.length} lines`);
    const suppressed = lines.filter((l) => typeof l.suppressed === 'number').reduce((sum, l) => sum + (l.suppressed as number), 0);
    console.log(`# ${2 * N} bad inputs: ${unreadable.length} + ${invalid.length} warning lines, ${suppressed} suppressed and counted, ${lines.length} lines in all`);
    assert.equal(suppressed + unreadable.length + invalid.length, 2 * N, 'every bad input is written or counted');
    assert.ok(lines.length < 30, `${lines.length} lines in all`);
  });
});

describe('an RPC that times out', () => {
  it('names the setting to raise: rpc_timeout (issue 15)', async () => {
    const bus = createBus({ apis: { notes }, transport: new BusOverTransport(new MemoryTransport()), logger: silent, settings: { rpcTimeoutMs: 100 } });
    bus.serve(notes, { add: async ({ a, b }) => (await new Promise((r) => setTimeout(r, 400)), a + b), boom: () => null });
    await bus.start();
    try {
      await assert.rejects(bus.notes.add({ a: 1, b: 2 }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'SY_ERR_REQUEST_TIMEOUT');
        assert.match(e.message, /no reply on "RPC hard\.notes\.add\(\)" within 100 ms; check that a responder is running, or raise rpc_timeout \(seconds: apis\.hard\.notes\.rpc_timeout in a Lightbus bus config, api\.apis\.hard\.notes\.rpcTimeout in a settings file, SWITCHYARD_API_APIS='\{"hard\.notes":\{"rpcTimeout":10\}\}' in the environment; settings\.rpcTimeoutMs in code\)/);
        return true;
      });
    } finally {
      await bus.stop();
    }
  });
});

describe('a bus whose Redis cannot be reached', () => {
  it('fails to start with SY_ERR_BROKER naming the URL without its password, not a bare "Connection is closed."', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r())); // nothing listens there now
    const bus = createBus({ apis: { notes }, transport: new RedisBusTransport({ url: `redis://:hunter2@127.0.0.1:${port}`, logger: silent }), logger: silent });
    await assert.rejects(bus.start(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'SY_ERR_BROKER');
      assert.match(e.message, new RegExp(`Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}: could not connect \\(.+\\); check that Redis runs there`));
      assert.ok(!e.message.includes('hunter2'), 'no password in the message');
      return true;
    });
  });
});

