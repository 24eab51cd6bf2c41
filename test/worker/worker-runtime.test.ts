// The worker model on the one runtime: its runner makes components from worker(...)
// definitions on the transport the registry opens, the Runtime starts and stops them, and
// what happens to each message comes out as observer events, from which the metrics
// (scraped over /metrics) and the log lines (observer-log.ts) are derived.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MapConfigSource, parseSysMap } from '../../src/config/sysmap.js';
import { runner } from '../../src/models/worker/runner.js';
import { workerSettingsSection, type WorkerSettings } from '../../src/models/worker/settings.js';
import { worker } from '../../src/models/worker/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import { observerLog } from '../../src/observability/observer-log.js';
import { observerMetrics } from '../../src/observability/observer-metrics.js';
import { Observer, type Emitter, type EventSource, type ObserverEvent } from '../../src/observability/observer.js';
import { resolveSettings } from '../../src/config/settings/settings.js';
import { modelOf, type RunContext } from '../../src/runtime/model.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import type { MemoryTransport } from '../../src/transports/memory/mod.js';
import { deadLetterQueueOf } from '../../src/transports/transport.js';
import { capturingLogger } from '../support/log-capture.js';

const T = { timeout: 20_000 };
const MAP = `
services:
  ingest:
    in: ingest-in
    out:
      - { case: true, queues: [good-a, good-b] }
      - { case: "odd", queues: [odd-q] }
    buckets: { out: out-bucket }
`;

const defaults = (): WorkerSettings => resolveSettings([workerSettingsSection], []).worker;

