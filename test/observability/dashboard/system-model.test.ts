import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BucketSeries } from '../../../src/observability/dashboard/bucket-series.js';
import { JourneyIndex } from '../../../src/observability/dashboard/journeys.js';
import { LatencyWindow } from '../../../src/observability/dashboard/latency-window.js';
import { SystemModel } from '../../../src/observability/dashboard/system-model.js';
import { buildTopology } from '../../../src/observability/dashboard/topology.js';
import { Observer } from '../../../src/observability/observer.js';
import { Runtime } from '../../../src/runtime/runtime.js';
import { mixedSystem, quietLogger } from '../../support/dashboard-system.js';

/** A model on a clock the test moves, following a runtime of the mixed system. */
async function watched(now = { t: 1_000_000 }) {
  const observer = new Observer();
  const model = new SystemModel({ now: () => now.t });
  model.attach(observer);
  const system = await mixedSystem(new Runtime({ logger: quietLogger(), observer }));
  return { model, system, now };
}

describe('dashboard data: topology', () => {
  it('services are nodes, shared channels are edges with case labels, one-sided channels get a node of their own', () => {
    const t = buildTopology([
      { source: { model: 'worker', service: 'a', transport: 'memory' }, inputs: [{ name: 'a-in', kind: 'queue' }], outputs: [
        { name: 'b-in', kind: 'queue', label: '10' }, { name: 'b-in', kind: 'queue', label: '2' }, { name: 'end', kind: 'queue', label: 'false' }] },
      { source: { model: 'worker', service: 'b', transport: 'memory' }, inputs: [{ name: 'b-in', kind: 'queue' }], outputs: [] },
    ]);
    assert.deepEqual(t.nodes.map((n) => `${n.type} ${n.id}`), ['channel channel:a-in', 'channel channel:end', 'service worker:a', 'service worker:b']);
    const byId = new Map(t.edges.map((e) => [e.id, e]));
    assert.deepEqual(byId.get('worker:a->worker:b@b-in')?.labels, ['2', '10'], 'numbers sorted as numbers');
    assert.deepEqual(byId.get('worker:a->channel:end@end')?.labels, ['false']);
    assert.ok(byId.has('channel:a-in->worker:a@a-in'), 'the queue fed from outside is drawn');
    assert.equal(t.edges.length, 3);
  });
});

