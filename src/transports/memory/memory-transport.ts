// The embedded default: every transport primitive inside one process, with the delivery
// rules of the real brokers so that a pipeline behaves on it as it will in production.
// Queues live as long as the transport object; nothing is written to disk.
//
// Every queue is bounded (maxLength messages, maxBytes of bodies), as a broker's
// max-length: past the bound a send waits until a consumer makes room (back-pressure, the
// default), or is refused at once (overflow "reject-publish", as RabbitMQ's). Dead letters,
// which nothing waits to send elsewhere, drop the oldest dead letter instead (RabbitMQ's
// default "drop-head"), counted in deadLettersDropped().

import { errors } from '../../errors.js';
import {
  DEAD_LETTER_HEADERS,
  deadLetterQueueOf,
  type Capabilities,
  type ConsumeOptions,
  type DeliveryHandler,
  type OutboundMessage,
  type QueueOptions,
  type Reply,
  type RequestHandler,
  type RequestOptions,
  type Subscription,
  type Transport,
} from '../transport.js';
import { MemoryQueue, type QueueHost, type QueueLimits, type StoredMessage } from './memory-queue.js';
import { validateName } from '../names.js';

const GROUP_SEPARATOR = ':';

export interface MemoryTransportOptions {
  /** Messages waiting in one queue before senders wait (or are refused). Default 100,000. */
  readonly maxLength?: number;
  /** Body bytes waiting in one queue before senders wait (or are refused). Default 64 MiB. */
  readonly maxBytes?: number;
  /** Past the bound: "back-pressure" (default) makes send wait for room; "reject-publish" refuses it. */
  readonly overflow?: 'back-pressure' | 'reject-publish';
}

export const MEMORY_QUEUE_DEFAULTS = { maxLength: 100_000, maxBytes: 64 * 1024 * 1024, overflow: 'back-pressure' } as const;

