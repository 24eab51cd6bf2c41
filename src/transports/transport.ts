// The one interface every transport plugs into (memory, amqp, redis, zeromq, ...), in the
// manner of nats.js: models are written against these primitives only and never see a
// client library. A transport declares what it can do so that a model refuses, at start,
// a transport that lacks a primitive it needs.

import { errors } from '../errors.js';

/** Headers travel with a message; values are strings so every broker can carry them. */
export type Headers = Readonly<Record<string, string>>;

export interface OutboundMessage {
  readonly body: Uint8Array;
  readonly headers?: Headers;
}

/** The primitives a transport may offer. */
export interface Capabilities {
  /** Durable queues: send, consume with bounded in-flight, ack, nack (requeue or dead-letter). */
  readonly queue: boolean;
  /** Topics with listener groups: every group gets each message once, members of a group share. */
  readonly topic: boolean;
  /** Request/reply with a timeout. */
  readonly request: boolean;
  /** nack({ requeue: true, delayMs }) holds the message back for delayMs before redelivery. */
  readonly delayedRequeue: boolean;
}

export type Capability = keyof Capabilities;

export interface QueueOptions {
  /** Survives a broker restart. Brokers that cannot lose queues ignore it. Default true. */
  readonly durable?: boolean;
  /** Broker-specific declaration arguments (e.g. x-queue-type for RabbitMQ). */
  readonly arguments?: Readonly<Record<string, unknown>>;
  /**
   * A queue that exists already is used as it is, whatever its flags; only a missing one is
   * declared with `durable` and `arguments`. For queues shared with systems that declare
   * them their own way (slingshot), when no configuration says how they must be declared.
   * Without it, a queue that exists with other flags is an error.
   */
  readonly useExisting?: boolean;
}

/** Headers a transport sets on dead-lettered messages. */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-switchyard-dead-letter-reason',
  sourceQueue: 'x-switchyard-source-queue',
  attempts: 'x-switchyard-attempts',
} as const;

/** Where a queue's dead letters go, the same name on every transport. */
export function deadLetterQueueOf(queue: string): string {
  return `${queue}.dead-letter`;
}

export type NackOptions =
  /** Put the message back; it is redelivered flagged `redelivered`, after delayMs when given. */
  | { readonly requeue: true; readonly delayMs?: number }
  /** Move the message, body unchanged, to the queue's dead-letter queue with the reason. */
  | { readonly requeue: false; readonly reason: string };

/** One message handed to a consumer; settle it exactly once with ack or nack. */
export interface Delivery {
  readonly body: Uint8Array;
  readonly headers: Headers;
  /** The queue (or topic group queue) it came from. */
  readonly queue: string;
  /** True when an earlier delivery of this message was not acked. */
  readonly redelivered: boolean;
  /** 1 on the first delivery, then one more for every redelivery the transport knows of. */
  readonly attempt: number;
  ack(): Promise<void>;
  nack(options: NackOptions): Promise<void>;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void> | void;

export interface ConsumeOptions {
  /** Most deliveries handed out and not yet settled at once (prefetch). */
  readonly prefetch: number;
}

/** A running consumer. stop() stops new deliveries and hands back every unsettled one. */
export interface Subscription {
  /**
   * Stops taking deliveries. Waits for handlers already running to return (up to graceMs,
   * default: forever), then every delivery still unsettled goes back to its queue and is
   * redelivered later flagged `redelivered`.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

export interface Reply {
  readonly body: Uint8Array;
  readonly headers: Headers;
}

export type RequestHandler = (request: Reply) => Promise<OutboundMessage> | OutboundMessage;

export interface RequestOptions {
  readonly timeoutMs: number;
  readonly headers?: Headers;
}

export interface Transport {
  /** A short name for logs and errors, e.g. "memory" or "amqp". */
  readonly name: string;
  readonly capabilities: Capabilities;

  /** Connects; every other call may be made only after it resolved. */
  start(): Promise<void>;
  /** Stops every subscription (handing back unsettled deliveries) and disconnects. */
  close(): Promise<void>;

  // ---- durable queue
  /** Makes sure the queue (and its dead-letter queue) exists with these options. */
  declareQueue(queue: string, options?: QueueOptions): Promise<void>;
  /** Resolves once the message is durable in the queue (broker-confirmed). */
  send(queue: string, message: OutboundMessage): Promise<void>;
  consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription>;

  // ---- topic with listener groups
  /** Resolves once every group that existed at publish time holds the message durably. */
  publish(topic: string, message: OutboundMessage): Promise<void>;
  /** Joins `group` on `topic`; the group receives every message published from now on. */
  subscribe(topic: string, group: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription>;

  // ---- request/reply
  request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply>;
  /** Serves `subject`; several servers of one subject share the requests. */
  serve(subject: string, handler: RequestHandler): Promise<Subscription>;
}

/** Throws, naming what is missing, unless the transport offers every capability listed. */
export function requireCapabilities(transport: Transport, model: string, needed: readonly Capability[]): void {
  const missing = needed.filter((c) => !transport.capabilities[c]);
  if (missing.length > 0) throw new errors.SY_ERR_CAPABILITY_MISSING(model, transport.name, missing);
}
