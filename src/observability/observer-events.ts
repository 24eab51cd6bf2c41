// The shape of the observer stream (observer.ts): who reports, and the events of a unit of
// work. Types only, so what counts events (port-counts.ts) and what carries them share them
// without importing each other.

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
