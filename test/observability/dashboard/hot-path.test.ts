// The dashboard's per-event and per-snapshot work kept small (issue 16: its cost on
// throughput): journeys are sampled yet whole, latency windows read their kept sum.
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { JourneyIndex } from '../../../src/observability/dashboard/journeys.js';
import { LatencyWindow, quantilesOf } from '../../../src/observability/dashboard/latency-window.js';
import { LATENCY_BUCKETS, latencyBucketOf } from '../../../src/observability/latency-buckets.js';
import { SystemModel, type SystemModelOptions } from '../../../src/observability/dashboard/system-model.js';
import { Observer, type ObserverEvent } from '../../../src/observability/observer.js';

const source = { model: 'worker', service: 'w', transport: 'memory' } as const;
const received = (id: string, at: number): ObserverEvent => ({ ...source, at, type: 'received', input: 'w-in', id, attempt: 1 });
const handled = (id: string, at: number, child?: string): ObserverEvent => ({
  ...source, at, type: 'handled', input: 'w-in', id, durationMs: 1,
  ...(child !== undefined ? { produced: [{ id: child, output: 'w-out', label: 'true' }] } : {}),
});

const next = { model: 'worker', service: 'next', transport: 'memory' } as const;
/** The second stage: reads w-out, where the first stage's results go. */
const receivedNext = (id: string, at: number): ObserverEvent => ({ ...next, at, type: 'received', input: 'w-out', id, attempt: 1 });

/** A model following an observer, and a function that emits an event on it (counted at the observer, then seen by the model). */
function watching(options?: SystemModelOptions): { model: SystemModel; feed: (e: ObserverEvent) => void } {
  const observer = new Observer();
  const model = new SystemModel(options);
  model.attach(observer);
  return { model, feed: (e) => observer.emit(e) };
}