describe('dashboard data: the live model from the observer stream', () => {
  it('knows every component from its "ready" event, with the edges it declared', async () => {
    const { model, system } = await watched();
    try {
      const snap = model.snapshot();
      const services = snap.nodes.filter((n) => n.type === 'service');
      assert.deepEqual(services.map((n) => `${n.id} ${n.transport} ${n.state}`).sort(), [
        'api:audit redis ready', 'api:calc redis ready', 'task:text-stats http ready',
        'worker:answer memory ready', 'worker:classify memory ready', 'worker:ingest memory ready',
      ]);
      const edges = new Set(snap.edges.map((e) => e.id));
      for (const id of ['worker:ingest->worker:classify@classify-in', 'worker:classify->worker:answer@answer-in', 'worker:answer->api:calc@calc.add',
        'api:calc->api:audit@calc.added', 'worker:classify->channel:summaries@summaries', 'channel:ingest-in->worker:ingest@ingest-in']) {
        assert.ok(edges.has(id), `edge ${id} in ${[...edges].join(', ')}`);
      }
      assert.deepEqual(snap.edges.find((e) => e.channel === 'answer-in')?.labels, ['question']);
      assert.deepEqual(snap.models, ['api', 'task', 'worker']);
    } finally {
      await system.runtime.stop();
    }
  });

  it('rates, in-flight, p50/p99, errors and dead letters per node and per edge; sparklines move with time', async () => {
    const { model, system, now } = await watched();
    try {
      for (let i = 0; i < 50; i++) {
        system.pipeline(i, { durationMs: i < 49 ? 4 : 400 });
        now.t += 100; // 50 messages over 5 s
      }
      system.parts.ingest.emitter.emit({ type: 'received', input: 'ingest-in', id: 'slow', attempt: 1 });
      system.deadLetter(7, 'no route for case "maybe"');
      system.parts.ingest.emitter.emit({ type: 'rejected', input: 'ingest-in', reason: 'not a u64' });
      const snap = model.snapshot();
      const ingest = snap.nodes.find((n) => n.id === 'worker:ingest')!.figures!;
      assert.equal(ingest.received, 51);
      assert.equal(ingest.inFlight, 1, 'the message received and not yet handled');
      assert.ok(ingest.rateIn > 4 && ingest.rateIn < 12, `about 10/s over the window, got ${ingest.rateIn}`);
      assert.equal(ingest.sent, 50);
      assert.ok(Math.abs(ingest.p50Ms! - 4) / 4 < 0.1, `p50 ≈ 4 ms, got ${ingest.p50Ms}`);
      assert.ok(Math.abs(ingest.p99Ms! - 400) / 400 < 0.1, `p99 ≈ 400 ms, got ${ingest.p99Ms}`);
      assert.equal(ingest.rejected, 1);
      assert.equal(ingest.errors, 1);
      const classify = snap.nodes.find((n) => n.id === 'worker:classify')!.figures!;
      assert.equal(classify.deadLetters, 1);
      assert.equal(classify.inFlight, 0, 'a dead-lettered message leaves in-flight');
      const edge = snap.edges.find((e) => e.id === 'worker:ingest->worker:classify@classify-in')!;
      assert.equal(edge.figures.sent, 50, 'what ingest sent along it');
      assert.equal(edge.figures.received, 51, 'what classify took from it');
      assert.equal(edge.figures.deadLetters, 1);
      assert.ok(edge.series.in.reduce((a, b) => a + b) === 51 && edge.series.in.length === snap.seriesLength);
      // Five minutes later every rate is zero and the sparkline has moved on.
      now.t += 6 * 60_000;
      const later = model.snapshot().nodes.find((n) => n.id === 'worker:ingest')!;
      assert.equal(later.figures!.rateIn, 0);
      assert.equal(later.figures!.p50Ms, undefined, 'no handling in the last minute');
      assert.equal(later.series!.in.reduce((a, b) => a + b), 0);
      assert.equal(later.figures!.received, 51, 'totals stay');
    } finally {
      await system.runtime.stop();
    }
  });

  it('edges seen only live join the topology (a produced output nobody declared), and the topology version changes', async () => {
    const { model, system } = await watched();
    try {
      const before = model.snapshot().topologyVersion;
      system.parts.ingest.emitter.emit({ type: 'received', input: 'ingest-in', id: '1', attempt: 1 });
      system.parts.ingest.emitter.emit({ type: 'handled', input: 'ingest-in', id: '1', durationMs: 1, produced: [{ output: 'audit-in', id: '9', label: '7' }] });
      const snap = model.snapshot();
      assert.notEqual(snap.topologyVersion, before);
      const edge = snap.edges.find((e) => e.id === 'worker:ingest->channel:audit-in@audit-in');
      assert.deepEqual(edge?.labels, ['7']);
      const again = model.snapshot().topologyVersion;
      system.pipeline(2);
      assert.equal(model.snapshot().topologyVersion, again, 'traffic on known edges does not change the topology');
    } finally {
      await system.runtime.stop();
    }
  });

  it("a message's journey follows the ids each stage produced, from any id of it", async () => {
    const { model, system, now } = await watched();
    try {
      system.pipeline(5);
      now.t += 10;
      system.call('c-1');
      const journey = model.journey('1005')!;
      assert.deepEqual(journey.stages.map((s) => s.id), ['5', '1005'], 'from the first stage down');
      assert.deepEqual(journey.stages[0]!.hops.map((h) => `${h.service} ${h.step} ${h.channel}`), ['ingest received ingest-in', 'ingest handled ingest-in']);
      assert.deepEqual(journey.stages[1]!.hops.map((h) => `${h.service} ${h.step}`), ['classify received', 'classify handled']);
      assert.deepEqual(journey.stages[0]!.hops[1]!.produced, [{ output: 'classify-in', id: '1005', label: 'true' }]);
      assert.ok(model.recentIds().includes('c-1'));
      assert.equal(model.journey('nope'), undefined);
    } finally {
      await system.runtime.stop();
    }
  });

  it('probes add queue depth and dead-letter counts to channels; a failing probe leaves them out', async () => {
    const { model, system } = await watched();
    try {
      const asked: string[][] = [];
      await model.pollProbes([
        { name: 'memory', probe: async (channels) => { asked.push(channels.map((c) => c.name)); return new Map([['summaries', { depth: 12 }], ['classify-in', { depth: 3, deadLetters: 1 }]]); } },
        { name: 'broken', probe: async () => { throw new Error('down'); } },
      ]);
      assert.ok(asked[0]!.includes('summaries') && asked[0]!.includes('calc.add'));
      const snap = model.snapshot();
      assert.deepEqual(snap.nodes.find((n) => n.id === 'channel:summaries')!.probe, { depth: 12 });
      assert.deepEqual(snap.edges.find((e) => e.channel === 'classify-in')!.probe, { depth: 3, deadLetters: 1 });
    } finally {
      await system.runtime.stop();
    }
  });
});

