// The one observer stream (the runtime owns one per process). Every model reports what happens to its work here, in one shape,
// and everything that watches a running system is derived from it: metrics (one registry,
// labels model/service/transport), log lines, health, the dashboard, traces. Watchers never
// change what a model does.
//
// Emitting is cheap when nobody watches: emitters check `observer.active` before building
// an event, so a process without metrics, dashboard or tracing pays one property read per
// step.

/** The five programming models. */
export const MODEL_KINDS = ['worker', 'api', 'service', 'task', 'provider'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Where a component is in its life; see runtime/runtime.ts. */
export type ComponentState = 'starting' | 'ready' | 'draining' | 'stopped' | 'failed';

/** Who reports: one running component of one model. */
export interface EventSource {
  readonly model: ModelKind;
  /** The service's name: worker name, bus service name, service_framework service, task slug, provider service_name. */
  readonly service: string;
  /** The transport it runs on, as named by the registry ("memory", "amqp", "redis", "zeromq", "unix", "http"). */
  readonly transport: string;
}

/** An error as watchers see it: its code where it has one, and its message (never a request body). */
export interface ErrorInfo {
  readonly code?: string;
  readonly message: string;
}

/**
 * One edge of the system a component declares: where work comes in or goes out. `kind` says
 * what it is on the wire; `name` is the name there (a queue, a stream, an RPC, an address, a
 * route, a socket path); `label` is what selects it (a worker's case value).
 */
export interface Edge {
  readonly kind: 'queue' | 'topic' | 'rpc' | 'event' | 'socket' | 'state' | 'http' | 'unix';
  readonly name: string;
  readonly label?: string;
}

/** An output produced while handling one unit of work. */
export interface Produced {
  readonly output: string;
  readonly id: string;
  readonly label?: string;
}

export type ObserverEventBody =
  /** The component's state changed; on "ready" it lists the edges it serves and sends to. */
  | { readonly type: 'state'; readonly state: ComponentState; readonly error?: ErrorInfo; readonly inputs?: readonly Edge[]; readonly outputs?: readonly Edge[] }
  /**
   * A unit of work (message, call, event, request, task) arrived on `input`. Exactly one of
   * handled, failed or dead-lettered follows for the same input and id.
   */
  | { readonly type: 'received'; readonly input: string; readonly id: string; readonly attempt: number }
  /** It was handled, and everything it caused is done (results sent, files written, acked). */
  | { readonly type: 'handled'; readonly input: string; readonly id: string; readonly durationMs: number; readonly produced?: readonly Produced[]; readonly wrote?: readonly string[] }
  /** Handling failed; `retryInMs` when it will be tried again. */
  | { readonly type: 'failed'; readonly input: string; readonly id: string; readonly durationMs: number; readonly error: ErrorInfo; readonly retryInMs?: number }
  /**
   * It was set aside for good: dead-lettered with the reason (`reasonKind` is a small fixed
   * set per model). `id` is given exactly when a "received" was emitted for it first.
   */
  | { readonly type: 'dead-lettered'; readonly input: string; readonly id?: string; readonly reason: string; readonly reasonKind: string }
  /** Something was sent on `output` outside the handling of a received unit (an event fired, a publication, a call). */
  | { readonly type: 'sent'; readonly output: string; readonly id: string; readonly label?: string }
  /** An outbound request got its answer (or failed) after `durationMs`: RPC calls, requesters, task requests, callbacks. */
  | { readonly type: 'called'; readonly target: string; readonly id: string; readonly durationMs: number; readonly error?: ErrorInfo }
  /** A peer sent something unreadable or refused by a limit; nothing was handled. */
  | { readonly type: 'rejected'; readonly input: string; readonly reason: string };

export type ObserverEvent = EventSource & { readonly at: number } & ObserverEventBody;

export type ObserverListener = (event: ObserverEvent) => void;

/** What a component holds: its own source filled in, so it emits bodies only. */
export interface Emitter {
  /** False when nobody listens: skip building events. */
  readonly active: boolean;
  /**
   * `body` must be a fresh object: it becomes the event listeners see (its source and time
   * are added to it). `at` (ms since the epoch) when the caller knows the time already: a
   * clock read costs ~0.15 µs on these machines, a tenth of what a message costs a worker.
   */
  emit(body: ObserverEventBody, at?: number): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class Observer {
  /** Replaced, never changed in place: an emit walks the list it started with (a listener may stop listening from inside). An array, not a Set: no iterator made per event. */
  #listeners: readonly ObserverListener[] = [];

  /** True while at least one listener is attached. */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /** Adds a listener; returns a function that removes it. A throwing listener is removed and never breaks the emitter. */
  listen(listener: ObserverListener): () => void {
    if (!this.#listeners.includes(listener)) this.#listeners = [...this.#listeners, listener];
    return () => this.#remove(listener);
  }

  emit(event: ObserverEvent): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch {
        this.#remove(listeners[i]!);
      }
    }
  }

  #remove(listener: ObserverListener): void {
    this.#listeners = this.#listeners.filter((l) => l !== listener);
  }

  /** An emitter for one component: the source is filled in on every event. */
  for(source: EventSource): Emitter {
    const observer = this;
    return {
      get active() {
        return observer.active;
      },
      emit(body, at) {
        if (!observer.active) return;
        // The body becomes the event: the source and the time are added to it, with no
        // second object and no copy. Not `{ ...source, at, ...body }` (a spread of bodies of
        // many shapes cost ~20 µs an event) nor Object.assign onto a new literal (~0.3 µs a
        // pair more than this; bench/dashboard.ts). Emitters pass a fresh literal each time.
        const event = body as Mutable<ObserverEvent>;
        event.model = source.model;
        event.service = source.service;
        event.transport = source.transport;
        event.at = at ?? Date.now();
        observer.emit(event);
      },
    };
  }
}

/** An emitter that drops everything: for a component run outside a runtime (tests, embedding). */
export const silentEmitter: Emitter = { active: false, emit: () => undefined };

/** ErrorInfo of anything thrown. */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { code, message: err.message } : { message: err.message };
  }
  return { message: String(err) };
}