describe('dashboard hot path: journeys are sampled', () => {
  it('a flood of new ids records at most the budget per second, and each taken journey whole', () => {
    const { model, feed } = watching({ journeys: { newIdsPerSecond: 10 } });
    const at = 5_000_000;
    // The second stage says what it reads as it starts: ids produced there are expected.
    feed({ ...next, at, type: 'state', state: 'ready', inputs: [{ kind: 'queue', name: 'w-out' }] });
    for (let i = 0; i < 10_000; i++) {
      feed(received(String(i), at));
      feed(handled(String(i), at, `c${i}`));
      feed(receivedNext(`c${i}`, at));
    }
    const recent = model.recentIds(100_000);
    // 10 roots taken, each with its child; nothing else (before sampling: 2000 ids, the index full).
    assert.equal(recent.length, 20, `recorded ids: ${recent.length}`);
    const journey = model.journey('0')!;
    assert.deepEqual(journey.stages.map((s) => s.id), ['0', 'c0']);
    assert.deepEqual(journey.stages[0]!.hops.map((h) => h.step), ['received', 'handled']);
    assert.deepEqual(journey.stages[1]!.hops.map((h) => `${h.service} ${h.step}`), ['next received']);
    // Figures still count every message.
    assert.equal(model.snapshot().totals.received, 20_000);
    // The budget comes back with time.
    feed(received('later', at + 1_000));
    assert.ok(model.journey('later'));
  });

  it('an id asked about and not recorded is recorded from then on (a retry, a message yet to come)', () => {
    const index = new JourneyIndex({ newIdsPerSecond: 1 });
    assert.equal(index.takesNew('a', 0), true, 'the first new id is within the budget');
    index.add('a', { at: 0, node: 'worker:w', service: 'w', model: 'worker', step: 'received', channel: 'q' });
    assert.equal(index.takesNew('b', 0), false, 'the budget is spent');
    assert.equal(index.journey('b', 0), undefined);
    assert.equal(index.takesNew('b', 0), true, 'asked about: now wanted');
    assert.equal(index.skipped, 1);
    // A wanted id that never comes is let go of after waitMs.
    index.journey('never', 0);
    index.expire(index.waitMs + 1);
    assert.equal(index.takesNew('never', 0), false);
  });

  it('while the budget is spent an arrival is not asked about, yet an id asked for is recorded when it comes', () => {
    const { model, feed } = watching({ journeys: { newIdsPerSecond: 2 } });
    const at = 5_000_000;
    for (let i = 0; i < 50; i++) {
      feed(received(`f${i}`, at));
      feed(handled(`f${i}`, at));
    }
    assert.equal(model.recentIds(100).length, 2, 'the budget took two');
    // Asked for at once, it comes within the same millisecond: recorded though no token is left.
    assert.equal(model.journey('asked'), undefined);
    feed(received('asked', at));
    feed(handled('asked', at));
    assert.deepEqual(model.journey('asked')?.stages[0]?.hops.map((h) => h.step), ['received', 'handled']);
    feed(received('not-asked', at));
    assert.equal(model.recentIds(100).includes('not-asked'), false);
    // Half a second later the budget has a token again.
    feed(received('later', at + 500));
    assert.ok(model.recentIds(100).includes('later'));
  });

  it('a retry, and every hop of a request at one component, stay in the journey', () => {
    const { model, feed } = watching({ journeys: { newIdsPerSecond: 1 } });
    const at = 5_000_000;
    feed(received('r', at));
    feed({ ...source, at, type: 'failed', input: 'w-in', id: 'r', durationMs: 1, error: { message: 'boom' }, retryInMs: 10 });
    feed(received('other', at)); // over the budget: not recorded
    feed({ ...source, at, type: 'received', input: 'w-in', id: 'r', attempt: 2 });
    feed({ ...source, at, type: 'called', target: 'hook', id: 'r', durationMs: 1 });
    feed({ ...source, at, type: 'sent', output: 'hook', id: 'r' });
    feed(handled('r', at));
    feed({ ...source, at, type: 'called', target: 'hook', id: 'r', durationMs: 1 }); // after done: a new id again, over the budget
    assert.deepEqual(model.journey('r')!.stages[0]!.hops.map((h) => h.step), ['received', 'failed', 'received', 'called', 'sent', 'handled']);
    assert.equal(model.journey('other'), undefined);
  });

  it('an expected id that never arrives is let go of, and a list keeps a few ids at most', () => {
    const index = new JourneyIndex({ waitMs: 1_000 });
    const expected = index.expectedAt('q');
    const hop = (at: number, produced: string[]) => ({ at, node: 'worker:w', service: 'w', model: 'worker' as const, step: 'handled' as const, channel: 'in', produced: produced.map((id) => ({ id, output: 'q' })) });
    index.add('p', hop(0, Array.from({ length: 40 }, (_, i) => `k${i}`)));
    assert.equal(expected.length, 16, 'the oldest expected ids give way');
    assert.ok(expected.has('k39') && !expected.has('k0'));
    index.expire(500);
    assert.equal(expected.length, 16);
    index.expire(1_001);
    assert.equal(expected.length, 0);
  });

  it("an event whose id no journey follows is not looked up by its id (hashing a fresh id text was the model's largest cost)", () => {
    const { model, feed } = watching({ journeys: { newIdsPerSecond: 1 } });
    const at = 5_000_000;
    for (let i = 0; i < 5; i++) {
      feed(received(`warm${i}`, at));
      feed(handled(`warm${i}`, at, `wc${i}`));
    }
    const ids = new Set(Array.from({ length: 100 }, (_, i) => `x${i}`));
    const lookedUp: unknown[] = [];
    const spied = [Map.prototype.has, Map.prototype.get, Map.prototype.delete, Set.prototype.has, Set.prototype.delete] as Array<(this: unknown, key: unknown) => unknown>;
    const names = ['has', 'get', 'delete', 'has', 'delete'] as const;
    const protos = [Map.prototype, Map.prototype, Map.prototype, Set.prototype, Set.prototype] as unknown as Array<Record<string, unknown>>;
    protos.forEach((proto, i) => {
      const real = spied[i]!;
      proto[names[i]!] = function (this: unknown, key: unknown) {
        if (typeof key === 'string' && key.startsWith('x')) lookedUp.push(key);
        return real.call(this, key);
      };
    });
    try {
      for (const id of ids) {
        feed(received(id, at));
        feed(handled(id, at));
      }
    } finally {
      protos.forEach((proto, i) => (proto[names[i]!] = spied[i]));
    }
    assert.deepEqual(lookedUp, []);
    assert.equal(model.snapshot().totals.received, 105);
  });
});

