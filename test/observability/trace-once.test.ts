// A failure that repeats on every retry is logged one line per attempt, its stack trace once
// (issue 15): the helper, an API listener's and a served RPC's lines; the worker's lines (from
// the observer stream) carry the error's code and message only.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { createBus, defineApi } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { errorInfo, Observer } from '../../src/observability/observer.js';
import { observerLog } from '../../src/observability/observer-log.js';
import { traceOnce } from '../../src/observability/trace-once.js';
import { BusOverTransport } from '../../src/transports/bus/bus-over-transport.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';

function capture() {
  const lines: Array<Record<string, unknown> & { err?: { stack?: string; message?: string } }> = [];
  const raw: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => void (raw.push(l), lines.push(JSON.parse(l) as never)) } });
  return { lines, raw, logger };
}

/** The same failure at the same place, as a retry of an unreachable responder throws it. */
function callResponder(attempt: number): Error {
  const err = new Error(`connect ECONNREFUSED 127.0.0.1:9 (attempt ${attempt})`) as Error & { code: string };
  err.code = 'ECONNREFUSED';
  return err;
}

const hasTrace = (l: { err?: { stack?: string } }) => typeof l.err?.stack === 'string' && /\n\s+at /.test(l.err.stack);

describe('traceOnce', () => {
  it('hands the error over whole the first time, then type, code and message only', () => {
    const trace = traceOnce();
    const [first, second] = [1, 2].map(callResponder);
    assert.equal(trace(first), first);
    assert.deepEqual(trace(second), { type: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9 (attempt 2)', stack: '(the same failure as logged before with its trace)' });
    // Another place, another trace.
    const elsewhere = new TypeError('x');
    assert.equal(trace(elsewhere), elsewhere);
    assert.equal(trace('not an error'), 'not an error');
  });

  it('remembers a bounded number of failures', () => {
    const trace = traceOnce(2);
    const make = (n: number) => { const e = new Error('e'); e.stack = `Error: e\n    at f${n} (x.js:1:1)`; return e; };
    for (const n of [1, 2, 3]) trace(make(n));
    // 1 was forgotten when 3 came: its trace is logged again.
    const again = make(1);
    assert.equal(trace(again), again);
  });
});

describe('a worker whose process fails on every attempt', () => {
  it('logs one line per attempt, naming the error without a stack trace (from the observer stream)', () => {
    const { lines, raw, logger } = capture();
    const observer = new Observer();
    observerLog(observer, logger);
    const emit = observer.for({ model: 'worker', service: 'upper', transport: 'memory' });
    for (let attempt = 1; attempt <= 4; attempt++) {
      emit.emit({ type: 'failed', input: 'upper-in', id: '7', durationMs: 1, error: errorInfo(callResponder(attempt)), retryInMs: 100 });
    }
    const failed = lines.filter((l) => l.msg === 'message failed');
    assert.equal(failed.length, 4);
    assert.deepEqual(failed.map(hasTrace), [false, false, false, false]);
    assert.deepEqual(failed.map((l) => l.err?.message), [1, 2, 3, 4].map((a) => `connect ECONNREFUSED 127.0.0.1:9 (attempt ${a})`));
    assert.ok(raw.every((l) => l.trimEnd().split('\n').length === 1), 'one line each');
  });
});

describe('an API listener whose handler fails on every attempt', () => {
  it('logs one line per attempt, with the stack trace in the first only', async () => {
    const { lines, logger } = capture();
    const api = defineApi({ name: 'trace.once', rpcs: {}, events: { happened: { params: z.object({ n: z.number() }) } } });
    const bus = createBus({ apis: { traced: api }, transport: new BusOverTransport(new MemoryTransport()), logger, serviceName: 'trace' });
    let calls = 0;
    await bus.traced.happened.listen(() => {
      calls++;
      throw callResponder(calls);
    }, { listenerName: 'notify', maxAttempts: 3, reclaimIdleMs: 20 });
    await bus.start();
    try {
      await bus.traced.happened.fire({ n: 1 });
      const end = Date.now() + 10_000;
      while (lines.filter((l) => String(l.msg).startsWith('an event handler failed')).length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await bus.stop();
    }
    const failed = lines.filter((l) => String(l.msg).startsWith('an event handler failed'));
    assert.equal(failed.length, 3, JSON.stringify(failed));
    assert.deepEqual(failed.map(hasTrace), [true, false, false]);
  });
});

describe('a served RPC whose responder is unreachable on every call', () => {
  it('logs one line per call, with the stack trace in the first only', async () => {
    const { lines, logger } = capture();
    const api = defineApi({ name: 'trace.rpc', rpcs: { lookup: { params: z.object({}), result: z.string() } }, events: {} });
    const bus = createBus({ apis: { traced: api }, transport: new BusOverTransport(new MemoryTransport()), logger, serviceName: 'trace' });
    let calls = 0;
    bus.serve(api, { lookup: () => { calls++; throw callResponder(calls); } });
    await bus.start();
    try {
      for (let i = 0; i < 3; i++) await assert.rejects(bus.traced.lookup({}), /ECONNREFUSED/);
    } finally {
      await bus.stop();
    }
    const failed = lines.filter((l) => String(l.msg).includes('failed; the error goes back to the caller'));
    assert.equal(failed.length, 3, JSON.stringify(lines));
    assert.deepEqual(failed.map(hasTrace), [true, false, false]);
  });
});
