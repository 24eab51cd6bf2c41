// A local process attached to the shared embedded broker (host.ts): the same Transport as
// MemoryTransport, every primitive forwarded over the host's unix socket. Deliveries keep
// the broker's rules: prefetch is enforced by the host, a handler that throws hands its
// delivery back (redelivered), and stop() waits for running handlers, then the host hands
// back whatever is still unsettled.

import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { errors } from '../../../errors.js';
import { settleWithin } from '../../grace.js';
import { validateName } from '../../names.js';
import type {
  Capabilities, ConsumeOptions, Delivery, DeliveryHandler, Headers, NackOptions, OutboundMessage, Reply,
  RequestHandler, RequestOptions, Subscription, Transport,
} from '../../transport.js';
import type { DeadLetter, DeadLetterQueue } from '../../dead-letters.js';
import { encodeFrame, onFrames, type ClientOp, type HostOp, type QueueInfo } from './protocol.js';

type Pending = { resolve(m: Extract<HostOp, { op: 'ok' }>): void; reject(e: Error): void };

/** Ops that wait for an "ok" or "error" (every op with an id), without the id. */
type Call = Extract<ClientOp, { id: number }> extends infer C ? (C extends unknown ? Omit<C, 'id'> : never) : never;

class HostError extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

interface ClientDelivery extends Delivery {
  /** The handler threw before settling: back to the queue, redelivered. */
  handBack(): void;
  /** The subscription ended with it unsettled: the host hands it back; settling it now is an error. */
  forget(): void;
}

interface Sub {
  readonly handler?: DeliveryHandler;
  readonly serve?: RequestHandler;
  readonly running: Set<Promise<void>>;
  readonly unsettled: Set<ClientDelivery>;
  stopped: boolean;
}

export class SharedMemoryClient implements Transport {
  readonly name = 'memory';
  readonly capabilities: Capabilities = { queue: true, topic: true, request: true, delayedRequeue: true };
  #socket: Socket | undefined;
  #nextId = 1;
  #nextSub = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #subs = new Map<number, Sub>();
  #closed = false;

  /** `onLost`: the host went away (not our own close): called once, after pending calls failed. */
  constructor(readonly socketPath: string, private readonly onLost?: () => void) {}