describe('dashboard hot path: the budget of new journeys', () => {
  it('a flood of arrivals at real clock times asks about a new id about once per token, not every event of the millisecond a token is due', () => {
    // Refilled 0.1 token a millisecond, the bucket reached 0.9999999999999999 and not 1; the
    // next token's due time, a rounding error past now, rounded back to now at 1.8e12 ms:
    // every later event of that millisecond asked again (~10% of all events in a busy
    // process; 465,000 slow paths for 6.6 million messages in a direct loop).
    const index = new JourneyIndex({ newIdsPerSecond: 100 });
    let asked = 0;
    let taken = 0;
    const start = 1_796_658_718_000;
    // 30 events a millisecond: the burst of 100 tokens is spent over four milliseconds,
    // which leaves the bucket with a fraction that sums short of 1 later.
    for (let at = start; at < start + 2_000; at++) {
      for (let i = 0; i < 30; i++) {
        if (at < index.restUntil) continue; // what the model checks before asking
        asked++;
        if (index.takesNew(`${at}.${i}`, at)) taken++;
      }
    }
    assert.ok(taken >= 290 && taken <= 301, `the burst of 100, then 100 a second: took ${taken}`);
    assert.ok(asked <= 2 * taken + 10, `asked ${asked} times for ${taken} ids taken`);
  });
});