export class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly capabilities: Capabilities = { queue: true, topic: true, request: true, delayedRequeue: true };
  readonly limits: QueueLimits;
  readonly overflow: 'back-pressure' | 'reject-publish';

  constructor(options: MemoryTransportOptions = {}) {
    const maxLength = options.maxLength ?? MEMORY_QUEUE_DEFAULTS.maxLength;
    const maxBytes = options.maxBytes ?? MEMORY_QUEUE_DEFAULTS.maxBytes;
    if (!(Number.isInteger(maxLength) && maxLength >= 1) && maxLength !== Infinity) throw new errors.SY_ERR_SETTINGS(`memory transport: maxLength must be an integer ≥ 1, got ${maxLength}`);
    if (!(Number.isInteger(maxBytes) && maxBytes >= 1) && maxBytes !== Infinity) throw new errors.SY_ERR_SETTINGS(`memory transport: maxBytes must be an integer ≥ 1, got ${maxBytes}`);
    const overflow = options.overflow ?? MEMORY_QUEUE_DEFAULTS.overflow;
    if (overflow !== 'back-pressure' && overflow !== 'reject-publish') throw new errors.SY_ERR_SETTINGS(`memory transport: overflow must be "back-pressure" or "reject-publish", got ${JSON.stringify(overflow)}`);
    this.limits = { maxLength, maxBytes };
    this.overflow = overflow;
  }

  private readonly queues = new Map<string, MemoryQueue>();
  /** topic → group → the group's queue. */
  private readonly topicGroups = new Map<string, Map<string, MemoryQueue>>();
  private readonly responders = new Map<string, { handlers: RequestHandler[]; next: number }>();
  private readonly subscriptions = new Set<Subscription>();
  /** Delayed requeues waiting out their delay, with what each will do. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  private readonly host: QueueHost = {
    deadLetter: (from, message, reason) => {
      const dlq = this.queue(deadLetterQueueOf(from.name));
      dlq.enqueueDroppingHead({
        body: message.body,
        headers: {
          ...message.headers,
          [DEAD_LETTER_HEADERS.reason]: reason,
          [DEAD_LETTER_HEADERS.sourceQueue]: from.name,
          [DEAD_LETTER_HEADERS.attempts]: String(message.deliveries),
        },
        deliveries: 0,
      });
    },
    schedule: (ms, fn) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        fn();
      }, ms);
      this.timers.set(timer, fn);
    },
  };

  async start(): Promise<void> {
    this.closed = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.closed = true;
    for (const queue of this.allQueues()) queue.refuseWaiters(new errors.SY_ERR_TRANSPORT_CLOSED(this.name, 'send (it was waiting for room in a full queue)'));
    // A delayed requeue is not dropped: the message goes back to its queue now.
    for (const [timer, requeue] of this.timers) {
      clearTimeout(timer);
      requeue();
    }
    this.timers.clear();
  }

  /** How many messages wait in a queue (not counting those in flight). */
  depth(queue: string): number {
    return this.queues.get(queue)?.depth ?? 0;
  }

  /** Consumers reading a queue now (`switchyard queues`). */
  consumers(queue: string): number {
    return this.queues.get(queue)?.consumerCount ?? 0;
  }

  /** Waiting messages of a queue, oldest first (dev tooling and tests; not a broker primitive). */
  peek(queue: string): readonly StoredMessage[] {
    return this.queues.get(queue)?.peek() ?? [];
  }

  /** Dead-letter tools: takes a waiting message (as peek returned it) out of its queue; false when it is no longer waiting. */
  takeWaiting(queue: string, message: StoredMessage): boolean {
    return this.queues.get(queue)?.remove(message) ?? false;
  }

  /** Dead-letter tools: puts a message at the end of a queue by name, a listener group's queue ("topic:group") included. */
  putBack(queue: string, message: OutboundMessage): void {
    this.open('retry a dead letter');
    const [topic, group] = [queue.slice(0, queue.lastIndexOf(GROUP_SEPARATOR)), queue.slice(queue.lastIndexOf(GROUP_SEPARATOR) + 1)];
    const target = this.queues.get(queue) ?? this.topicGroups.get(topic)?.get(group) ?? this.queue(queue);
    target.enqueue(copy(message));
  }

  /**
   * Work not yet done: messages waiting in queues that have consumers, deliveries in
   * flight, and requeues waiting out their delay. All zero means the system is idle.
   */
  activity(): { waiting: number; inFlight: number; delayed: number } {
    let waiting = 0;
    let inFlight = 0;
    for (const queue of this.allQueues()) {
      if (queue.consumerCount > 0) waiting += queue.depth;
      inFlight += queue.inFlight;
    }
    return { waiting, inFlight, delayed: this.timers.size };
  }

  /** Dead letters dropped (oldest first) because a dead-letter queue was at its bound. */
  deadLettersDropped(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.dropped;
    return n;
  }

  private allQueues(): MemoryQueue[] {
    const groupQueues = [...this.topicGroups.values()].flatMap((groups) => [...groups.values()]);
    return [...this.queues.values(), ...groupQueues];
  }

  /** Names of every queue that exists, including dead-letter and group queues. */
  queueNames(): string[] {
    return [...this.queues.keys()];
  }

  // ---- durable queue

  async declareQueue(queue: string, _options?: QueueOptions): Promise<void> {
    this.open('declare a queue');
    validateName('queue', queue);
    this.queue(queue);
    this.queue(deadLetterQueueOf(queue));
  }

  async send(queue: string, message: OutboundMessage): Promise<void> {
    this.open('send');
    validateName('queue', queue);
    await this.admit(this.queue(queue), copy(message));
  }

  /**
   * Like send, but waits at most `waitMs` for room in a full queue; then refuses with
   * SY_ERR_LIMIT_EXCEEDED and the message is not queued (for senders that must answer
   * someone, such as the local inbox).
   */
  async sendWithin(queue: string, message: OutboundMessage, waitMs: number): Promise<void> {
    this.open('send');
    validateName('queue', queue);
    await this.admit(this.queue(queue), copy(message), waitMs);
  }

  async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    this.open('consume');
    validateName('queue', queue);
    checkPrefetch(options.prefetch);
    return this.track(this.queue(queue).addConsumer(handler, options.prefetch));
  }

  // ---- topic with listener groups

  async publish(topic: string, message: OutboundMessage): Promise<void> {
    this.open('publish');
    validateName('topic', topic);
    const groups = this.topicGroups.get(topic);
    if (!groups) return;
    for (const queue of [...groups.values()]) await this.admit(queue, copy(message));
  }

  async subscribe(topic: string, group: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    this.open('subscribe');
    validateName('topic', topic);
    validateName('listener group', group);
    checkPrefetch(options.prefetch);
    let groups = this.topicGroups.get(topic);
    if (!groups) this.topicGroups.set(topic, (groups = new Map()));
    let queue = groups.get(group);
    // Group queues live apart from named queues (keyed by topic and group), so no queue
    // name, and no other topic/group pair, can reach them.
    if (!queue) groups.set(group, (queue = new MemoryQueue(`${topic}${GROUP_SEPARATOR}${group}`, this.host)));
    return this.track(queue.addConsumer(handler, options.prefetch));
  }

  // ---- request/reply

  async request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply> {
    this.open('request');
    validateName('subject', subject);
    if (!(options.timeoutMs > 0)) throw new errors.SY_ERR_USAGE(`request to "${subject}": timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
    const entry = this.responders.get(subject);
    if (!entry || entry.handlers.length === 0) throw new errors.SY_ERR_NO_RESPONDER(subject);
    const handler = entry.handlers[entry.next++ % entry.handlers.length]!;
    const request: Reply = copy({ body: message.body, headers: { ...message.headers, ...options.headers } });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new errors.SY_ERR_REQUEST_TIMEOUT(subject, options.timeoutMs)), options.timeoutMs);
    });
    try {
      const reply = await Promise.race([Promise.resolve().then(() => handler(request)), timeout]);
      return copy(reply);
    } finally {
      clearTimeout(timer);
    }
  }

  async serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    this.open('serve');
    validateName('subject', subject);
    let entry = this.responders.get(subject);
    if (!entry) this.responders.set(subject, (entry = { handlers: [], next: 0 }));
    entry.handlers.push(handler);
    const handlers = entry.handlers;
    return this.track({
      stop: async () => {
        const i = handlers.indexOf(handler);
        if (i >= 0) handlers.splice(i, 1);
      },
    });
  }

  // ---- internals

  private queue(name: string): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) this.queues.set(name, (queue = new MemoryQueue(name, this.host, this.limits)));
    return queue;
  }

  /** Into the queue now if it has room; else wait for room (back-pressure, up to waitMs) or refuse. */
  private async admit(queue: MemoryQueue, stored: StoredMessage, waitMs?: number): Promise<void> {
    const size = stored.body.byteLength;
    if (queue.admits(size)) return queue.enqueue(stored);
    if (this.overflow === 'reject-publish' || waitMs === 0) throw this.full(queue);
    if (!(await queue.room(size, waitMs))) throw this.full(queue, waitMs);
    queue.enqueueReserved(stored);
  }

  private full(queue: MemoryQueue, waitedMs?: number): Error {
    const { maxLength, maxBytes } = queue.limits;
    return new errors.SY_ERR_LIMIT_EXCEEDED(
      `queue "${queue.name}" is full (${queue.depth} messages waiting${waitedMs ? `, no room within ${waitedMs} ms` : ''}; is its consumer running?) and the message`,
      `${maxLength} messages or ${maxBytes} bytes per queue`,
      'memoryQueueMaxLength / memoryQueueMaxBytes',
    );
  }

  private track(subscription: Subscription): Subscription {
    this.subscriptions.add(subscription);
    return {
      // Forgotten only once drained, so a close() meanwhile waits for the drain too.
      stop: async (options) => {
        await subscription.stop(options);
        this.subscriptions.delete(subscription);
      },
    };
  }

  private open(op: string): void {
    if (this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, op);
  }
}

function checkPrefetch(prefetch: number): void {
  if (!Number.isInteger(prefetch) || prefetch < 1) {
    throw new errors.SY_ERR_USAGE(`prefetch must be an integer ≥ 1 (deliveries in flight at once), got ${prefetch}`);
  }
}

/** A broker keeps its own copy: later changes to the sender's buffer must not reach it. */
function copy(message: OutboundMessage): StoredMessage & Reply {
  const headers = message.headers && Object.keys(message.headers).length > 0 ? { ...message.headers } : NO_HEADERS;
  return { body: Uint8Array.prototype.slice.call(message.body), headers, deliveries: 0 };
}

/** One shared empty header set: most messages carry none, and a queue may hold 100,000. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
