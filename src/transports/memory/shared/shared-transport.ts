// The state folder's embedded broker as ONE transport for the life of a process, whoever
// hosts it. A process that attached to another's broker is not stranded when that process
// stops: it attaches to (or becomes) the next host and opens its subscriptions there again,
// so two `switchyard run` processes of one folder keep reaching each other in any stop
// order. What the stopped host still held is gone with it (it says so as it stops); work in
// flight here fails to settle and is tried again where the transport keeps it.

import type {
  Capabilities, ConsumeOptions, DeliveryHandler, OutboundMessage, QueueOptions, Reply, RequestHandler,
  RequestOptions, Subscription, Transport,
} from '../../transport.js';
import { MemoryTransport, type MemoryTransportOptions } from '../memory-transport.js';
import { attachOrHost, type SharedMemory } from './attach.js';

interface Reopen {
  readonly open: (transport: Transport) => Promise<Subscription>;
  current: Subscription;
  stopped: boolean;
}

export interface SharedTransportOptions {
  readonly memory?: MemoryTransportOptions;
  /** Told each time this process attaches to a new host or becomes the host after one stopped. */
  readonly onHostChange?: (hosting: boolean) => void;
}

export class SharedMemoryTransport implements Transport {
  readonly name = 'memory';
  readonly capabilities: Capabilities = { queue: true, topic: true, request: true, delayedRequeue: true };
  #shared!: SharedMemory;
  #switching: Promise<void> | undefined;
  #closed = false;
  readonly #subs = new Set<Reopen>();

  private constructor(private readonly stateDir: string, private readonly options: SharedTransportOptions) {}

  /** Attaches to the folder's broker, or hosts it. */
  static async open(stateDir: string, options: SharedTransportOptions = {}): Promise<SharedMemoryTransport> {
    const t = new SharedMemoryTransport(stateDir, options);
    t.#shared = await t.#attach();
    return t;
  }

  /** The broker's own queues when this process hosts it (dead letters, activity, peeks). */
  get hosted(): MemoryTransport | undefined {
    return this.#shared.transport instanceof MemoryTransport ? this.#shared.transport : undefined;
  }

  get socketPath(): string {
    return this.#shared.socketPath;
  }

  #attach(): Promise<SharedMemory> {
    return attachOrHost(this.stateDir, this.options.memory, () => this.#hostLost());
  }

  #hostLost(): void {
    if (this.#closed) return;
    this.#switching = (async () => {
      this.#shared = await this.#attach();
      this.options.onHostChange?.(this.hosted !== undefined);
      for (const entry of this.#subs) if (!entry.stopped) entry.current = await entry.open(this.#shared.transport);
    })().finally(() => {
      this.#switching = undefined;
    });
  }

  /** The transport to use now (after a host change has finished). */
  async #now(): Promise<Transport> {
    while (this.#switching) await this.#switching;
    return this.#shared.transport;
  }

  async start(): Promise<void> {
    await (await this.#now()).start();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#switching?.catch(() => undefined);
    this.#subs.clear();
    await this.#shared.close();
  }

  async declareQueue(queue: string, options?: QueueOptions): Promise<void> {
    return (await this.#now()).declareQueue(queue, options);
  }

  // send and publish, once per message: straight to the broker's transport unless a host
  // change is under way (two async frames and a returned promise cost ~0.4 µs a message).
  send(queue: string, message: OutboundMessage): Promise<void> {
    return this.#switching ? this.#now().then((t) => t.send(queue, message)) : this.#shared.transport.send(queue, message);
  }

  publish(topic: string, message: OutboundMessage): Promise<void> {
    return this.#switching ? this.#now().then((t) => t.publish(topic, message)) : this.#shared.transport.publish(topic, message);
  }

  async request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply> {
    return (await this.#now()).request(subject, message, options);
  }

  consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    return this.#keep((t) => t.consume(queue, handler, options));
  }

  subscribe(topic: string, group: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    return this.#keep((t) => t.subscribe(topic, group, handler, options));
  }

  serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    return this.#keep((t) => t.serve(subject, handler));
  }

  /** A subscription opened again on each new host until it is stopped. */
  async #keep(open: (transport: Transport) => Promise<Subscription>): Promise<Subscription> {
    const entry: Reopen = { open, current: await open(await this.#now()), stopped: false };
    this.#subs.add(entry);
    return {
      stop: async (options) => {
        entry.stopped = true;
        this.#subs.delete(entry);
        await entry.current.stop(options);
      },
    };
  }
}

/** The embedded broker's own queues behind `transport`, when this process holds them. */
export function hostedMemoryOf(transport: Transport | undefined): MemoryTransport | undefined {
  if (transport instanceof MemoryTransport) return transport;
  return transport instanceof SharedMemoryTransport ? transport.hosted : undefined;
}
