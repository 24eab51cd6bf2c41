// A standard Lightbus configuration file loads: every key Lightbus 1.3 accepts (its
// config/structure.py and transports' from_config(), listed by `lightbus dumpconfigschema`;
// test/interop/lightbus.test.ts checks against that very output), those Switchyard does
// not use accepted and logged once; the ones it uses take effect: the transport-level
// rpc_timeout is the life of a call's expiry key, batch_size and acknowledgement_timeout
// are the listeners' prefetch and reclaim idle time, max_stream_length null trims nothing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { busConfigLayer, logUnusedSettings } from '../../src/models/api/lightbus-config-file.js';
import { busFromConfig, settingsFromBusConfig } from './bus-from-config.js';
import { defineApi } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { suiteRedis } from '../support/redis-server.js';

/** A logger whose lines land in `lines` (parsed). */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const standard = (url: string) => `
service_name: "{friendly}"
process_name: "{random4}"
bus:
  log_level: info
  schema:
    human_readable: true
    ttl: 60
    transport:
      redis: {url: "${url}", connection_parameters: {}}
apis:
  default:
    rpc_timeout: 9
    event_listener_setup_timeout: 1
    event_fire_timeout: 5
    validate: {outgoing: true, incoming: true}
    strict_validation: false
    cast_values: true
    event_transport:
      redis:
        url: "${url}"
        connection_parameters: {maxsize: 100}
        batch_size: 3
        reclaim_batch_size: 30
        serializer: lightbus.serializers.ByFieldMessageSerializer
        deserializer: lightbus.serializers.ByFieldMessageDeserializer
        acknowledgement_timeout: 45
        reclaim_interval: 30
        max_stream_length: null
        stream_use: per_api
        consumption_restart_delay: 5
        consumer_ttl: 2592000
        service_name: null
        consumer_name: null
    rpc_transport:
      redis:
        url: "${url}"
        connection_parameters: {maxsize: 100}
        batch_size: 10
        serializer: lightbus.serializers.BlobMessageSerializer
        deserializer: lightbus.serializers.BlobMessageDeserializer
        rpc_timeout: 2
        rpc_retry_delay: 1
        consumption_restart_delay: 5
    result_transport:
      redis:
        url: "${url}"
        connection_parameters: {maxsize: 100}
        serializer: lightbus.serializers.BlobMessageSerializer
        deserializer: lightbus.serializers.BlobMessageDeserializer
        result_ttl: 60
        rpc_timeout: 5
plugins:
  internal_state: {enabled: false, ping_enabled: true, ping_interval: 60}
  internal_metrics: {enabled: false}
`;

const jobs = defineApi({
  name: 'cfg.jobs',
  rpcs: { nobody: { params: z.object({}), result: z.null() } },
  events: { job: { params: z.object({ n: z.number() }) } },
});