/** A Runtime running the worker runner's components for `definitions` on an in-process memory transport. */
async function runWorkers(dir: string, definitions: Parameters<typeof runner.components>[0], logger = createLogger({ level: 'silent' }), observer?: Observer) {
  const runtime = new Runtime({ logger, ...(observer ? { observer } : {}) });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const store = new FsObjectStore({ root: join(dir, 'storage') });
  const config = new MapConfigSource(parseSysMap(MAP, 'map.yaml'));
  const ctx: RunContext<WorkerSettings> = {
    logger, observer: runtime.observer, transports, settings: { ...defaults(), stagingDir: join(dir, 'staging') }, transport: runner.defaultTransport,
    stateDir: join(dir, 'state'), configSource: async () => config, objectStore: async () => store,
  };
  const events: ObserverEvent[] = [];
  if (!observer) runtime.observer.listen((e) => void events.push(e));
  for (const c of await runner.components(definitions, ctx)) await runtime.add(c);
  const queues = (await transports.open(runner.defaultTransport, 'worker', runner.needs)).queues as MemoryTransport;
  return { runtime, queues, events, ctx };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The events of one message (by id), as "type" or "type:detail" strings. */
function story(events: readonly ObserverEvent[], id: string | undefined): string[] {
  return events
    .filter((e) => (e.type === 'received' || e.type === 'handled' || e.type === 'failed' || e.type === 'dead-lettered') && e.id === id)
    .map((e) => {
      switch (e.type) {
        case 'received': return `received#${e.attempt}`;
        case 'failed': return `failed(retry ${e.retryInMs !== undefined ? 'yes' : 'no'})`;
        case 'dead-lettered': return `dead-lettered:${e.reasonKind}`;
        default: return e.type;
      }
    });
}

describe('worker model on the runtime', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-worker-runtime-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('marks its definitions for the runtime (kind stays)', () => {
    const w = worker('ingest', () => []);
    assert.equal(modelOf(w), 'worker');
    assert.equal(w.kind, 'worker');
    assert.equal(Object.keys(w).includes('kind'), true);
    assert.deepEqual(JSON.parse(JSON.stringify({ ...w, process: undefined, retry: undefined })).kind, 'worker', 'the mark never shows in JSON');
  });

  it('reports a success, a failure retried then dead-lettered, an unrouted case and a refused body, in that shape', T, async () => {
    const ingest = worker('ingest', async (id, { writeFile }) => {
      if (id === 2n) throw new Error('two is unlucky');
      if (id === 3n) return [[id, 'nowhere']];
      if (id === 1n) {
        const out = await writeFile('out', id);
        await out.write('one');
        await out.close();
      }
      return [[id, true], [id + 100n, 'odd']];
    }, { retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 } });
    const { runtime, queues, events } = await runWorkers(join(dir, 'events'), [ingest]);
    try {
      await runtime.start();
      for (const body of ['1', '2', '3', 'not-an-id']) await queues.send('ingest-in', { body: Buffer.from(body) });
      await until(() => events.filter((e) => e.type === 'handled' || e.type === 'dead-lettered').length === 4, 'four messages settled');

      const ready = events.find((e) => e.type === 'state' && e.state === 'ready');
      assert.ok(ready && ready.type === 'state');
      assert.deepEqual({ model: ready.model, service: ready.service, transport: ready.transport }, { model: 'worker', service: 'ingest', transport: 'memory' });
      assert.deepEqual(ready.inputs, [{ kind: 'queue', name: 'ingest-in' }]);
      assert.deepEqual(ready.outputs, [
        { kind: 'queue', name: 'good-a', label: 'true' }, { kind: 'queue', name: 'good-b', label: 'true' }, { kind: 'queue', name: 'odd-q', label: 'odd' },
      ]);

      // Success: received then handled, with one produced entry per routed result per queue and the upload.
      assert.deepEqual(story(events, '1'), ['received#1', 'handled']);
      const done = events.find((e) => e.type === 'handled' && e.id === '1');
      assert.ok(done && done.type === 'handled');
      assert.equal(done.input, 'ingest-in');
      assert.ok(done.durationMs >= 0);
      assert.deepEqual(done.produced, [
        { output: 'good-a', id: '1', label: 'true' }, { output: 'good-b', id: '1', label: 'true' }, { output: 'odd-q', id: '101', label: 'odd' },
      ]);
      assert.deepEqual(done.wrote, ['out-bucket/1']);

      // Failure: each attempt received, the first failed with a retry, the last dead-lettered.
      assert.deepEqual(story(events, '2'), ['received#1', 'failed(retry yes)', 'received#2', 'dead-lettered:max_attempts']);
      const failed = events.find((e) => e.type === 'failed' && e.id === '2');
      assert.ok(failed && failed.type === 'failed');
      assert.equal(failed.error.message, 'two is unlucky');
      assert.ok(failed.retryInMs !== undefined && failed.retryInMs > 0 && failed.retryInMs <= 10, `retry in ${failed.retryInMs} ms (the policy's first delay, less jitter)`);

      assert.deepEqual(story(events, '3'), ['received#1', 'dead-lettered:no_route']);

      // Refusal: a body that is not an id is dead-lettered with no "received" and no id.
      const refused = events.filter((e) => e.type === 'dead-lettered' && e.id === undefined);
      assert.equal(refused.length, 1);
      assert.ok(refused[0]!.type === 'dead-lettered' && refused[0]!.reasonKind === 'bad_id' && refused[0]!.input === 'ingest-in');
      assert.equal(events.filter((e) => e.type === 'received').length, 4, 'ids 1 and 3 once, id 2 twice; the bad body never');
      assert.equal(queues.peek(deadLetterQueueOf('ingest-in')).length, 3);
    } finally {
      await runtime.stop();
    }
    const states = events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
    assert.deepEqual(states, ['starting', 'ready', 'draining', 'stopped']);
  });

  it('builds no event when nobody listens (the hot path checks emitter.active)', T, async () => {
    /** An observer whose emitters say nobody listens, and count the events handed to them anyway. */
    class Inactive extends Observer {
      built = 0;
      override for(_source: EventSource): Emitter {
        return { active: false, emit: () => void this.built++ };
      }
    }
    const observer = new Inactive();
    const { runtime, queues } = await runWorkers(join(dir, 'quiet'), [worker('ingest', (id) => (id === 6n ? [[id, 'nowhere']] : [[id, true]]))], undefined, observer);
    try {
      await runtime.start();
      for (const body of ['5', '6', 'x']) await queues.send('ingest-in', { body: Buffer.from(body) });
      await until(() => queues.peek('good-a').length === 1 && queues.peek(deadLetterQueueOf('ingest-in')).length === 2, 'one result published, two dead letters');
    } finally {
      await runtime.stop();
    }
    assert.equal(observer.built, 0);
  });

  it('serves its series on /metrics and /ready through the runtime', T, async () => {
    const { runtime, queues, events } = await runWorkers(join(dir, 'metrics'), [worker('ingest', (id) => {
      if (id === 7n) throw new Error('seven fails');
      return [[id, true]];
    }, { retry: { maxAttempts: 1 } })]);
    const { registry } = observerMetrics(runtime.observer, { processMetrics: false });
    const server = await startMetricsServer({ registry, port: 0, health: () => runtime.health() });
    try {
      assert.equal((await fetch(`${server.url}/ready`)).status, 503, 'not ready before start');
      await runtime.start();
      assert.equal((await fetch(`${server.url}/ready`)).status, 200);
      for (const body of ['1', '2', '7', 'x']) await queues.send('ingest-in', { body: Buffer.from(body) });
      await until(() => events.filter((e) => e.type === 'handled' || e.type === 'dead-lettered').length === 4, 'four messages settled');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const src = 'model="worker",service="ingest",transport="memory"';
      assert.match(text, new RegExp(`^switchyard_component_ready\\{${src}\\} 1$`, 'm'));
      assert.match(text, new RegExp(`^switchyard_received_total\\{${src},input="ingest-in"\\} 3$`, 'm'));
      assert.match(text, new RegExp(`^switchyard_handled_total\\{${src},input="ingest-in"\\} 2$`, 'm'));
      assert.match(text, new RegExp(`^switchyard_sent_total\\{${src},output="good-a"\\} 2$`, 'm'));
      assert.match(text, new RegExp(`^switchyard_dead_lettered_total\\{${src},input="ingest-in",reason_kind="max_attempts"\\} 1$`, 'm'));
      assert.match(text, new RegExp(`^switchyard_dead_lettered_total\\{${src},input="ingest-in",reason_kind="bad_id"\\} 1$`, 'm'));
      assert.match(text, new RegExp(`^switchyard_in_flight\\{${src},input="ingest-in"\\} 0$`, 'm'));
      assert.match(text, new RegExp(`^switchyard_handle_duration_seconds_count\\{${src},input="ingest-in",outcome="ok"\\} 2$`, 'm'));
    } finally {
      await runtime.stop();
      await server.close();
    }
  });

  it('writes the operator\'s log lines from the stream: started, message done at info, failed, dead-lettered, stopped', T, async () => {
    const { logger, lines } = capturingLogger('info');
    const { runtime, queues, events } = await runWorkers(join(dir, 'log'), [worker('ingest', (id) => {
      if (id === 4n) throw new Error('four fails');
      return [[id, true]];
    }, { retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 5 } })], logger);
    const log = observerLog(runtime.observer, logger, { handledAt: (model) => (model === runner.model ? runner.logHandledAt : undefined) ?? 'debug' });
    try {
      await runtime.start();
      for (const body of ['3', '4']) await queues.send('ingest-in', { body: Buffer.from(body) });
      await until(() => events.filter((e) => e.type === 'handled' || e.type === 'dead-lettered').length === 2, 'two messages settled');
    } finally {
      await runtime.stop();
      log.detach();
    }
    const by = (msg: string) => lines.filter((l) => l.msg === msg);
    assert.equal(by('worker started').length, 1);
    assert.deepEqual(by('worker started')[0]!.inputs, ['ingest-in']);
    const done = by('message done');
    assert.equal(done.length, 1);
    assert.equal(done[0]!.level, 'info', 'info: the worker runner says so');
    assert.deepEqual({ model: done[0]!.model, service: done[0]!.service, transport: done[0]!.transport, input: done[0]!.input, id: done[0]!.id },
      { model: 'worker', service: 'ingest', transport: 'memory', input: 'ingest-in', id: '3' });
    assert.deepEqual(done[0]!.produced, [{ output: 'good-a', id: '3', label: 'true' }, { output: 'good-b', id: '3', label: 'true' }]);
    assert.equal(typeof done[0]!.ms, 'number');
    const failed = by('message failed');
    assert.equal(failed.length, 1);
    assert.ok(typeof failed[0]!.retryInMs === 'number' && failed[0]!.retryInMs > 0 && failed[0]!.retryInMs <= 5, `retryInMs ${String(failed[0]!.retryInMs)}`);
    assert.match(String((failed[0]!.err as { message: string }).message), /four fails/);
    assert.equal(by('message dead-lettered').length, 1);
    assert.equal(by('message dead-lettered')[0]!.reasonKind, 'max_attempts');
    assert.equal(by('worker stopped').length, 1);
    assert.equal(by('message received').length, 0, 'received is a debug line');
  });

  it('a non-Error thrown by process fails the message with SY_ERR_PROCESS from the catalogue, saying how to fix it', T, async () => {
    const { runtime, queues, events } = await runWorkers(join(dir, 'throws'), [worker('ingest', () => {
      throw 'a plain string'; // eslint-disable-line @typescript-eslint/only-throw-error
    }, { retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 5 } })]);
    try {
      await runtime.start();
      await queues.send('ingest-in', { body: Buffer.from('9') });
      await until(() => events.some((e) => e.type === 'dead-lettered'), 'the message dead-lettered');
    } finally {
      await runtime.stop();
    }
    const failed = events.find((e) => e.type === 'failed');
    assert.ok(failed && failed.type === 'failed');
    assert.equal(failed.error.code, 'SY_ERR_PROCESS');
    assert.match(failed.error.message, /"a plain string"/);
    assert.match(failed.error.message, /throw an Error/);
  });

  it('reports its edges without running (for `switchyard topology`)', T, async () => {
    const { ctx } = await runWorkers(join(dir, 'edges'), []);
    const edges = await runner.edges!([worker('ingest', () => [])], ctx);
    assert.deepEqual(edges, [{
      service: 'ingest',
      inputs: [{ kind: 'queue', name: 'ingest-in' }],
      outputs: [{ kind: 'queue', name: 'good-a', label: 'true' }, { kind: 'queue', name: 'good-b', label: 'true' }, { kind: 'queue', name: 'odd-q', label: 'odd' }],
    }]);
    await ctx.transports.close();
  });

  it('refuses a transport without queues, naming the model and what is missing', T, async () => {
    const { ctx } = await runWorkers(join(dir, 'refuse'), []);
    await assert.rejects(runner.components([worker('ingest', () => [])], { ...ctx, transport: 'zeromq' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_CAPABILITY_MISSING');
      assert.match(err.message, /worker/);
      assert.match(err.message, /queue/);
      return true;
    });
    await ctx.transports.close();
  });
});
