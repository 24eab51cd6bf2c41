// The api model's behaviour, written once and run on every bus transport (memory, redis):
// typed RPC with validation both ways and remote errors, binary data, events with listener
// groups (each name gets every event once, members share), durability while no listener
// runs, retries and setting aside, schemas on the bus, hooks.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { bytes, createBus, datetime, defineApi, RemoteError, type TypedBus } from '../../src/models/api/mod.js';
import type { BusTransport } from '../../src/transports/bus/bus-transport.js';
import { createLogger } from '../../src/observability/logger.js';

export interface BusConformanceOptions {
  /** A new (unstarted) transport on the shared server; every call gives an independent client. */
  transport(): BusTransport;
  teardown?(): Promise<void>;
}

const logger = createLogger({ level: 'silent' });
let counter = 0;
const unique = () => `t${process.pid}_${Date.now().toString(36)}_${counter++}`;

export const waitUntil = async (what: string, predicate: () => boolean, ms = 10_000) => {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

function authApi(name: string) {
  return defineApi({
    name,
    rpcs: {
      check_password: { params: z.object({ username: z.string(), password: z.string() }), result: z.boolean() },
      echo: { params: z.object({ data: bytes(), at: datetime() }), result: z.object({ data: bytes(), at: datetime() }) },
      fail: { params: z.object({ message: z.string() }), result: z.null() },
      wrong_result: { params: z.object({}), result: z.number() },
      slow: { params: z.object({ ms: z.number() }), result: z.string() },
    },
    events: {
      user_registered: { params: z.object({ username: z.string(), email: z.string().optional() }) },
      user_deleted: { params: z.object({ username: z.string() }) },
    },
  });
}

export function busConformance(name: string, options: BusConformanceOptions): void {
  describe(`bus conformance: ${name}`, { timeout: 60_000 }, () => {
    const apiName = `test_${unique()}.auth`;
    const auth = authApi(apiName);
    let server: TypedBus<{ auth: typeof auth }>;
    let client: TypedBus<{ auth: typeof auth }>;
    const buses: { stop(): Promise<void> }[] = [];
    const bus = <A extends Record<string, typeof auth>>(apis: A, serviceName = 'svc') => {
      const b = createBus({ apis, transport: options.transport(), serviceName, logger, listenerDefaults: { reclaimIdleMs: 300, maxAttempts: 3 } });
      buses.push(b);
      return b;
    };

    before(async () => {
      server = bus({ auth }, 'auth_service');
      server.serve(auth, {
        check_password: ({ username, password }) => username === 'adam' && password === 'secret',
        echo: async ({ data, at }) => ({ data, at }),
        fail: ({ message }) => {
          throw new RangeError(message);
        },
        wrong_result: () => 'not a number' as unknown as number,
        slow: async ({ ms }) => {
          await new Promise((r) => setTimeout(r, ms));
          return 'done';
        },
      });
      client = bus({ auth }, 'web');
      await server.start();
      await client.start();
    });
    after(async () => {
      for (const b of buses.reverse()) await b.stop();
      await options.teardown?.();
    });

    it('calls an RPC and gets its typed result', async () => {
      assert.equal(await client.auth.check_password({ username: 'adam', password: 'secret' }), true);
      assert.equal(await client.auth.check_password({ username: 'adam', password: 'nope' }), false);
    });

    it('answers many calls at once, fast and slow ones mixed, each with its own result', async () => {
      // Fast answers leave with the server's next read, slow ones while it waits for calls.
      const calls = Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? client.auth.slow({ ms: 5 + (i % 7) * 5 }).then((r) => assert.equal(r, 'done'))
          : client.auth.check_password({ username: 'adam', password: i % 2 ? 'secret' : 'nope' }).then((r) => assert.equal(r, i % 2 === 1, `call ${i}`)),
      );
      await Promise.all(calls);
    });

    it('round-trips binary data and dates in params and results', async () => {
      const data = new Uint8Array([0, 1, 2, 254, 255]);
      const at = new Date('2024-05-06T07:08:09.010Z');
      const out = await client.auth.echo({ data, at });
      assert.ok(out.data instanceof Uint8Array);
      assert.deepEqual([...out.data], [...data]);
      assert.equal(out.at.toISOString(), at.toISOString());
    });

    it('brings the remote error type and message to the caller', async () => {
      await assert.rejects(client.auth.fail({ message: 'out of range' }), (err: unknown) => {
        assert.ok(err instanceof RemoteError);
        assert.equal(err.remoteType, 'RangeError');
        assert.equal(err.remoteMessage, 'out of range');
        assert.match(err.message, new RegExp(`${apiName.replace('.', '\\.')}\\.fail\\(\\)`));
        return true;
      });
    });

    it('refuses invalid outgoing params naming API, member, field and type', async () => {
      await assert.rejects(client.auth.check_password({ username: 42 as unknown as string, password: 'x' }), (err: Error) => {
        assert.match(err.message, /SY_ERR_VALIDATION/);
        assert.match(err.message, new RegExp(`RPC ${apiName.replace('.', '\\.')}\\.check_password\\(\\) parameters`));
        assert.match(err.message, /field "username": expected string, got integer/);
        return true;
      });
    });

    it('a serving side that returns the wrong type gives the caller an error naming the response field', async () => {
      await assert.rejects(client.auth.wrong_result({}), (err: unknown) => {
        assert.ok(err instanceof RemoteError);
        assert.match(err.remoteMessage, /wrong_result\(\) response/);
        assert.match(err.remoteMessage, /expected number/);
        return true;
      });
    });

    it('an untyped caller with invalid params is refused by the serving side (incoming validation)', async () => {
      const raw = bus({}, 'raw');
      await raw.start();
      // No local declaration: validation against the schema on the bus happens before sending.
      await assert.rejects(raw.api(apiName).call('check_password', { username: 'a' }), /field "password": expected string, got undefined/);
    });

    it('fails an RPC nobody serves, naming it (at once where the transport knows, else at the timeout)', async () => {
      const otherName = `nobody_${unique()}.api`;
      const other = defineApi({ name: otherName, rpcs: { ping: { params: z.object({}), result: z.string() } } });
      const b = createBus({ apis: { other }, transport: options.transport(), logger, settings: { rpcTimeoutMs: 300 } });
      buses.push(b);
      await b.start();
      await assert.rejects(b.other.ping({}), (err: Error) => {
        assert.match(err.message, /SY_ERR_REQUEST_TIMEOUT.*ping\(\).*300 ms|SY_ERR_NO_RESPONDER/);
        assert.ok(err.message.includes(otherName), err.message);
        return true;
      });
    });

    it('publishes schemas on the bus that a client without the code can use', async () => {
      const raw = bus({}, 'inspector');
      await raw.start();
      const schemas = raw.schemas();
      const s = schemas[apiName];
      assert.ok(s, 'the served API schema is on the bus');
      const params = s.rpcs.check_password as { parameters: Record<string, unknown> };
      assert.equal(params.parameters.title, `RPC ${apiName}.check_password() parameters`);
      assert.equal(params.parameters.$schema, 'http://json-schema.org/draft-07/schema#');
      assert.deepEqual(params.parameters.required, ['username', 'password']);
      assert.equal(params.parameters.additionalProperties, false);
      assert.equal(await raw.api(apiName).call('check_password', { username: 'adam', password: 'secret' }), true);
    });

    it('delivers each event once to every listener name, members of one name share them', async () => {
      const a1: string[] = [];
      const a2: string[] = [];
      const b: string[] = [];
      const m1 = bus({ auth }, 'mail');
      const m2 = bus({ auth }, 'mail');
      const st = bus({ auth }, 'stats');
      await m1.auth.user_registered.listen((p) => void a1.push(p.username), { listenerName: 'welcome' });
      await m2.auth.user_registered.listen((p) => void a2.push(p.username), { listenerName: 'welcome' });
      await st.auth.user_registered.listen((p) => void b.push(p.username), { listenerName: 'count' });
      await Promise.all([m1.start(), m2.start(), st.start()]);
      const N = 40;
      for (let i = 0; i < N; i++) await client.auth.user_registered.fire({ username: `u${i}` });
      await waitUntil('every event at both listener names', () => a1.length + a2.length >= N && b.length >= N);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(a1.length + a2.length, N, 'listener "welcome" got each event once');
      assert.deepEqual([...a1, ...a2].sort(), Array.from({ length: N }, (_, i) => `u${i}`).sort());
      assert.equal(b.length, N, 'listener "count" got every event too');
    });

    it('one handler listens to several events and learns which one arrived', async () => {
      const seen: string[] = [];
      const l = bus({ auth }, 'audit');
      await l.listen([l.auth.user_registered, l.auth.user_deleted], (p, ctx) => void seen.push(`${ctx.event}:${p.username}`), { listenerName: 'audit_log' });
      await l.start();
      await client.auth.user_registered.fire({ username: 'x' });
      await client.auth.user_deleted.fire({ username: 'y' });
      await waitUntil('both events', () => seen.length >= 2);
      assert.deepEqual(seen.sort(), ['user_deleted:y', 'user_registered:x']);
    });

    it('keeps events fired while no listener runs and delivers them when one starts', async () => {
      const first: string[] = [];
      const l1 = bus({ auth }, 'durable');
      const sub = await l1.auth.user_deleted.listen((p) => void first.push(p.username), { listenerName: 'archive' });
      await l1.start();
      await l1.stop();
      void sub;
      for (let i = 0; i < 5; i++) await client.auth.user_deleted.fire({ username: `gone${i}` });
      const later: string[] = [];
      const l2 = bus({ auth }, 'durable');
      await l2.auth.user_deleted.listen((p) => void later.push(p.username), { listenerName: 'archive' });
      await l2.start();
      await waitUntil('the 5 events fired while no listener ran', () => later.length >= 5);
      assert.deepEqual(later.sort(), ['gone0', 'gone1', 'gone2', 'gone3', 'gone4']);
      assert.equal(first.length, 0);
    });

    it('retries a failing handler and sets the event aside after maxAttempts; others flow', async () => {
      const attempts: number[] = [];
      const ok: string[] = [];
      const l = bus({ auth }, 'flaky');
      await l.auth.user_registered.listen(
        (p, ctx) => {
          if (p.username === 'poison') {
            attempts.push(ctx.attempt);
            throw new Error('cannot handle poison');
          }
          ok.push(p.username);
        },
        { listenerName: 'picky', maxAttempts: 3, reclaimIdleMs: 200 },
      );
      await l.start();
      await client.auth.user_registered.fire({ username: 'poison' });
      for (let i = 0; i < 5; i++) await client.auth.user_registered.fire({ username: `fine${i}` });
      await waitUntil('3 attempts at the poison event', () => attempts.length >= 3 && ok.length >= 5, 15_000);
      await new Promise((r) => setTimeout(r, 800));
      assert.deepEqual(attempts, [1, 2, 3], 'tried exactly maxAttempts times');
      assert.equal(ok.length, 5);
      const recent = l.describe().recentEvents.filter((e) => e.direction === 'set-aside');
      assert.equal(recent.length, 1);
    });

    it('runs onStart and onStop hooks, sync and async', async () => {
      const order: string[] = [];
      const b = bus({ auth }, 'hooks');
      b.onStart(() => void order.push('start-sync'));
      b.onStart(async () => {
        await new Promise((r) => setTimeout(r, 5));
        order.push('start-async');
      });
      b.onStop(async () => void order.push('stop'));
      await b.start();
      await b.stop();
      assert.deepEqual(order, ['start-sync', 'start-async', 'stop']);
    });
  });
}
