// One in-process queue with the delivery rules of a real broker: bounded in-flight per
// consumer (prefetch), round-robin between consumers, explicit settlement, and every
// delivery that was not acked (consumer stopped, handler threw) goes back flagged
// `redelivered`. Dispatch runs on setImmediate so handlers never re-enter each other and
// I/O keeps its turn under load.
//
// Bounded as a broker's max-length / max-length-bytes: a new message is admitted only while
// fewer than `maxLength` messages and fewer than `maxBytes` body bytes wait (one message is
// always admitted into an empty queue). Senders past the bound wait their turn, in order
// (room()). Messages that were already in the queue (requeued, handed back) come back
// whatever the bound, as they were admitted once.

import { errors } from '../../errors.js';
import type { Delivery, DeliveryHandler, Headers, NackOptions, Subscription } from '../transport.js';
import { settleWithin } from '../grace.js';

export interface StoredMessage {
  readonly body: Uint8Array;
  readonly headers: Headers;
  /** Deliveries made so far. */
  deliveries: number;
}

/** How much a queue holds before new messages wait (or are refused, or drop the oldest). */
export interface QueueLimits {
  readonly maxLength: number;
  readonly maxBytes: number;
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

interface Waiter {
  readonly size: number;
  readonly resolve: (roomKept: boolean) => void;
  readonly reject: (err: Error) => void;
}

export class MemoryQueue {
  private ready: StoredMessage[] = [];
  private head = 0;
  private readonly consumers: MemoryConsumer[] = [];
  private nextConsumer = 0;
  private scheduled = false;
  /** Body bytes of the messages waiting. */
  private bytes = 0;
  /** Senders waiting for room, oldest first. */
  private waiters: Waiter[] = [];
  /** Room promised to woken senders that have not enqueued yet (they do on a later microtask). */
  private reserved = 0;
  private reservedBytes = 0;
  /** Messages dropped from the head to make room (dead-letter queues only; see enqueueDroppingHead). */
  dropped = 0;

  constructor(
    readonly name: string,
    readonly host: QueueHost,
    readonly limits: QueueLimits = { maxLength: Infinity, maxBytes: Infinity },
  ) {}

  /** Whether a new message of `size` bytes may go in now (nobody waits before it, and it fits). */
  admits(size: number): boolean {
    return this.waiters.length === 0 && this.fits(size);
  }

  private fits(size: number): boolean {
    const depth = this.depth + this.reserved;
    return depth === 0 || (depth < this.limits.maxLength && this.bytes + this.reservedBytes + size <= this.limits.maxBytes);
  }

  /**
   * Resolves true when a message of `size` bytes fits, after the senders already waiting;
   * the room is kept for it, so the caller must then call enqueueReserved (at once). With
   * waitMs, resolves false once that time passed first (the sender left the line).
   */
  room(size: number, waitMs?: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        size,
        resolve: (kept) => {
          clearTimeout(timer);
          resolve(kept);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
      if (waitMs !== undefined) {
        timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i < 0) return; // already let in
          this.waiters.splice(i, 1);
          resolve(false);
          // Those behind it may fit now.
          this.wake();
        }, waitMs);
      }
    });
  }

  /** Waiting senders are refused (the transport is closing). */
  refuseWaiters(err: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  /**
   * Lets waiting senders in, in order, while they fit. A woken sender enqueues on a later
   * microtask, so its room is reserved now, or every waiter would be let in for one free slot.
   */
  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.size)) {
      const w = this.waiters.shift()!;
      this.reserved++;
      this.reservedBytes += w.size;
      w.resolve(true);
    }
  }

  /** Adds the message of a sender that waited for room(). */
  enqueueReserved(message: StoredMessage): void {
    this.reserved--;
    this.reservedBytes -= message.body.byteLength;
    this.enqueue(message);
  }

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
    this.bytes -= message.body.byteLength;
    if (this.waiters.length > 0) this.wake();
    return true;
  }

  /** Adds a message (the caller checked admits() or waited for room()). */
  enqueue(message: StoredMessage): void {
    this.ready.push(message);
    this.bytes += message.body.byteLength;
    this.kick();
  }

  /**
   * Adds a message, dropping the oldest waiting ones while the queue is over its bound, as
   * RabbitMQ's default overflow (drop-head) does. For dead letters: nothing waits to put
   * them anywhere else, and a dead-letter queue nobody reads must not grow without end.
   */
  enqueueDroppingHead(message: StoredMessage): void {
    while (this.depth > 0 && !this.fits(message.body.byteLength)) {
      const oldest = this.ready[this.head]!;
      this.ready[this.head++] = undefined as unknown as StoredMessage;
      this.bytes -= oldest.body.byteLength;
      this.dropped++;
    }
    this.compact();
    this.enqueue(message);
  }

  /** Back in the queue for another delivery; at the front when `front` (as RabbitMQ does). */
  requeue(message: StoredMessage, front: boolean): void {
    if (front && this.head > 0) this.ready[--this.head] = message;
    else if (front) this.ready.unshift(message);
    else this.ready.push(message);
    this.bytes += message.body.byteLength;
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
      if (!consumer) break;
      const message = this.ready[this.head]!;
      this.ready[this.head++] = undefined as unknown as StoredMessage;
      this.bytes -= message.body.byteLength;
      this.compact();
      message.deliveries++;
      this.deliver(consumer, message);
    }
    if (this.waiters.length > 0) this.wake();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
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
