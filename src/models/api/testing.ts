// Testing utilities for users' unit tests: a bus on a private in-process transport that
// records every call and event, with assertions ("this RPC was called with", "this event
// was fired with") and stubs for APIs whose real service is not running.

import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { createLogger } from '../../observability/logger.js';
import { BusOverTransport } from '../../transports/bus/bus-over-transport.js';
import { MemoryTransport } from '../../transports/memory/mod.js';
import { createBus, type BusOptions, type RpcRef, type TypedBus } from './api-client.js';
import type { Implementation } from './bus.js';
import type { AnyApi } from './define.js';
import type { EventRef } from './events.js';
import { TAPS } from './taps.js';

export interface Recorded {
  readonly api: string;
  readonly member: string;
  readonly params: unknown;
}

/** True when every key of `expected` is in `actual` with an equal value (deep). */
function matches(actual: unknown, expected: Record<string, unknown> | undefined): boolean {
  if (expected === undefined) return true;
  if (actual === null || typeof actual !== 'object') return false;
  return Object.entries(expected).every(([k, v]) => isDeepStrictEqual((actual as Record<string, unknown>)[k], v));
}

export type TestBus<A extends Record<string, AnyApi>> = TypedBus<A> & {
  /** Calls made through this bus, optionally of one RPC. */
  calls(rpc?: RpcRef): Recorded[];
  /** Events fired through this bus, optionally of one event. */
  fired(event?: EventRef): Recorded[];
  assertCalled(rpc: RpcRef, params?: Record<string, unknown>): void;
  assertNotCalled(rpc: RpcRef): void;
  assertFired(event: EventRef, params?: Record<string, unknown>): void;
  assertNotFired(event: EventRef): void;
  /** Serves an API with only some procedures; the others fail saying they are not stubbed. */
  stub<S extends AnyApi>(api: S, procedures: Partial<Implementation<S>>): void;
  /** Forgets what was recorded. */
  reset(): void;
};

export function createTestBus<const A extends Record<string, AnyApi> = {}>(options: Partial<BusOptions<A>> = {}): TestBus<A> {
  const bus = createBus<A>({
    logger: createLogger({ level: 'silent' }),
    serviceName: 'test',
    ...options,
    transport: options.transport ?? new BusOverTransport(new MemoryTransport()),
  } as BusOptions<A>);
  const calls: Recorded[] = [];
  const fired: Recorded[] = [];
  // The parameters as validated (defaults applied) come through the bus's payload tap (taps.ts).
  bus[TAPS].add({
    called: (api, member, params) => void calls.push({ api, member, params }),
    fired: (api, member, params) => void fired.push({ api, member, params }),
  });
  const callsOf = (rpc?: RpcRef) => calls.filter((c) => !rpc || (c.api === rpc.api && c.member === rpc.procedure));
  const firedOf = (event?: EventRef) => fired.filter((f) => !event || (f.api === event.api && f.member === event.event));
  const describe = (list: Recorded[]) => (list.length === 0 ? 'none' : list.map((r) => JSON.stringify(r.params)).join(', '));
  return Object.assign(bus, {
    calls: callsOf,
    fired: firedOf,
    assertCalled(rpc: RpcRef, params?: Record<string, unknown>) {
      const seen = callsOf(rpc);
      assert.ok(seen.some((c) => matches(c.params, params)), `expected RPC ${rpc.api}.${rpc.procedure}() to be called${params ? ` with ${JSON.stringify(params)}` : ''}; calls seen: ${describe(seen)}`);
    },
    assertNotCalled(rpc: RpcRef) {
      const seen = callsOf(rpc);
      assert.equal(seen.length, 0, `expected RPC ${rpc.api}.${rpc.procedure}() not to be called; calls seen: ${describe(seen)}`);
    },
    assertFired(event: EventRef, params?: Record<string, unknown>) {
      const seen = firedOf(event);
      assert.ok(seen.some((f) => matches(f.params, params)), `expected event ${event.api}.${event.event} to be fired${params ? ` with ${JSON.stringify(params)}` : ''}; fired: ${describe(seen)}`);
    },
    assertNotFired(event: EventRef) {
      const seen = firedOf(event);
      assert.equal(seen.length, 0, `expected event ${event.api}.${event.event} not to be fired; fired: ${describe(seen)}`);
    },
    stub<S extends AnyApi>(api: S, procedures: Partial<Implementation<S>>) {
      const full: Record<string, unknown> = {};
      for (const name of Object.keys(api.rpcs)) {
        full[name] =
          (procedures as Record<string, unknown>)[name] ??
          (() => {
            throw new Error(`${api.name}.${name}() is not stubbed; pass it to stub()`);
          });
      }
      bus.serve(api, full as Implementation<S>);
    },
    reset() {
      calls.length = 0;
      fired.length = 0;
    },
  }) as TestBus<A>;
}
