// The socket interface in-process: replyers, requesters, publishers, subscribers and proxies
// meet at addresses in a registry, with ZeroMQ's rules where a service can tell the
// difference: a requester waits for its replyer to appear, a publisher drops frames nobody
// subscribed to, a subscriber gets frames in publish order filtered by prefix, each
// subscriber handles one frame at a time, and a replyer answers one request at a time.
// Unlike ZeroMQ a subscription takes effect at once (no slow joiner).

import { errors } from '../../errors.js';
import type {
  Closable, FrameHandler, PublisherOptions, PublisherSocket, ReceiveOptions, ReplyHandler, RequesterSocket, SocketFactory,
} from '../sockets.js';

function startsWith(frame: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > frame.length) return false;
  for (let i = 0; i < prefix.length; i++) if (frame[i] !== prefix[i]) return false;
  return true;
}

/** One subscriber's inbox: frames handled strictly one after another. */
class Inbox {
  private readonly frames: Uint8Array[] = [];
  private running = false;
  closed = false;
  constructor(readonly prefix: Uint8Array, private readonly handler: FrameHandler) {}
  push(frame: Uint8Array): void {
    if (this.closed || !startsWith(frame, this.prefix)) return;
    this.frames.push(frame);
    if (!this.running) void this.drain();
  }
  private async drain(): Promise<void> {
    this.running = true;
    // Deliver on a later turn, as a socket would: the publisher's call returns first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.frames.length > 0 && !this.closed) {
      const frame = this.frames.shift()!;
      try {
        await this.handler(frame);
      } catch {
        // The handler owns its errors (the service model logs them); a socket only delivers.
      }
    }
    this.running = false;
  }
}

/** A serial replyer: requests wait their turn, as on a REP socket. */
class Responder {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly handler: ReplyHandler) {}
  answer(frame: Uint8Array): Promise<Uint8Array> {
    const result = this.chain.then(() => this.handler(frame));
    this.chain = result.catch(() => undefined);
    return result;
  }
}

export class MemorySockets implements SocketFactory {
  readonly name = 'memory';
  readonly slowJoiner = false;
  private readonly replyers = new Map<string, Responder>();
  private readonly waitingForReplyer = new Map<string, Set<() => void>>();
  private readonly boundPublishers = new Set<string>();
  /** address → the subscribers connected to it. */
  private readonly subscribers = new Map<string, Set<Inbox>>();
  /** proxy frontend address → backend address. */
  private readonly proxies = new Map<string, string>();
  private readonly open = new Set<Closable>();
  private closed = false;

  private guard(op: string): void {
    if (this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, op);
  }

  private track<T extends Closable>(thing: T): T {
    this.open.add(thing);
    return thing;
  }

  private bindOnce(address: string, taken: boolean): void {
    if (taken) throw new errors.SY_ERR_SOCKET_ADDRESS(address, 'another socket is already bound there (address in use)');
  }

  // In-process frames are not size-limited and connections never drop: ReceiveOptions are accepted and unused.
  async replyer(address: string, handler: ReplyHandler, _options?: ReceiveOptions): Promise<Closable> {
    this.guard('bind a replyer');
    this.bindOnce(address, this.replyers.has(address));
    const responder = new Responder(handler);
    this.replyers.set(address, responder);
    for (const wake of this.waitingForReplyer.get(address) ?? []) wake();
    this.waitingForReplyer.delete(address);
    const handle = this.track({
      close: async () => {
        if (this.replyers.get(address) === responder) this.replyers.delete(address);
        this.open.delete(handle);
      },
    });
    return handle;
  }

  /** The replyer at `address` once one is bound; `cancel` forgets the wait (a timed-out request is dropped, as ZeroMQ drops it). */
  private whenReplyer(address: string): { ready: Promise<Responder>; cancel(): void } {
    const now = this.replyers.get(address);
    if (now) return { ready: Promise.resolve(now), cancel: () => undefined };
    let wake!: () => void;
    const ready = new Promise<Responder>((resolve) => {
      wake = () => resolve(this.replyers.get(address)!);
    });
    let set = this.waitingForReplyer.get(address);
    if (!set) this.waitingForReplyer.set(address, (set = new Set()));
    set.add(wake);
    return { ready, cancel: () => this.waitingForReplyer.get(address)?.delete(wake) };
  }

  async requester(address: string, _options?: ReceiveOptions): Promise<RequesterSocket> {
    this.guard('connect a requester');
    let chain: Promise<unknown> = Promise.resolve();
    let closed = false;
    const socket: RequesterSocket = {
      request: (frame, options) => {
        if (closed) return Promise.reject(new errors.SY_ERR_TRANSPORT_CLOSED(this.name, `request on ${address}`));
        const attempt = async () => {
          const wait = this.whenReplyer(address);
          const exchange = wait.ready.then((r) => r.answer(frame));
          if (options?.timeoutMs === undefined) return exchange;
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              wait.cancel();
              reject(new errors.SY_ERR_REQUEST_TIMEOUT(address, options.timeoutMs!));
            }, options.timeoutMs);
          });
          try {
            return await Promise.race([exchange, timeout]);
          } finally {
            clearTimeout(timer);
          }
        };
        const result = chain.then(attempt);
        chain = result.catch(() => undefined);
        return result;
      },
      close: async () => {
        closed = true;
        this.open.delete(socket);
      },
    };
    return this.track(socket);
  }

  async publisher(address: string, options: PublisherOptions = {}): Promise<PublisherSocket> {
    this.guard('open a publisher');
    if (!options.connect) {
      this.bindOnce(address, this.boundPublishers.has(address) || [...this.proxies.values()].includes(address));
      this.boundPublishers.add(address);
    }
    let closed = false;
    const socket: PublisherSocket = {
      publish: async (frame) => {
        if (closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, `publish on ${address}`);
        // Connected to a proxy's frontend: the proxy hands frames on to its backend's subscribers.
        const target = options.connect ? this.proxies.get(address) : address;
        if (target === undefined) return; // no proxy there (yet): PUB drops frames with no peer
        for (const inbox of this.subscribers.get(target) ?? []) inbox.push(frame);
      },
      close: async () => {
        closed = true;
        if (!options.connect) this.boundPublishers.delete(address);
        this.open.delete(socket);
      },
    };
    return this.track(socket);
  }

  async subscriber(address: string, prefix: Uint8Array, handler: FrameHandler, _options?: ReceiveOptions): Promise<Closable> {
    this.guard('connect a subscriber');
    const inbox = new Inbox(prefix, handler);
    let set = this.subscribers.get(address);
    if (!set) this.subscribers.set(address, (set = new Set()));
    set.add(inbox);
    const handle = this.track({
      close: async () => {
        inbox.closed = true;
        this.subscribers.get(address)?.delete(inbox);
        this.open.delete(handle);
      },
    });
    return handle;
  }

  async proxy(frontend: string, backend: string): Promise<Closable> {
    this.guard('start a proxy');
    this.bindOnce(frontend, this.proxies.has(frontend));
    this.bindOnce(backend, this.boundPublishers.has(backend) || [...this.proxies.values()].includes(backend));
    this.proxies.set(frontend, backend);
    const handle = this.track({
      close: async () => {
        this.proxies.delete(frontend);
        this.open.delete(handle);
      },
    });
    return handle;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const thing of [...this.open]) await thing.close();
  }
}
