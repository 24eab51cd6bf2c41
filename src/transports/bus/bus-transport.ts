// The bus protocol's transport interface: RPC calls with results, events with named
// listener groups, and a schema store — the four transports Lightbus has (rpc, result,
// event, schema), as one interface so a bus needs one object per connection. These are
// protocol messages (ids, names, JSON-ready kwargs), not API definitions: the api model
// owns types, validation and encoding, a bus transport only carries what it is given.

import type { TraceContext } from '../tracing/carrier.js';
import type { Subscription } from '../transport.js';

/** A value that JSON can carry (after the api model's codec turned bytes, dates, ... into it). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type Kwargs = Record<string, JsonValue>;

/** One RPC call: run `procedure` of `api` with `kwargs`. */
export interface RpcCall {
  readonly id: string;
  readonly api: string;
  readonly procedure: string;
  readonly kwargs: Kwargs;
  /** The caller's trace context, when tracing is on (transports/tracing); frames carry it where the peers ignore it. */
  readonly traceContext?: TraceContext;
}

/** The outcome of one call: a result, or an error with the remote's description and trace. */
export interface RpcResult {
  /** The result message's own id, where the wire format has one (made when sent if absent). */
  readonly id?: string;
  readonly rpcId: string;
  readonly error: boolean;
  /** The result, or on error the remote's description of it, e.g. `TypeError('bad')`. */
  readonly result: JsonValue;
  readonly trace?: string;
}

/** One event fired on `api`. */
export interface BusEvent {
  readonly id: string;
  readonly api: string;
  readonly event: string;
  readonly version: number;
  readonly kwargs: Kwargs;
  /** The firer's trace context, when tracing is on (transports/tracing). */
  readonly traceContext?: TraceContext;
}

/** An event handed to a listener group member; settle it exactly once. */
export interface EventDelivery {
  readonly event: BusEvent;
  /** The transport's own id of this entry (a stream id on Redis), for logs and inspection. */
  readonly nativeId: string;
  /** 1 on the first delivery, more when it was reclaimed from a member that did not ack. */
  readonly attempt: number;
  ack(): Promise<void>;
  /** Leave it unacked: it comes back after the reclaim idle time (or on restart). */
  release(): Promise<void>;
  /** Move it aside (the dead-letter place of the transport) with the reason, and ack it. */
  setAside(reason: string): Promise<void>;
}

/**
 * An entry that could not be read as an event (not JSON, missing metadata): the transport
 * has already set it aside with the reason; this only tells the listener.
 */
export interface MalformedEntry {
  readonly nativeId: string;
  readonly source: string;
  readonly reason: string;
}

export interface ListenSpec {
  /** The events this listener wants; anything else arriving on the same stream is acked and skipped. */
  readonly events: readonly { readonly api: string; readonly event: string }[];
  /** The listener group: every group gets each event once, its members share them. */
  readonly group: string;
  /** This member's name inside the group (the process name). */
  readonly consumer: string;
  /** Most events handed out and not yet settled at once. */
  readonly prefetch: number;
  /** An event held unacked this long by a member is reclaimed by another (ms). */
  readonly reclaimIdleMs: number;
  /** Called for entries set aside because they could not be read. */
  readonly onMalformed?: (entry: MalformedEntry) => void;
}

/** Answers a call: the result itself when the handler answered at once (no turn to wait), else a promise. */
export type RpcServer = (call: RpcCall) => RpcResult | Promise<RpcResult>;

export interface ServeOptions {
  /**
   * Called for calls that could not be read (not the bus's format): the transport has
   * already answered them with an error where it had a return path, or dropped them.
   */
  readonly onMalformed?: (entry: MalformedEntry) => void;
}

export interface CallOptions {
  readonly timeoutMs: number;
}

/** A schema of one API as stored on the bus: `{ rpcs: {...}, events: {...} }`. */
export type StoredSchema = { readonly rpcs: Record<string, JsonValue>; readonly events: Record<string, JsonValue> };

export interface BusTransport {
  /** "memory", "redis", ... for logs and errors. */
  readonly name: string;
  start(): Promise<void>;
  /** Stops every server and listener (unsettled events go back) and disconnects. */
  close(): Promise<void>;

  /** Sends a call and waits for its result; SY_ERR_REQUEST_TIMEOUT past timeoutMs. */
  call(call: RpcCall, options: CallOptions): Promise<RpcResult>;
  /** Serves the calls of these APIs; several servers of one API share the calls. */
  serve(apis: readonly string[], server: RpcServer, options?: ServeOptions): Promise<Subscription>;

  /** Resolves once the event is stored durably for every listener group. */
  fire(event: BusEvent): Promise<void>;
  listen(spec: ListenSpec, handler: (delivery: EventDelivery) => Promise<void>): Promise<Subscription>;

  /** Publishes one API's schema for `ttlS` seconds (re-store before it expires). */
  storeSchema(api: string, schema: StoredSchema, ttlS: number): Promise<void>;
  /** Every API schema currently on the bus. */
  loadSchemas(): Promise<Record<string, StoredSchema>>;
  /** What is stored for these events (streams, listener groups, recent entries), where the transport can tell. */
  activity?(events: readonly { api: string; event: string }[], recent: number): Promise<StreamActivity[]>;
}

export interface StreamActivity {
  readonly stream: string;
  readonly length: number;
  readonly groups: readonly { readonly name: string; readonly consumers: number; readonly pending: number }[];
  readonly recent: readonly (BusEvent & { readonly nativeId: string })[];
}
