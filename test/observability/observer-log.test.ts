// The one log listener for every model (observer-log.ts): the same lines and fields
// whatever model reports, "message done" at the level the caller gives per model, and the
// lines a peer can cause once per message it sends rate-limited.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observerLog } from '../../src/observability/observer-log.js';
import { Observer } from '../../src/observability/observer.js';
import { capturingLogger as capture } from '../support/log-capture.js';

describe('observerLog', () => {
  it('writes the same lines for any model; "message done" at debug unless the caller says info', () => {
    const { logger, lines } = capture('info');
    const observer = new Observer();
    const log = observerLog(observer, logger, { handledAt: (model) => (model === 'worker' ? 'info' : 'debug') });
    const task = observer.for({ model: 'task', service: 'resize', transport: 'http' });
    const worker = observer.for({ model: 'worker', service: 'ingest', transport: 'amqp' });
    task.emit({ type: 'state', state: 'ready', inputs: [{ kind: 'http', name: '/resize' }], outputs: [] });
    task.emit({ type: 'received', input: '/resize', id: 't1', attempt: 1 });
    task.emit({ type: 'handled', input: '/resize', id: 't1', durationMs: 1.234 });
    worker.emit({ type: 'received', input: 'in', id: '7', attempt: 1 });
    worker.emit({ type: 'handled', input: 'in', id: '7', durationMs: 2.345, produced: [{ output: 'out', id: '7', label: 'true' }], wrote: ['b/7'] });
    task.emit({ type: 'state', state: 'failed', error: { message: 'port in use' } });
    log.detach();
    task.emit({ type: 'state', state: 'stopped' });
    assert.deepEqual(lines.map((l) => [l.level, l.msg, l.model]), [
      ['info', 'task started', 'task'],
      ['info', 'message done', 'worker'],
      ['error', 'task failed', 'task'],
    ]);
    assert.deepEqual(lines[0]!.inputs, ['/resize']);
    const done = lines[1]!;
    assert.deepEqual({ service: done.service, transport: done.transport, input: done.input, id: done.id, ms: done.ms, produced: done.produced, wrote: done.wrote },
      { service: 'ingest', transport: 'amqp', input: 'in', id: '7', ms: 2.35, produced: [{ output: 'out', id: '7', label: 'true' }], wrote: ['b/7'] });
  });

  it('rate-limits what peers cause (rejected input, dead letters without an id) and says how many were suppressed', () => {
    const { logger, lines } = capture('info');
    const observer = new Observer();
    const log = observerLog(observer, logger, { peerInputLimit: { burst: 3, windowMs: 60_000 } });
    const service = observer.for({ model: 'service', service: 'svc', transport: 'zeromq' });
    const worker = observer.for({ model: 'worker', service: 'ingest', transport: 'memory' });
    for (let i = 0; i < 100; i++) {
      service.emit({ type: 'rejected', input: 'rpc', reason: 'unreadable frame' });
      worker.emit({ type: 'dead-lettered', input: 'in', reason: `not an id: ${i}`, reasonKind: 'bad_id' });
    }
    // A dead letter of a unit that arrived is the operator's business: never limited.
    for (let i = 0; i < 10; i++) worker.emit({ type: 'dead-lettered', input: 'in', id: String(i), reason: 'gave up', reasonKind: 'max_attempts' });
    log.flush();
    assert.equal(lines.filter((l) => l.msg === 'input rejected').length, 3);
    assert.equal(lines.filter((l) => l.msg === 'message dead-lettered' && l.id === undefined).length, 3);
    assert.equal(lines.filter((l) => l.msg === 'message dead-lettered' && l.level === 'error').length, 10);
    assert.ok(lines.length < 40, `${lines.length} lines for 210 events`);
    assert.ok(lines.some((l) => /suppress/i.test(String(l.msg)) || typeof l.suppressed === 'number'), JSON.stringify(lines.slice(-3)));
    log.detach();
  });
});
