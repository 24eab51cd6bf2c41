// The socket interface over ZeroMQ (npm package zeromq 6.x): REP, REQ, PUB, SUB and an
// XSUB/XPUB proxy, wire-compatible with pyzmq sockets of Python service_framework.
//
// Binding: the original binds "tcp://*:{port}" (every interface). We bind the host the
// address names, so "127.0.0.1:8899" stays on loopback; write "*:8899" or "0.0.0.0:8899"
// for every interface.

import * as zmq from 'zeromq';
import { errors } from '../../errors.js';
import type {
  Closable, FrameHandler, PublisherOptions, PublisherSocket, ReplyHandler, RequesterSocket, SocketFactory,
} from '../sockets.js';
import { splitAddress } from '../sockets.js';

/** "host:port" → "tcp://host:port"; full endpoints pass through. */
export function endpointOf(address: string): string {
  if (/^[a-z]+:\/\//.test(address)) return address;
  const parts = splitAddress(address);
  if (!parts || parts.host === '') throw new errors.SY_ERR_SOCKET_ADDRESS(address, 'it is not host:port');
  return `tcp://${parts.host}:${parts.port}`;
}

/** Errors a read loop meets when its socket is closed under it: the loop just ends. */
function isClosedError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'EBADF' || code === 'ENOTSOCK' || code === 'ETERM';
}

async function bindTo(socket: zmq.Socket, address: string): Promise<void> {
  const endpoint = endpointOf(address);
  try {
    await socket.bind(endpoint);
  } catch (err) {
    socket.close();
    throw new errors.SY_ERR_SOCKET_ADDRESS(address, `binding ${endpoint} failed (${(err as Error).message})`);
  }
}

function connectTo(socket: zmq.Socket, address: string): void {
  const endpoint = endpointOf(address);
  try {
    socket.connect(endpoint);
  } catch (err) {
    socket.close();
    throw new errors.SY_ERR_SOCKET_ADDRESS(address, `connecting to ${endpoint} failed (${(err as Error).message})`);
  }
}

export interface ZeroMqSocketsOptions {
  /**
   * Told when a socket's read loop fails and stops (not when it is closed). Default: a
   * process warning. A transport has no logger of its own; the CLI passes one in.
   */
  readonly onError?: (what: string, err: unknown) => void;
}

export class ZeroMqSockets implements SocketFactory {
  readonly name = 'zeromq';
  readonly slowJoiner = true;
  private readonly open = new Set<Closable>();
  private closed = false;
  private readonly onError: (what: string, err: unknown) => void;

  constructor(options: ZeroMqSocketsOptions = {}) {
    this.onError = options.onError ?? ((what, err) => process.emitWarning(`zeromq ${what} stopped: ${(err as Error)?.message ?? String(err)}`));
  }

  /** A read loop never rejects unobserved: a failure is reported, a close is not. */
  private guardLoop(what: string, socket: zmq.Socket, loop: Promise<void>): Promise<void> {
    return loop.catch((err: unknown) => {
      if (!socket.closed && !isClosedError(err)) this.onError(what, err);
    });
  }

  private guard(op: string): void {
    if (this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, op);
  }

  /** Tracks a socket and the loop reading it; close() closes the socket and waits for the loop. */
  private track(sockets: zmq.Socket[], loops: Promise<void>[] = []): Closable {
    let closing: Promise<void> | undefined;
    const handle: Closable = {
      close: () => {
        closing ??= (async () => {
          this.open.delete(handle);
          for (const s of sockets) if (!s.closed) s.close();
          await Promise.allSettled(loops);
        })();
        return closing;
      },
    };
    this.open.add(handle);
    return handle;
  }

  async replyer(address: string, handler: ReplyHandler): Promise<Closable> {
    this.guard('bind a replyer');
    const socket = new zmq.Reply({ linger: 0 });
    await bindTo(socket, address);
    const loop = (async () => {
      for await (const [frame] of socket) {
        // REP must answer every request before it can read the next one. The service model
        // turns its failures into error replies; should a handler throw anyway, an empty
        // frame still answers (the requester reports it unreadable) and the loop goes on.
        let reply: Uint8Array;
        try {
          reply = await handler(frame ?? new Uint8Array(0));
        } catch {
          reply = new Uint8Array(0);
        }
        await socket.send(reply);
      }
    })();
    return this.track([socket], [this.guardLoop(`replyer at ${address}`, socket, loop)]);
  }