describe('dashboard hot path: the model rests while no journey can record anything', () => {
  it('the observer does not call it for units of work while it rests, and does for states, wanted ids and new tokens', () => {
    const observer = new Observer();
    const model = new SystemModel({ journeys: { newIdsPerSecond: 1 } });
    let calls = 0;
    const onEvent = model.onEvent.bind(model);
    model.onEvent = (e) => {
      calls++;
      onEvent(e);
    };
    model.attach(observer);
    const at = 5_000_000;
    for (let i = 0; i < 1_000; i++) {
      observer.emit(received(`m${i}`, at));
      observer.emit(handled(`m${i}`, at));
    }
    // The first message takes the one token (its two events), the second is asked about and refused.
    assert.ok(calls <= 4, `the model was called ${calls} times for 2,000 events`);
    assert.equal(model.snapshot().totals.received, 1_000, 'the figures count every message all the same');
    calls = 0;
    observer.emit({ ...source, at, type: 'state', state: 'draining' });
    assert.equal(calls, 1, 'a state always reaches it');
    assert.equal(model.journey('later'), undefined); // asked for: wanted from now on
    observer.emit(received('later', at));
    observer.emit(handled('later', at));
    assert.deepEqual(model.journey('later')?.stages[0]?.hops.map((h) => h.step), ['received', 'handled']);
    observer.emit(received('next-second', at + 1_000));
    assert.ok(model.recentIds(100).includes('next-second'), 'a new token: the next arrival is seen');
  });

  it('counts reach the series by the clock when no event reaches the model', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let now = 10_000_000; // a multiple of 5 s: a bucket starts here
      const observer = new Observer();
      const model = new SystemModel({ now: () => now, seriesBucketMs: 5_000, seriesLength: 4, journeys: { newIdsPerSecond: 0 } });
      model.attach(observer);
      for (let i = 0; i < 10; i++) observer.emit(received(`a${i}`, now));
      now += 1_000;
      mock.timers.tick(1_000);
      now += 5_000; // the next 5 s bucket
      for (let i = 0; i < 7; i++) observer.emit(received(`b${i}`, now));
      now += 1_000;
      mock.timers.tick(1_000);
      const node = model.snapshot().nodes.find((n) => n.type === 'service');
      assert.ok(node?.type === 'service');
      assert.deepEqual(node.series?.in.slice(-2), [10, 7]);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('dashboard hot path: components found by service name', () => {
  it('a service name used by two models is two components, each counted apart, their events interleaved', () => {
    const { model, feed } = watching();
    const at = 5_000_000;
    const w = { model: 'worker', service: 'orders', transport: 'memory' } as const;
    const api = { model: 'api', service: 'orders', transport: 'redis' } as const;
    for (let i = 0; i < 3; i++) {
      feed({ ...w, at, type: 'received', input: 'orders-in', id: `w${i}`, attempt: 1 });
      feed({ ...api, at, type: 'received', input: 'orders.place', id: `a${i}`, attempt: 1 });
      feed({ ...api, at, type: 'handled', input: 'orders.place', id: `a${i}`, durationMs: 1 });
    }
    const nodes = new Map(model.snapshot().nodes.map((n) => [n.id, n]));
    assert.equal(nodes.get('worker:orders')?.figures?.received, 3);
    assert.equal(nodes.get('worker:orders')?.figures?.inFlight, 3);
    assert.equal(nodes.get('api:orders')?.figures?.received, 3);
    assert.equal(nodes.get('api:orders')?.figures?.inFlight, 0);
  });
});

describe('dashboard hot path: one array of pending latency counts for every port', () => {
  it("forty ports' durations, counted into slices of one growing array, each read back as its own", () => {
    const at = 5_000_000;
    const { model, feed } = watching({ now: () => at });
    for (let i = 0; i < 40; i++) {
      const s = { model: 'worker', service: `p${i}`, transport: 'memory' } as const;
      for (let k = 0; k < 10; k++) {
        feed({ ...s, at, type: 'received', input: `p${i}-in`, id: `${i}.${k}`, attempt: 1 });
        feed({ ...s, at, type: 'handled', input: `p${i}-in`, id: `${i}.${k}`, durationMs: i + 1 });
      }
    }
    const nodes = new Map(model.snapshot().nodes.map((n) => [n.id, n]));
    for (let i = 0; i < 40; i++) {
      const p50 = nodes.get(`worker:p${i}`)?.figures?.p50Ms;
      assert.ok(p50 !== undefined && Math.abs(p50 - (i + 1)) <= (i + 1) * 0.08, `p${i}: p50 ${p50} for durations of ${i + 1} ms`);
    }
  });
});

describe('dashboard hot path: a latency bucket without a logarithm', () => {
  it('the table lookup on the exponent and mantissa bits gives the logarithm\'s bucket (off by one only next to a boundary)', () => {
    const exact = (ms: number) => Math.min(LATENCY_BUCKETS - 1, Math.floor(Math.log2(ms / 0.01) * 5) + 1);
    let offByOne = 0;
    for (let i = 0; i < 20_000; i++) {
      const ms = 0.01 * Math.exp((i / 20_000) * Math.log(2e7)); // 0.01 ms to 200 s, evenly in log
      const got = latencyBucketOf(ms);
      assert.ok(Math.abs(got - exact(ms)) <= 1, `${ms} ms: bucket ${got}, the logarithm's ${exact(ms)}`);
      if (got !== exact(ms)) offByOne++;
    }
    assert.ok(offByOne < 100, `${offByOne} of 20,000 off by one`);
    assert.deepEqual([0, 0.005, 0.01, 0.02, 1, 1e9, NaN, -1].map(latencyBucketOf), [0, 0, 0, 6, 34, LATENCY_BUCKETS - 1, 0, 0]);
  });
});

/** A quantile as the value it stands for: buckets are 15% wide, so within 10% of 1 or 100 names it. */
const about = (q: number | undefined) => [1, 5, 100].find((v) => q !== undefined && Math.abs(q - v) <= v * 0.1) ?? q;

describe('dashboard hot path: latency windows keep their live sum', () => {
  it('reads the same quantiles as summing the slices, as slices leave the window, and tells how many it added', () => {
    const w = new LatencyWindow(60_000, 6);
    for (let t = 0; t < 60_000; t += 100) w.record(t, t < 30_000 ? 1 : 100);
    const merged = new Float64Array(LATENCY_BUCKETS);
    assert.equal(w.addInto(59_999, merged), 600);
    assert.deepEqual(quantilesOf(merged, [0.25, 0.75]).map(about), [1, 100]);
    // 30 s on: the first half (1 ms) left the window, only 100 ms remain.
    const later = new Float64Array(LATENCY_BUCKETS);
    assert.equal(w.addInto(89_999, later), 300);
    assert.equal(about(quantilesOf(later, [0.01])[0]), 100);
    // Recording after a gap longer than the window starts from nothing.
    w.record(500_000, 5);
    const fresh = new Float64Array(LATENCY_BUCKETS);
    assert.equal(w.addInto(500_000, fresh), 1);
    assert.equal(w.addInto(700_000, new Float64Array(LATENCY_BUCKETS)), 0, 'an idle window reads empty');
  });
});

describe('dashboard hot path: clock reads per message', () => {
  /** Counts Date.now() calls made while `run` runs (the clock read costs ~0.15 µs on these machines). */
  function clockReads(run: () => void): number {
    const real = Date.now;
    let reads = 0;
    Date.now = () => {
      reads++;
      return real();
    };
    try {
      run();
    } finally {
      Date.now = real;
    }
    return reads;
  }

  it('the model counts an event at its own time and reads no clock for it', () => {
    let model!: SystemModel;
    const reads = clockReads(() => {
      const watched = watching();
      model = watched.model;
      const feed = watched.feed;
      for (let i = 0; i < 100; i++) {
        feed(received(String(i), 5_000_000));
        feed(handled(String(i), 5_000_000));
      }
    });
    assert.equal(reads, 0);
    // Counted at the events' time: the first bucket of a snapshot taken then holds them.
    const node = model.snapshot().nodes.find((n) => n.type === 'service');
    assert.equal(node?.type === 'service' && node.figures?.received, 100);
  });

  it('a worker reads the clock once per message for its two events, and makes the id text once', async () => {
    const { WorkerReport } = await import('../../../src/models/worker/worker-report.js');
    const observer = new Observer();
    const seen: ObserverEvent[] = [];
    observer.listen((e) => seen.push(e));
    const report = new WorkerReport(observer.for(source), 'w-in');
    const reads = clockReads(() => {
      for (let i = 0n; i < 10n; i++) {
        const mark = report.received(i, 1);
        report.handled(i, mark, 2.4, [{ id: i, case: true, queues: ['w-out'] }], []);
      }
    });
    assert.equal(reads, 10);
    const [r, h] = seen;
    assert.ok(r?.type === 'received' && h?.type === 'handled');
    assert.equal(h.at, Math.round(r.at + 2.4), 'handled at: received at plus the handling time');
    assert.equal(h.id, r.id);
    assert.deepEqual(h.produced, [{ output: 'w-out', id: '0', label: 'true' }]);
    assert.equal('wrote' in h, false, 'nothing uploaded: no wrote list');
  });
});

describe('dashboard hot path: per-event counters rolled into the series', () => {
  it('counts land in the bucket of their events, also when the next events come a bucket later', () => {
    let now = 10_000_000; // a multiple of 5 s: a bucket starts here
    const { model, feed } = watching({ now: () => now, seriesBucketMs: 5_000, seriesLength: 4 });
    for (let i = 0; i < 10; i++) feed(received(`a${i}`, now));
    now += 6_000; // the next 5 s bucket
    for (let i = 0; i < 7; i++) feed(received(`b${i}`, now));
    const node = model.snapshot().nodes.find((n) => n.type === 'service');
    assert.ok(node?.type === 'service');
    assert.deepEqual(node.series?.in.slice(-2), [10, 7]);
  });

  it('a latency window fed by counts reads as one fed event by event', () => {
    const byEvent = new LatencyWindow(60_000, 6);
    const byCounts = new LatencyWindow(60_000, 6);
    const counts = new Uint32Array(LATENCY_BUCKETS);
    const durations = [0.005, 0.2, 0.2, 1, 3.5, 12, 80, 450, 2_000];
    for (const ms of durations) {
      byEvent.record(1_000_000, ms);
      counts[latencyBucketOf(ms)]!++;
    }
    byCounts.addCounts(1_000_000, counts, durations.length);
    assert.deepEqual(byCounts.quantiles(1_000_500, [0.5, 0.9, 0.99]), byEvent.quantiles(1_000_500, [0.5, 0.9, 0.99]));
    // Both forget it once it leaves the window.
    assert.deepEqual(byCounts.quantiles(1_070_000, [0.5]), [undefined]);
  });
});

describe('dashboard hot path: a bad event', () => {
  it('an event that cannot be counted does not stop the counting', async () => {
    const observer = new Observer();
    const model = new SystemModel();
    const detach = model.attach(observer);
    const emitter = observer.for(source);
    emitter.emit({ type: 'received', input: 'w-in', id: '1', attempt: 1 }, 5_000_000);
    // A malformed event (no error on a failure): dropped, never thrown at the emitter.
    emitter.emit({ type: 'failed', input: 'w-in', id: '1', durationMs: 1, retryInMs: 5 } as never, 5_000_000);
    emitter.emit({ type: 'received', input: 'w-in', id: '2', attempt: 1 }, 5_000_000);
    assert.equal(model.snapshot().totals.received, 2);
    for (let i = 0; i < 1_000; i++) emitter.emit({ type: 'received', input: 'w-in', id: `m${i}`, attempt: 1 }, 5_000_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(model.snapshot().totals.received, 1_002);
    assert.equal(observer.active, true, 'the model still listens');
    detach();
    assert.equal(observer.active, false);
  });
});
