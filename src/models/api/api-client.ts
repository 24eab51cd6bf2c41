// Typed clients: `bus.<key>.<rpc>(params)` → typed result, `bus.<key>.<event>.fire(params)`,
// `bus.<key>.<event>.listen(handler, { listenerName })`, all inferred from the API's
// declaration. `bus.api(name)` gives an untyped client of an API known only by its schema.

import { checkApiMap } from './api-map-check.js';
import { errors } from '../../errors.js';
import { BusCore, type BusCoreOptions } from './bus.js';
import type { AnyApi, EventDeclaration, ParamsOf, ResultOf, RpcDeclaration } from './define.js';
import type { EventHandle, EventHandler, EventRef, ListenOptions, Listener, ParamsOfRefs } from './events.js';

export type RpcFunction<D extends RpcDeclaration> = ((params: ParamsOf<D>) => Promise<ResultOf<D>>) & RpcRef;

/** Which RPC a client function calls (for the testing utilities' assertions). */
export interface RpcRef {
  readonly api: string;
  readonly procedure: string;
}

export type ApiClient<A extends AnyApi> = { readonly [K in keyof A['rpcs']]: RpcFunction<A['rpcs'][K]> } & {
  readonly [K in keyof A['events']]: EventHandle<A['events'][K]>;
};

/** A client of an API this process has no code of: checked against its schema on the bus. */
export interface DynamicApiClient {
  call(procedure: string, params?: Record<string, unknown>): Promise<unknown>;
  fire(event: string, params?: Record<string, unknown>): Promise<void>;
  event(name: string): EventHandle;
}

export class Bus extends BusCore {
  /** One handler for several events: `bus.listen([bus.auth.a, bus.auth.b], handler, { listenerName })`. */
  override listen<const R extends readonly EventRef[]>(refs: R, handler: EventHandler<ParamsOfRefs<R>>, options: ListenOptions): Promise<Listener> {
    return super.listen(refs, handler, options);
  }

  api(name: string): DynamicApiClient {
    return {
      call: (procedure, params = {}) => this.call(name, procedure, params),
      fire: (event, params = {}) => this.fire(name, event, params),
      event: (event) => eventHandle(this, name, event, undefined),
    };
  }
}

export type TypedBus<A extends Record<string, AnyApi>> = Bus & { readonly [K in keyof A]: ApiClient<A[K]> };

export interface BusOptions<A extends Record<string, AnyApi>> extends BusCoreOptions {
  /** The APIs this process uses, by the key they get on the bus: `{ auth }` → `bus.auth`. */
  readonly apis?: A;
}

function eventHandle<D extends EventDeclaration>(bus: Bus, api: string, event: string, declaration: D | undefined): EventHandle<D> {
  const ref = { api, event, ...(declaration ? { declaration } : {}) };
  return {
    ...ref,
    fire: (params) => bus.fire(api, event, params as Record<string, unknown>),
    listen: (handler, options) => bus.listen([ref], handler as EventHandler<unknown>, options),
  };
}

function clientOf(bus: Bus, api: AnyApi): Record<string, unknown> {
  const client: Record<string, unknown> = {};
  for (const name of Object.keys(api.rpcs)) {
    const fn = (params: Record<string, unknown> = {}) => bus.call(api.name, name, params);
    client[name] = Object.defineProperties(fn, { api: { value: api.name }, procedure: { value: name } });
  }
  for (const [name, decl] of Object.entries(api.events)) client[name] = eventHandle(bus, api.name, name, decl);
  return Object.freeze(client);
}

/** A bus with typed clients of `apis`; start it with `await bus.start()`. */
export function createBus<const A extends Record<string, AnyApi> = {}>(options: BusOptions<A>): TypedBus<A> {
  if (options.apis !== undefined) checkApiMap('createBus({ apis })', options.apis);
  const bus = new Bus(options);
  for (const [key, api] of Object.entries(options.apis ?? {})) {
    if (key in bus) throw new errors.SY_ERR_API_DEFINITION(api.name, `the key "${key}" clashes with a method of the bus; use another key in createBus({ apis })`);
    bus.declare(api);
    Object.defineProperty(bus, key, { value: clientOf(bus, api), enumerable: true });
  }
  return bus as TypedBus<A>;
}

/** createBus, then start: for processes that only call and fire. */
export async function connectBus<const A extends Record<string, AnyApi> = {}>(options: BusOptions<A>): Promise<TypedBus<A>> {
  const bus = createBus(options);
  await bus.start();
  return bus;
}