describe('dashboard data: bounded memory', () => {
  it('journeys keep at most maxIds ids and maxHops hops per id (first hop kept)', () => {
    const index = new JourneyIndex({ maxIds: 100, maxHops: 5 });
    const hop = (i: number) => ({ at: i, node: 'worker:a', service: 'a', model: 'worker' as const, step: 'received' as const, channel: 'q', attempt: i });
    for (let i = 0; i < 10_000; i++) index.add(String(i), hop(1));
    assert.equal(index.size, 100);
    assert.equal(index.journey('0'), undefined, 'the oldest ids are forgotten');
    for (let i = 1; i <= 20; i++) index.add('9999', hop(i));
    const hops = index.journey('9999')!.stages[0]!.hops;
    assert.equal(hops.length, 5);
    assert.deepEqual(hops.map((h) => h.attempt), [1, 17, 18, 19, 20]);
  });

  it('ports are capped: a flood of new input names is counted as untracked, not kept', () => {
    const observer = new Observer();
    const model = new SystemModel({ maxPorts: 10 });
    model.attach(observer);
    for (let i = 0; i < 1000; i++) observer.emit({ model: 'worker', service: 'w', transport: 'memory', at: 0, type: 'received', input: `q${i}`, id: '1', attempt: 1 });
    assert.equal(model.snapshot().untracked, 990);
    // A new port makes the model look at the component's ports again: each is counted once.
    observer.emit({ model: 'worker', service: 'w', transport: 'memory', at: 0, type: 'sent', output: 'late', id: '2' });
    assert.equal(model.snapshot().untracked, 991);
  });

  it('a sparkline has a fixed number of points; the rate is taken over the last seconds', () => {
    const s = new BucketSeries(1000, 5);
    for (let t = 0; t < 20_000; t += 10) s.add(t); // 100/s for 20 s
    assert.deepEqual(s.values(19_999), [100, 100, 100, 100, 100]);
    assert.ok(Math.abs(s.rate(19_999, 3000) - 100) < 1, `rate ${s.rate(19_999, 3000)}`);
    assert.deepEqual(s.values(40_000), [0, 0, 0, 0, 0]);
  });

  it('p50/p99 over a sliding window: old durations leave it', () => {
    const w = new LatencyWindow(60_000, 6);
    for (let i = 0; i < 1000; i++) w.record(0, i < 990 ? 1 : 1000);
    const [p50, p99] = w.quantiles(0, [0.5, 0.99]);
    assert.ok(Math.abs(p50! - 1) < 0.08 && Math.abs(p99! - 1) < 0.08, `p50 ${p50} p99 ${p99}`);
    const [, p999] = w.quantiles(0, [0.5, 0.999]);
    assert.ok(Math.abs(p999! - 1000) / 1000 < 0.08, `p99.9 ${p999}`);
    w.record(70_000, 50);
    const [alone] = w.quantiles(70_000, [0.5]);
    assert.ok(Math.abs(alone! - 50) / 50 < 0.08, `only the new duration is left: ${alone}`);
  });
});
