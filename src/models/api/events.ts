// Event handles and listening: `bus.<api>.<event>.fire(params)`, `.listen(handler, {
// listenerName })`, and `bus.listen([...events], handler, ...)` for one handler on several
// events. Each listener name gets every event once; processes sharing the name share them.

import type { z } from 'zod';
import type { EventDeclaration, ParamsOf, ParsedParamsOf } from './define.js';

export interface EventContext {
  readonly api: string;
  readonly event: string;
  /** The event's id, the same in every listener and on redelivery. */
  readonly id: string;
  /** 1 on the first delivery to this listener, more after a failure or a crash. */
  readonly attempt: number;
}

export type EventHandler<P = Record<string, unknown>> = (params: P, context: EventContext) => unknown;

export interface ListenOptions {
  /** Required: names this listener; every listener name gets each event once. */
  readonly listenerName: string;
  /**
   * What a handler error does: "retry" (default) leaves the event unacked so it comes
   * back after the reclaim idle time, and sets it aside after maxAttempts; "log" logs and
   * acks (Lightbus's ACKNOWLEDGE_AND_LOG).
   */
  readonly onError?: 'retry' | 'log';
  readonly prefetch?: number;
  readonly reclaimIdleMs?: number;
  readonly maxAttempts?: number;
}

export interface Listener {
  readonly name: string;
  stop(): Promise<void>;
}

/** One event of one API, with its declaration when this process has the API's code. */
export interface EventRef<D extends EventDeclaration = EventDeclaration> {
  readonly api: string;
  readonly event: string;
  readonly declaration?: D;
}

export interface EventHandle<D extends EventDeclaration = EventDeclaration> extends EventRef<D> {
  fire(params: ParamsOf<D>): Promise<void>;
  listen(handler: EventHandler<ParsedParamsOf<D>>, options: ListenOptions): Promise<Listener>;
}

/** The params type a handler of several events receives: any of theirs. */
export type ParamsOfRefs<R extends readonly EventRef[]> = {
  [K in keyof R]: R[K] extends EventRef<infer D> ? z.output<D['params']> : never;
}[number];
