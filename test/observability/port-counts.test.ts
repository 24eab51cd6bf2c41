// Counting at the emitter (observability/port-counts.ts): what a watcher reads once a second
// instead of counting each event itself (issue 16: the dashboard's cost on throughput).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';
import { LATENCY_BUCKETS, latencyBucketOf } from '../../src/observability/latency-buckets.js';
import type { ComponentCounts, CountTable } from '../../src/observability/port-counts.js';

const source = { model: 'worker', service: 'w', transport: 'memory' } as const;

function portsOf(table: CountTable, service = 'w'): ComponentCounts {
  const c = table.components.find((x) => x.service === service);
  assert.ok(c, `counts of ${service}`);
  return c;
}

describe('port counts: kept at the emitter while someone counts', () => {
  it('every kind of event lands on its port: totals, in flight, errors, dead letters, rejected, durations, labels', () => {
    const observer = new Observer();
    const { table } = observer.countPorts();
    const emitter = observer.for(source);
    emitter.emit({ type: 'received', input: 'w-in', id: '1', attempt: 1 });
    emitter.emit({ type: 'received', input: 'w-in', id: '2', attempt: 1 });
    emitter.emit({ type: 'received', input: 'w-in', id: '3', attempt: 1 });
    emitter.emit({ type: 'handled', input: 'w-in', id: '1', durationMs: 4, produced: [{ output: 'w-out', id: '1', label: 'true' }, { output: 'w-out', id: '9', label: 'false' }] });
    emitter.emit({ type: 'failed', input: 'w-in', id: '2', durationMs: 400, error: { message: 'boom' }, retryInMs: 10 });
    emitter.emit({ type: 'dead-lettered', input: 'w-in', id: '3', reason: 'no route', reasonKind: 'no_route' });
    emitter.emit({ type: 'dead-lettered', input: 'w-in', reason: 'not a u64', reasonKind: 'bad_id' });
    emitter.emit({ type: 'rejected', input: 'w-in', reason: 'too big' });
    emitter.emit({ type: 'sent', output: 'audit', id: 'a' });
    emitter.emit({ type: 'called', target: 'calc.add', id: 'c', durationMs: 2, error: { message: 'timeout' } });
    const counts = portsOf(table);
    const [input] = counts.inputs;
    assert.ok(input);
    assert.deepEqual({ name: input.name, total: input.total, inFlight: input.inFlight, errors: input.errors, dead: input.dead, rejected: input.rejected, timed: input.timed },
      { name: 'w-in', total: 3, inFlight: 0, errors: 2, dead: 2, rejected: 1, timed: 2 });
    const latency = table.latencyOf(input)!;
    assert.equal(latency[latencyBucketOf(4)], 1);
    assert.equal(latency[latencyBucketOf(400)], 1);
    assert.deepEqual(counts.outputs.map((o) => `${o.name} ${o.total} ${o.errors} [${o.labels.join(',')}]`), ['w-out 2 0 [true,false]', 'audit 1 0 []', 'calc.add 1 1 []']);
    assert.equal(table.latencyOf(counts.outputs[2]!)![latencyBucketOf(2)], 1, 'a call is timed on its output');
  });

  it('a new port or label bumps the version (a reader then looks again); a repeated one does not', () => {
    const observer = new Observer();
    const { table } = observer.countPorts();
    const emitter = observer.for(source);
    emitter.emit({ type: 'sent', output: 'q', id: '1', label: 'a' });
    const counts = portsOf(table);
    const after = counts.version;
    emitter.emit({ type: 'sent', output: 'q', id: '2', label: 'a' });
    assert.equal(counts.version, after);
    emitter.emit({ type: 'sent', output: 'q', id: '3', label: 'b' });
    assert.equal(counts.version, after + 1);
    emitter.emit({ type: 'received', input: 'in', id: '4', attempt: 1 });
    assert.equal(counts.version, after + 2);
  });

  it('nothing is counted while nobody counts; stop() ends it, and listeners alone keep the stream active', () => {
    const observer = new Observer();
    const emitter = observer.for(source);
    const unlisten = observer.listen(() => undefined);
    emitter.emit({ type: 'received', input: 'w-in', id: '1', attempt: 1 });
    const counting = observer.countPorts();
    assert.equal(counting.table.components.length, 0, 'what came before counting is not counted');
    emitter.emit({ type: 'received', input: 'w-in', id: '2', attempt: 1 });
    counting.stop();
    counting.stop(); // twice is once
    emitter.emit({ type: 'received', input: 'w-in', id: '3', attempt: 1 });
    assert.equal(portsOf(counting.table).inputs[0]!.total, 1);
    assert.equal(observer.active, true);
    unlisten();
    assert.equal(observer.active, false);
    const again = observer.countPorts();
    assert.equal(observer.active, true, 'counting alone makes the stream active');
    assert.equal(portsOf(again.table).inputs[0]!.inFlight, 0, 'in-flight units of the pause are forgotten: they finished uncounted');
    again.stop();
    assert.equal(observer.active, false);
  });

  it('events emitted on the observer itself are counted by their source; one component per model and service', () => {
    const observer = new Observer();
    const { table } = observer.countPorts();
    const at = 1;
    observer.emit({ ...source, at, type: 'received', input: 'w-in', id: '1', attempt: 1 });
    observer.emit({ ...source, transport: 'amqp', at, type: 'received', input: 'w-in', id: '2', attempt: 1 });
    observer.emit({ model: 'api', service: 'w', transport: 'redis', at, type: 'received', input: 'w.call', id: '3', attempt: 1 });
    assert.deepEqual(table.components.map((c) => `${c.model}:${c.service} ${c.transport} ${c.inputs[0]!.total}`), ['worker:w amqp 2', 'api:w redis 1']);
  });

  it('ports are capped: a flood of new names is counted as untracked', () => {
    const observer = new Observer({ maxPorts: 5 });
    const { table } = observer.countPorts();
    const emitter = observer.for(source);
    for (let i = 0; i < 100; i++) emitter.emit({ type: 'received', input: `q${i}`, id: '1', attempt: 1 });
    assert.equal(portsOf(table).inputs.length, 5);
    assert.equal(table.untracked, 95);
  });

  it('forty ports time durations into slices of one growing array, each read back as its own', () => {
    const observer = new Observer();
    const { table } = observer.countPorts();
    for (let i = 0; i < 40; i++) {
      const emitter = observer.for({ model: 'worker', service: `p${i}`, transport: 'memory' });
      for (let k = 0; k < 3; k++) emitter.emit({ type: 'handled', input: 'in', id: String(k), durationMs: i + 1 });
    }
    for (let i = 0; i < 40; i++) {
      const latency = table.latencyOf(portsOf(table, `p${i}`).inputs[0]!)!;
      assert.equal(latency.length, LATENCY_BUCKETS);
      assert.equal(latency[latencyBucketOf(i + 1)], 3, `p${i}`);
      assert.equal(latency.reduce((a, b) => a + b, 0), 3, `p${i} holds only its own`);
    }
  });

  it('a malformed event is left uncounted and never thrown at the component emitting it', () => {
    const observer = new Observer();
    const { table } = observer.countPorts();
    const emitter = observer.for(source);
    emitter.emit({ type: 'handled', input: 'w-in', id: '1', durationMs: 1, produced: [null] } as unknown as Extract<ObserverEvent, { type: 'handled' }>);
    emitter.emit({ type: 'received', input: 'w-in', id: '2', attempt: 1 });
    assert.equal(portsOf(table).inputs[0]!.total, 1);
  });
});
