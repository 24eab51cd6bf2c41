import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/observability/logger.js';
import { capabilitiesOf, TransportRegistry, transportNameOf } from '../../src/runtime/registry.js';

const logger = createLogger({ level: 'silent' });

describe('transport registry', () => {
  it('one vocabulary: a name or a URL whose scheme says the adapter', () => {
    assert.equal(transportNameOf('memory'), 'memory');
    assert.equal(transportNameOf('amqp://u@rabbit:5672/%2f'), 'amqp');
    assert.equal(transportNameOf('amqps://rabbit'), 'amqp');
    assert.equal(transportNameOf('redis://127.0.0.1:6379/0'), 'redis');
    assert.equal(transportNameOf('tcp://127.0.0.1:5555'), 'zeromq');
    assert.equal(transportNameOf('unix:///tmp/mistify'), 'unix');
    assert.equal(transportNameOf('http'), 'http');
    assert.throws(() => transportNameOf('carrier-pigeon://user:secret@coop'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SETTINGS');
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
  });

  it('refuses a transport without a capability the model needs, before loading anything', async () => {
    const registry = new TransportRegistry({ logger });
    await assert.rejects(registry.open('tcp://127.0.0.1:1', 'worker', ['queue']), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_CAPABILITY_MISSING');
      assert.match(err.message, /worker model needs .*queue.* transport "zeromq"/);
      return true;
    });
    await assert.rejects(registry.open('amqp://127.0.0.1', 'api', ['bus']), /SY_ERR_CAPABILITY_MISSING/);
    assert.ok(capabilitiesOf('redis://x').includes('bus'));
  });

  it('opens a transport once per spec and shares it; close() closes it', async () => {
    const registry = new TransportRegistry({ logger });
    const a = await registry.open('memory', 'worker', ['queue']);
    const b = await registry.open('memory', 'api', ['bus']);
    assert.equal(a, b);
    assert.ok(a.queues && a.bus && a.sockets);
    await a.queues.start();
    await registry.close();
    const c = await registry.open('memory', 'worker', ['queue']);
    assert.notEqual(c, a, 'a new one after close');
    await registry.close();
  });
});