describe('a standard Lightbus configuration file', { timeout: 60_000 }, () => {
  const redis = suiteRedis();

  it('loads with every key Lightbus accepts; those Switchyard does not use are logged once, by name', () => {
    const layer = busConfigLayer(parseYaml(standard('redis://127.0.0.1:6379/0')), 'lightbus.yaml');
    assert.deepEqual([...layer.unused].sort(), [
      'apis.default.cast_values',
      'apis.default.event_listener_setup_timeout',
      'apis.default.event_transport.redis.connection_parameters',
      'apis.default.event_transport.redis.consumer_name',
      'apis.default.event_transport.redis.consumer_ttl',
      'apis.default.event_transport.redis.consumption_restart_delay',
      'apis.default.event_transport.redis.deserializer',
      'apis.default.event_transport.redis.reclaim_batch_size',
      'apis.default.event_transport.redis.reclaim_interval',
      'apis.default.event_transport.redis.serializer',
      'apis.default.event_transport.redis.service_name',
      'apis.default.result_transport.redis.connection_parameters',
      'apis.default.result_transport.redis.deserializer',
      'apis.default.result_transport.redis.rpc_timeout',
      'apis.default.result_transport.redis.serializer',
      'apis.default.rpc_transport.redis.batch_size',
      'apis.default.rpc_transport.redis.connection_parameters',
      'apis.default.rpc_transport.redis.consumption_restart_delay',
      'apis.default.rpc_transport.redis.deserializer',
      'apis.default.rpc_transport.redis.rpc_retry_delay',
      'apis.default.rpc_transport.redis.serializer',
      'bus.log_level',
      'bus.schema.human_readable',
      'bus.schema.transport.redis.connection_parameters',
    ]);
    const { logger, lines } = capturingLogger();
    logUnusedSettings(layer, logger);
    logUnusedSettings(layer, logger);
    const told = lines.filter((l) => String(l.msg).includes('Switchyard accepts and does not use'));
    assert.equal(told.length, 1, 'logged once');
    assert.match(String(told[0]!.msg), /24 Lightbus setting\(s\)/);
    assert.equal((told[0]!.why as Record<string, string>)['apis.default.event_transport.redis.consumer_ttl'], 'idle consumers and empty groups are not cleaned up');
    // What it does use lands in the api section: the transport with Lightbus's transport settings in its URL.
    const settings = settingsFromBusConfig(parseYaml(standard('redis://127.0.0.1:6379/0')), 'lightbus.yaml');
    assert.equal(settings.transport, 'redis://127.0.0.1:6379/0?stream_use=per_api&max_stream_length=none&result_ttl=60&rpc_timeout=2');
    assert.deepEqual({ ...settings.apis.default, validate: undefined }, { rpcTimeout: 9, eventFireTimeout: 5, validate: undefined, strictValidation: false, prefetch: 3, reclaimIdle: 45, maxAttempts: 5 });
  });

  it('refuses, naming the key, what it cannot honour: another serializer class, an unknown key, two servers for one API', () => {
    const data = parseYaml(standard('redis://127.0.0.1:6379/0')) as { apis: { default: { event_transport: { redis: Record<string, unknown> } } } };
    data.apis.default.event_transport.redis.serializer = 'my_company.MsgpackSerializer';
    assert.throws(() => busConfigLayer(data, 'lightbus.yaml'), /apis\.default\.event_transport\.redis\.serializer \(from bus config lightbus\.yaml\): expected "lightbus\.serializers\.ByFieldMessageSerializer"/);
    assert.throws(() => busConfigLayer({ apis: { default: { rpc_transport: { redis: { rpc_timout: 3 } } } } }, 'x'), /apis\.default\.rpc_transport\.redis\.rpc_timout \(from bus config x\): expected no such key/);
    assert.throws(
      () => busConfigLayer({ apis: { 'a.b': { event_transport: { redis: { url: 'redis://h1:6379' } }, rpc_transport: { redis: { url: 'redis://h2:6379', rpc_timeout: 3 } } } } }, 'x'),
      /SY_ERR_SETTINGS: invalid settings: apis\.a\.b \(from bus config x\): .*make them equal/,
    );
  });

  it('uses what it reads: the transport-level rpc_timeout is the life of a call\'s expiry key (the API\'s is the caller\'s wait)', async () => {
    const { bus, close } = await busFromConfig(parseYaml(standard(redis.server.url)), { apis: { jobs }, logger: createLogger({ level: 'silent' }) });
    await bus.start();
    try {
      assert.equal(bus.settingsOf('cfg.jobs').rpcTimeoutMs, 9_000);
      const pending = bus.jobs.nobody({}).catch((e: Error) => e);
      let keys: string[] = [];
      for (let i = 0; i < 100 && keys.length === 0; i++) {
        keys = await redis.raw.keys('rpc_expiry_key:*');
        if (keys.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(keys.length, 1, 'the call was sent in Lightbus\'s format with its expiry key');
      const ttl = await redis.raw.ttl(keys[0]!);
      assert.ok(ttl > 0 && ttl <= 2, `the expiry key lives 2 s (rpc_transport.redis.rpc_timeout), not 9: ttl ${ttl}`);
      await close();
      assert.equal(((await pending) as { code?: string }).code, 'SY_ERR_TRANSPORT_CLOSED');
    } finally {
      await close();
    }
  });

  it('uses what it reads: batch_size is the listeners\' prefetch', async () => {
    const { bus, close } = await busFromConfig(parseYaml(standard(redis.server.url)), { apis: { jobs }, serviceName: 'cfg', logger: createLogger({ level: 'silent' }) });
    let started = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    await bus.jobs.job.listen(async () => {
      started++;
      await held;
    }, { listenerName: 'slow' });
    await bus.start();
    try {
      for (let n = 0; n < 10; n++) await bus.jobs.job.fire({ n });
      for (let i = 0; i < 100 && started < 3; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200)); // room for more, were the prefetch larger
      assert.equal(started, 3, 'batch_size 3: three events in hand at once');
    } finally {
      release();
      await close();
    }
  });

  it('uses what it reads: max_stream_length bounds the stream, null leaves it whole', async () => {
    const lengthAfter = async (maxStreamLength: number | null, api: string) => {
      const data = parseYaml(standard(redis.server.url)) as { apis: { default: { event_transport: { redis: Record<string, unknown> } } } };
      data.apis.default.event_transport.redis.max_stream_length = maxStreamLength;
      const stream = defineApi({ name: api, events: { e: { params: z.object({ n: z.number() }) } } });
      const { bus, close } = await busFromConfig(data, { apis: { stream }, logger: createLogger({ level: 'silent' }) });
      await bus.start();
      await Promise.all(Array.from({ length: 400 }, (_, n) => bus.stream.e.fire({ n })));
      await close();
      return redis.raw.xlen(`${api}.*:stream`);
    };
    assert.equal(await lengthAfter(null, 'cfg.whole'), 400);
    const trimmed = await lengthAfter(1, 'cfg.trimmed');
    assert.ok(trimmed < 400, `trimmed to about 1 (MAXLEN ~ trims whole nodes): ${trimmed}`);
  });
});