  async requester(address: string): Promise<RequesterSocket> {
    this.guard('connect a requester');
    const make = () => {
      const s = new zmq.Request({ linger: 0 });
      connectTo(s, address);
      return s;
    };
    let socket = make();
    let socketTimeout = -1; // ZeroMQ's default: wait forever
    let chain: Promise<unknown> = Promise.resolve();
    let inFlight = 0;
    const done = () => {
      inFlight--;
    };
    let closed = false;
    const handle = this.track([]);
    const requester: RequesterSocket = {
      request: (frame, options) => {
        const exchange = async (): Promise<Uint8Array> => {
          if (closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, `request on ${address}`);
          // A socket option is a native call: set it only when it changes.
          const timeout = options?.timeoutMs ?? -1;
          if (socketTimeout !== timeout) socket.receiveTimeout = socketTimeout = timeout;
          await socket.send(frame);
          try {
            const [reply] = await socket.receive();
            return reply ?? new Uint8Array(0);
          } catch (err) {
            if ((err as { code?: string }).code !== 'EAGAIN' || closed) throw err;
            // A REQ socket that gave up waiting cannot send again: start a fresh one.
            socket.close();
            socket = make();
            socketTimeout = -1;
            throw new errors.SY_ERR_REQUEST_TIMEOUT(address, options!.timeoutMs!);
          }
        };
        // Idle: send at once rather than a promise hop later (this is on every request's path).
        const idle = inFlight === 0;
        inFlight++;
        const result = idle ? exchange() : chain.then(exchange);
        chain = result.then(done, done);
        return result;
      },
      close: async () => {
        closed = true;
        if (!socket.closed) socket.close();
        await handle.close();
      },
    };
    return requester;
  }

  async publisher(address: string, options: PublisherOptions = {}): Promise<PublisherSocket> {
    this.guard('open a publisher');
    const socket = new zmq.Publisher({ linger: 0 });
    if (options.connect) connectTo(socket, address);
    else await bindTo(socket, address);
    const handle = this.track([socket]);
    return {
      publish: async (frame) => {
        await socket.send(frame);
      },
      close: () => handle.close(),
    };
  }

  async subscriber(address: string, prefix: Uint8Array, handler: FrameHandler): Promise<Closable> {
    this.guard('connect a subscriber');
    const socket = new zmq.Subscriber({ linger: 0 });
    connectTo(socket, address);
    socket.subscribe(Buffer.from(prefix));
    const loop = (async () => {
      for await (const [frame] of socket) {
        try {
          await handler(frame ?? new Uint8Array(0));
        } catch {
          // The handler owns its errors (the service model logs them); keep reading.
        }
      }
    })();
    return this.track([socket], [this.guardLoop(`subscriber of ${address}`, socket, loop)]);
  }

  async proxy(frontend: string, backend: string): Promise<Closable> {
    this.guard('start a proxy');
    const xsub = new zmq.XSubscriber({ linger: 0 });
    const xpub = new zmq.XPublisher({ linger: 0 });
    await bindTo(xsub, frontend);
    try {
      await bindTo(xpub, backend);
    } catch (err) {
      xsub.close();
      throw err;
    }
    const forward = (from: zmq.XSubscriber | zmq.XPublisher, to: zmq.XSubscriber | zmq.XPublisher, what: string) =>
      this.guardLoop(what, to.closed ? to : from, (async () => {
        for await (const msg of from) await to.send(msg);
      })());
    // Frames flow publishers → subscribers; subscriptions flow back so publishers filter.
    return this.track([xsub, xpub], [forward(xsub, xpub, `proxy ${frontend} → ${backend}`), forward(xpub, xsub, `proxy subscriptions ${backend} → ${frontend}`)]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const thing of [...this.open]) await thing.close();
  }
}