  /** Connects; rejects (ENOENT, ECONNREFUSED) when no broker is hosted there. Connected already: nothing to do. */
  async start(): Promise<void> {
    if (this.#socket && !this.#socket.destroyed && !this.#closed) return;
    const socket = connect(this.socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.removeAllListeners('error');
    onFrames(socket, (m) => this.#onMessage(m as HostOp));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#lost());
    this.#socket = socket;
    this.#closed = false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.allSettled([...this.#subs.keys()].map((sub) => this.#stopSub(sub, undefined)));
    this.#closed = true;
    this.#socket?.end();
    this.#socket?.destroy();
  }

  /** Queues the host knows, with how many messages wait in each. */
  async queues(): Promise<QueueInfo[]> {
    return (await this.#call({ op: 'queues' })).queues ?? [];
  }

  /** Queues of the host that hold dead letters, with how many (the host's MemoryDeadLetters answers). */
  async deadLetterQueues(): Promise<DeadLetterQueue[]> {
    return (await this.#newer({ op: 'dead-queues' }, 'list dead letters')).deadQueues ?? [];
  }

  /** Up to `limit` dead letters of `queue`, oldest first (the host caps the limit at MAX_PEEK). */
  async peekDeadLetters(queue: string, limit: number): Promise<DeadLetter[]> {
    return (await this.#newer({ op: 'dead-peek', queue, limit }, 'show dead letters')).letters ?? [];
  }

  /** Retries or discards one dead letter (`target` its id) or all of the queue (null); how many. */
  async actOnDeadLetters(action: 'retry' | 'discard', queue: string, target: string | null): Promise<number> {
    return (await this.#newer({ op: 'dead-act', action, queue, target }, `${action} dead letters`)).count ?? 0;
  }

  async declareQueue(queue: string): Promise<void> {
    validateName('queue', queue);
    await this.#call({ op: 'declare', queue });
  }

  async send(queue: string, message: OutboundMessage): Promise<void> {
    validateName('queue', queue);
    await this.#call({ op: 'send', queue, body: message.body, headers: message.headers ?? {} });
  }

  async publish(topic: string, message: OutboundMessage): Promise<void> {
    validateName('topic', topic);
    await this.#call({ op: 'publish', topic, body: message.body, headers: message.headers ?? {} });
  }

  async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    validateName('queue', queue);
    return this.#subscribeWith({ handler }, (sub) => ({ op: 'consume', sub, queue, prefetch: options.prefetch }));
  }

  async subscribe(topic: string, group: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    validateName('topic', topic);
    validateName('listener group', group);
    return this.#subscribeWith({ handler }, (sub) => ({ op: 'subscribe', sub, topic, group, prefetch: options.prefetch }));
  }

  async request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply> {
    validateName('subject', subject);
    const ok = await this.#call({ op: 'request', subject, body: message.body, headers: { ...message.headers, ...options.headers }, timeoutMs: options.timeoutMs });
    return { body: ok.body ?? new Uint8Array(), headers: ok.headers ?? {} };
  }

  async serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    validateName('subject', subject);
    return this.#subscribeWith({ serve: handler }, (sub) => ({ op: 'serve', sub, subject }));
  }

  // ---- internals

  async #subscribeWith(what: Pick<Sub, 'handler' | 'serve'>, op: (sub: number) => Call): Promise<Subscription> {
    const sub = this.#nextSub++;
    this.#subs.set(sub, { ...what, running: new Set(), unsettled: new Set(), stopped: false });
    try {
      await this.#call(op(sub));
    } catch (err) {
      this.#subs.delete(sub);
      throw err;
    }
    let stopping: Promise<void> | undefined;
    return { stop: (options) => (stopping ??= this.#stopSub(sub, options?.graceMs)) };
  }

  /** Stops taking deliveries, waits for running handlers (up to graceMs), then the host hands back the rest. */
  async #stopSub(sub: number, graceMs: number | undefined): Promise<void> {
    const entry = this.#subs.get(sub);
    if (!entry) return;
    entry.stopped = true;
    await settleWithin(entry.running, graceMs);
    for (const delivery of entry.unsettled) delivery.forget();
    this.#subs.delete(sub);
    if (!this.#closed && this.#socket && !this.#socket.destroyed) await this.#call({ op: 'unsubscribe', sub }).catch(() => undefined);
  }

  /** An op hosts before it did not know: they answer "unknown operation", said here as what to do. */
  async #newer(op: Call, what: string): Promise<Extract<HostOp, { op: 'ok' }>> {
    try {
      return await this.#call(op);
    } catch (err) {
      if (err instanceof Error && !(err instanceof HostError) && err.message.startsWith('unknown operation')) {
        throw new errors.SY_ERR_LOCAL_BROKER_TOO_OLD(dirname(this.socketPath), what);
      }
      throw err;
    }
  }

  #call(op: Call): Promise<Extract<HostOp, { op: 'ok' }>> {
    if (this.#closed || !this.#socket || this.#socket.destroyed) {
      return Promise.reject(new errors.SY_ERR_TRANSPORT_CLOSED('memory (shared)', op.op));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#write({ ...op, id } as ClientOp);
    });
  }

  #write(op: ClientOp): void {
    if (this.#socket && !this.#socket.destroyed) this.#socket.write(encodeFrame(op));
  }

  #onMessage(m: HostOp): void {
    switch (m.op) {
      case 'ok':
      case 'error': {
        const pending = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.op === 'ok') pending?.resolve(m);
        else pending?.reject(m.code && m.code.startsWith('SY_ERR_') ? Object.assign(new HostError(m.code, m.message), { name: m.code }) : new Error(m.message));
        return;
      }
      case 'deliver': {
        const entry = this.#subs.get(m.sub);
        if (!entry?.handler || entry.stopped) return; // the host hands it back when the subscription ends
        const delivery = this.#delivery(m, entry.unsettled);
        const run: Promise<void> = Promise.resolve()
          .then(() => entry.handler!(delivery))
          .then(undefined, () => delivery.handBack())
          .finally(() => entry.running.delete(run));
        entry.running.add(run);
        return;
      }
      case 'serve-request': {
        const entry = this.#subs.get(m.sub);
        if (!entry?.serve || entry.stopped) {
          this.#write({ op: 'reply', req: m.req, error: 'the responder is stopping' });
          return;
        }
        const run: Promise<void> = Promise.resolve()
          .then(() => entry.serve!({ body: m.body, headers: m.headers }))
          .then(
            (reply) => this.#write({ op: 'reply', req: m.req, body: reply.body, headers: reply.headers ?? {} }),
            (err: unknown) => this.#write({ op: 'reply', req: m.req, error: (err as Error)?.message ?? String(err) }),
          )
          .finally(() => entry.running.delete(run));
        entry.running.add(run);
        return;
      }
    }
  }

  #delivery(m: Extract<HostOp, { op: 'deliver' }>, unsettled: Set<ClientDelivery>): ClientDelivery {
    let settled: string | undefined;
    const settle = (how: string, op: Omit<Extract<ClientOp, { op: 'settle' }>, 'op' | 'delivery'>) => {
      if (settled) throw new errors.SY_ERR_DELIVERY_SETTLED(m.queue, settled);
      settled = how;
      unsettled.delete(delivery);
      this.#write({ op: 'settle', delivery: m.delivery, ...op });
    };
    const delivery: ClientDelivery = {
      body: m.body,
      headers: m.headers as Headers,
      queue: m.queue,
      attempt: m.attempt,
      redelivered: m.attempt > 1,
      ack: async () => settle('acked', { how: 'ack' }),
      nack: async (options: NackOptions) =>
        options.requeue
          ? settle('nacked', { how: 'requeue', ...(options.delayMs ? { delayMs: options.delayMs } : {}) })
          : settle('nacked', { how: 'dead-letter', reason: options.reason }),
      handBack: () => {
        if (!settled) settle('handed back', { how: 'requeue' });
      },
      forget: () => {
        settled ??= 'handed back';
        unsettled.delete(delivery);
      },
    };
    unsettled.add(delivery);
    return delivery;
  }

  /** The host went away: every call waiting fails; subscriptions end (the host kept their messages). */
  #lost(): void {
    const ours = this.#closed;
    const err = new errors.SY_ERR_TRANSPORT_CLOSED('memory (shared)', 'continue: the process hosting the embedded broker stopped');
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    for (const entry of this.#subs.values()) entry.stopped = true;
    this.#closed = true;
    if (!ours) this.onLost?.();
  }
}
