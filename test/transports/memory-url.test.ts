// The memory transport's queue bounds carried in its spec ("memory?max_length=…"), so the
// registry opens the bounded transport `switchyard run` asks for (one string says it all).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';
import { TransportRegistry, transportNameOf } from '../../src/runtime/registry.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';
import { memoryOptionsOfSpec, memorySpec } from '../../src/transports/memory/memory-url.js';

describe('memory transport spec', () => {
  it('round-trips the options; bare "memory" takes the defaults', () => {
    assert.equal(memorySpec(), 'memory');
    assert.equal(memorySpec({ maxLength: 10, maxBytes: 2048, overflow: 'reject-publish' }), 'memory?max_length=10&max_bytes=2048&overflow=reject-publish');
    assert.deepEqual(memoryOptionsOfSpec('memory?max_length=10&max_bytes=2048&overflow=reject-publish'), { maxLength: 10, maxBytes: 2048, overflow: 'reject-publish' });
    assert.deepEqual(memoryOptionsOfSpec('memory'), {});
    assert.equal(transportNameOf('memory?max_length=3'), 'memory');
  });

  it('names a parameter it cannot use, and what it takes', () => {
    assert.throws(() => memoryOptionsOfSpec('memory?max_length=0'), /SY_ERR_SETTINGS.*max_length="0".*whole number ≥ 1/);
    assert.throws(() => memoryOptionsOfSpec('memory?overflow=drop'), /overflow="drop".*back-pressure or reject-publish/);
    assert.throws(() => memoryOptionsOfSpec('memory?maxLength=3'), /unknown parameter "maxLength"; known: max_length, max_bytes, overflow/);
  });

  it('the registry opens the bounded transport the spec names', async () => {
    const registry = new TransportRegistry({ logger: createLogger({ level: 'silent' }) });
    try {
      const opened = await registry.open('memory?max_length=2&overflow=reject-publish', 'worker', ['queue']);
      assert.ok(opened.queues instanceof MemoryTransport);
      assert.deepEqual(opened.queues.limits, { maxLength: 2, maxBytes: 64 * 1024 * 1024 });
      assert.equal(opened.queues.overflow, 'reject-publish');
    } finally {
      await registry.close();
    }
  });
});
