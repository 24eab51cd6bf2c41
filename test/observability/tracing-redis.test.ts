// One trace across an API call that fires an event handled by a listener in ANOTHER process,
// over a real Redis, with the `tracing` setting on in both processes' registries: the call
// (CLIENT) → the served call (SERVER) → the fired event (PRODUCER) in this process, the
// listener's handling (CONSUMER) in the other, all in one trace, each hop the child of the
// one before. The listener process exports its spans to a file the test reads.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, trace } from '@opentelemetry/api';
import { createBus } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { registerTestSdk, type SpanRecord, type TestSdk } from '../support/tracing-sdk.js';
import { ordersApi } from './fixtures/tracing-api.js';

const T = { timeout: 60_000 };
const LISTENER = fileURLToPath(new URL('./fixtures/tracing-listener.ts', import.meta.url));

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('tracing an API call and the event it fires across processes over Redis', () => {
  let redis: RedisServer;
  let dir: string;
  let sdk: TestSdk;
  let listener: ChildProcess | undefined;
  before(async () => {
    sdk = registerTestSdk();
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'sy-tracing-redis-'));
  });
  after(async () => {
    if (listener?.pid && listener.exitCode === null) {
      const exited = new Promise((r) => listener!.once('exit', r));
      process.kill(-listener.pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-listener!.pid!, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await redis?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
    await sdk?.shutdown();
  });

  it('one trace: call → served call → fire → the other process\'s listener, each the child of the one before', T, async () => {
    const apiName = `orders${process.pid}`;
    const spansFile = join(dir, 'listener-spans.jsonl');
    listener = spawn(process.execPath, ['--import', 'tsx', LISTENER, redis.url, apiName, spansFile], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    listener.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    listener.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until('the listener process to listen', () => out.includes('ready') || listener!.exitCode !== null, 30_000);
    assert.ok(out.includes('ready'), `the listener process failed:\n${out}`);

    const registry = new TransportRegistry({ logger: createLogger({ level: 'silent' }), tracing: true });
    const transport = (await registry.open(redis.url, 'api', ['bus'])).bus!;
    const orders = ordersApi(apiName);
    const bus = createBus({ transport, closeTransports: false, serviceName: 'shop', logger: createLogger({ level: 'silent' }), apis: { orders } });
    bus.serve(orders, {
      place: async ({ item }) => {
        await bus.orders.placed.fire({ item });
        return `placed ${item}`;
      },
    });
    try {
      await bus.start();
      const answer = await trace.getTracer('test').startActiveSpan('checkout', async (span) => {
        try {
          return await bus.orders.place({ item: 'book' });
        } finally {
          span.end();
        }
      });
      assert.equal(answer, 'placed book');
      const theirs = (): SpanRecord[] => (existsSync(spansFile) ? readFileSync(spansFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpanRecord) : []);
      await until('the listener\'s span', () => theirs().some((s) => s.name === `listen ${apiName}.placed`));

      const ours = sdk.spans();
      const find = (spans: SpanRecord[], name: string) => {
        const s = spans.find((x) => x.name === name);
        assert.ok(s, `span "${name}" missing; got ${spans.map((x) => x.name).join(', ')}`);
        return s;
      };
      const root = find(ours, 'checkout');
      const call = ours.find((s) => s.name === `${apiName}.place` && s.kind === SpanKind.CLIENT)!;
      const served = ours.find((s) => s.name === `${apiName}.place` && s.kind === SpanKind.SERVER)!;
      assert.ok(call && served, `client and server spans of the call; got ${ours.map((s) => `${s.name}/${s.kind}`).join(', ')}`);
      const fired = find(ours, `fire ${apiName}.placed`);
      const handled = find(theirs(), `listen ${apiName}.placed`);
      const chain: [SpanRecord, SpanRecord, number][] = [[call, root, SpanKind.CLIENT], [served, call, SpanKind.SERVER], [fired, served, SpanKind.PRODUCER], [handled, fired, SpanKind.CONSUMER]];
      for (const [span, parent, kind] of chain) {
        assert.equal(span.traceId, root.traceId, `${span.name} is in the one trace`);
        assert.equal(span.parentSpanId, parent.spanId, `${span.name} (${span.kind}) is the child of ${parent.name} (${parent.kind})`);
        assert.equal(span.kind, kind);
      }
    } finally {
      await bus.stop();
      await registry.close();
    }
  });
});
