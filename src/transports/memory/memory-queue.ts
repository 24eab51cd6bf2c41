// One in-process queue with the delivery rules of a real broker: bounded in-flight per
// consumer (prefetch), round-robin between consumers, explicit settlement, and every
// delivery that was not acked (consumer stopped, handler threw) goes back flagged
// `redelivered`. Dispatch runs on setImmediate so handlers never re-enter each other and
// I/O keeps its turn under load.

import { errors } from '../../errors.js';
import type { Delivery, DeliveryHandler, Headers, NackOptions, Subscription } from '../transport.js';
import { settleWithin } from '../grace.js';

export interface StoredMessage {
  readonly body: Uint8Array;
  readonly headers: Headers;
  /** Deliveries made so far. */
  deliveries: number;
}

/** Where settled-negative messages go; the transport supplies it. */
export interface QueueHost {
  deadLetter(from: MemoryQueue, message: StoredMessage, reason: string): void;
  schedule(ms: number, fn: () => void): void;
}

class MemoryConsumer implements Subscription {
  inFlight = 0;
  stopped = false;
  readonly unsettled = new Set<MemoryDelivery>();
  readonly running = new Set<Promise<void>>();

  constructor(
    readonly queue: MemoryQueue,
    readonly handler: DeliveryHandler,
    readonly prefetch: number,
  ) {}

  get hasRoom(): boolean {
    return !this.stopped && this.inFlight < this.prefetch;
  }

  private stopping: Promise<void> | undefined;

  /** Every caller, the first and any later one, waits for the same drain. */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.graceMs);
    return this.stopping;
  }

  private async drain(graceMs: number | undefined): Promise<void> {
    this.stopped = true;
    await settleWithin(this.running, graceMs);
    // Whatever is still unsettled goes back, as a broker does on channel close. Back to
    // front, because each goes to the head of the queue: the original order survives.
    for (const delivery of [...this.unsettled].reverse()) delivery.handBack();
    this.queue.removeConsumer(this);
  }
}

class MemoryDelivery implements Delivery {
  private settled: 'acked' | 'nacked' | 'handed back' | undefined;
  /** Fixed at hand-out: later redeliveries of the same message must not change this one. */
  readonly attempt: number;

  constructor(
    private readonly consumer: MemoryConsumer,
    private readonly message: StoredMessage,
  ) {
    this.attempt = message.deliveries;
  }

  get body(): Uint8Array { return this.message.body; }
  get headers(): Headers { return this.message.headers; }
  get queue(): string { return this.consumer.queue.name; }
  get redelivered(): boolean { return this.attempt > 1; }

  async ack(): Promise<void> {
    this.settle('acked');
  }

  async nack(options: NackOptions): Promise<void> {
    this.settle('nacked');
    const queue = this.consumer.queue;
    if (!options.requeue) queue.host.deadLetter(queue, this.message, options.reason);
    else if (options.delayMs && options.delayMs > 0) queue.host.schedule(options.delayMs, () => queue.requeue(this.message, false));
    else queue.requeue(this.message, true);
  }

  /** The consumer stopped, or its handler threw, before this delivery was settled. */
  handBack(): void {
    if (this.settled) return;
    this.settle('handed back');
    this.consumer.queue.requeue(this.message, true);
  }

  private settle(how: 'acked' | 'nacked' | 'handed back'): void {
    if (this.settled) throw new errors.SY_ERR_DELIVERY_SETTLED(this.consumer.queue.name, this.settled);
    this.settled = how;
    this.consumer.unsettled.delete(this);
    this.consumer.inFlight--;
    this.consumer.queue.kick();
  }

  get isSettled(): boolean {
    return this.settled !== undefined;
  }
}

export class MemoryQueue {
  private ready: StoredMessage[] = [];
  private head = 0;
  private readonly consumers: MemoryConsumer[] = [];
  private nextConsumer = 0;
  private scheduled = false;

  constructor(
    readonly name: string,
    readonly host: QueueHost,
  ) {}

  /** Messages waiting (not in flight). */
  get depth(): number {
    return this.ready.length - this.head;
  }

  /** Every message waiting, oldest first, without taking them (for dev tools and tests). */
  peek(): readonly StoredMessage[] {
    return this.ready.slice(this.head);
  }

  /** Deliveries handed out and not yet settled. */
  get inFlight(): number {
    let n = 0;
    for (const consumer of this.consumers) n += consumer.inFlight;
    return n;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  /** Takes one waiting message out (dead-letter tools); false when it is not waiting. */
  remove(message: StoredMessage): boolean {
    const i = this.ready.indexOf(message, this.head);
    if (i < 0) return false;
    this.ready.splice(i, 1);
    return true;
  }

  enqueue(message: StoredMessage): void {
    this.ready.push(message);
    this.kick();
  }

  /** Back in the queue for another delivery; at the front when `front` (as RabbitMQ does). */
  requeue(message: StoredMessage, front: boolean): void {
    if (front && this.head > 0) this.ready[--this.head] = message;
    else if (front) this.ready.unshift(message);
    else this.ready.push(message);
    this.kick();
  }

  addConsumer(handler: DeliveryHandler, prefetch: number): MemoryConsumer {
    const consumer = new MemoryConsumer(this, handler, prefetch);
    this.consumers.push(consumer);
    this.kick();
    return consumer;
  }

  removeConsumer(consumer: MemoryConsumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i >= 0) this.consumers.splice(i, 1);
  }

  kick(): void {
    if (this.scheduled || this.depth === 0 || this.consumers.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.depth > 0) {
      const consumer = this.pickConsumer();
      if (!consumer) return;
      const message = this.ready[this.head]!;
      this.ready[this.head++] = undefined as unknown as StoredMessage;
      if (this.head > 1024 && this.head * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.head);
        this.head = 0;
      }
      message.deliveries++;
      this.deliver(consumer, message);
    }
  }

  private pickConsumer(): MemoryConsumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const consumer = this.consumers[(this.nextConsumer + i) % n]!;
      if (consumer.hasRoom) {
        this.nextConsumer = (this.nextConsumer + i + 1) % n;
        return consumer;
      }
    }
    return undefined;
  }

  private deliver(consumer: MemoryConsumer, message: StoredMessage): void {
    const delivery = new MemoryDelivery(consumer, message);
    consumer.inFlight++;
    consumer.unsettled.add(delivery);
    // The handler starts on a later microtask, as a broker client's would: a handler that
    // settles (or throws) synchronously must not re-enter this dispatch loop.
    const run: Promise<void> = Promise.resolve()
      .then(() => consumer.handler(delivery))
      // A handler that throws leaves its delivery unsettled: it goes back, flagged redelivered.
      .then(undefined, () => delivery.handBack())
      .finally(() => consumer.running.delete(run));
    consumer.running.add(run);
  }
}
