// The socket interface over ZeroMQ (npm package zeromq 6.x): REP, REQ, PUB, SUB and an
// XSUB/XPUB proxy, wire-compatible with pyzmq sockets of Python service_framework.
//
// Binding: the original binds "tcp://*:{port}" (every interface). We bind the host the
// address names, so "127.0.0.1:8899" stays on loopback; write "*:8899" or "0.0.0.0:8899"
// for every interface.
//
// Size: every socket that receives refuses frames over maxMessageSize (16 MiB by default;
// the original has no limit, so one frame of any size was read whole into memory). ZeroMQ
// checks the size in the frame's header and drops the connection before reading the body,
// so a refused frame costs no memory; it is never delivered, so it cannot be answered. What
// each side sees: a requester of ours whose connection drops while it waits fails with
// SY_ERR_SOCKET_DISCONNECTED (rather than waiting forever for a reply that cannot come); a
// replyer or subscriber of ours logs the dropped connection (rate-limited), naming the limit.

import * as zmq from 'zeromq';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './defaults.js';
import type {
  Closable, FrameHandler, PublisherOptions, PublisherSocket, ReceiveOptions, ReplyHandler, RequesterSocket, SocketFactory,
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
  /**
   * The largest frame a socket accepts, in bytes (ZMQ_MAXMSGSIZE); a peer sending a larger
   * one is disconnected before its body is read. -1: no limit (the original's behaviour).
   * Default DEFAULT_MAX_MESSAGE_SIZE (16 MiB).
   */
  readonly maxMessageSize?: number;
  /** Where dropped connections of bound sockets are reported (rate-limited warnings). Default: not reported. */
  readonly logger?: Logger;
}

/**
 * Calls `listener` on each 'disconnect' of a socket. An Observer of our own with its own
 * read loop, closed with the socket (closeSocket): zeromq's `socket.events.on(...)` keeps
 * a connected socket's process alive after the socket is closed.
 */
const observers = new WeakMap<zmq.Socket, zmq.Observer>();
function onDisconnect(socket: zmq.Socket, listener: () => void, failed: (err: unknown) => void, attempt = 0): void {
  let observer: zmq.Observer;
  try {
    observer = new zmq.Observer(socket);
  } catch (err) {
    // The monitor endpoint is named after the native socket's address; a socket closed a
    // moment ago at the same address may still hold it until ZeroMQ's reaper lets it go.
    if ((err as { code?: string }).code === 'EADDRINUSE' && attempt < 50 && !socket.closed) {
      setTimeout(() => {
        if (!socket.closed) onDisconnect(socket, listener, failed, attempt + 1);
      }, 20).unref();
    } else if (!socket.closed) {
      failed(err); // the socket works on, only unwatched
    }
    return;
  }
  observers.set(socket, observer);
  void (async () => {
    try {
      for await (const event of observer) {
        if (event.type !== 'disconnect') continue;
        try {
          listener();
        } catch (err) {
          failed(err);
        }
      }
    } catch {
      // The observer ends with its socket.
    }
  })();
}

/**
 * Connects a connecting socket again. ZeroMQ reconnects by itself after a peer goes away,
 * but not after refusing a frame over maxMessageSize: a protocol error ends the connecting
 * side's session for good, and the socket would stay silent for ever. Harmless when ZeroMQ
 * was reconnecting anyway (the new session replaces its attempt).
 */
function reconnect(socket: zmq.Socket, address: string): void {
  if (socket.closed) return;
  const endpoint = endpointOf(address);
  try {
    socket.disconnect(endpoint);
  } catch {
    // The session already ended.
  }
  socket.connect(endpoint);
}

/**
 * Closes a socket; its observer, if any, ends by itself: the socket's monitor sends a last
 * event (MONITOR_STOPPED) on which the observer closes. Closing the observer ourselves while
 * its read is pending leaves a stale poll on its file descriptor: the next socket made in
 * the process can get the same descriptor and then never sends (a requester made after a
 * watched replyer closed timed out). A watch that has not ended after a while is closed.
 */
function closeSocket(socket: zmq.Socket): void {
  const observer = observers.get(socket);
  if (!socket.closed) socket.close();
  if (observer && !observer.closed) {
    setTimeout(() => {
      if (!observer.closed) observer.close();
    }, 2000).unref();
  }
}

/** A size limit as given, checked: a whole number ≥ 1, or -1 for none. */
function checkedSize(max: number): number {
  if (!Number.isSafeInteger(max) || (max < 1 && max !== -1)) {
    throw new errors.SY_ERR_SETTINGS(`zeromq maxMessageSize ${JSON.stringify(max)} is not valid; give a whole number of bytes ≥ 1, or -1 for no limit`);
  }
  return max;
}

/** "16 MiB", "1000 bytes", "no" — for messages. */
function describeSize(bytes: number): string {
  if (bytes < 0) return 'no';
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

export class ZeroMqSockets implements SocketFactory {
  readonly name = 'zeromq';
  readonly slowJoiner = true;
  readonly maxMessageSize: number;
  private readonly open = new Set<Closable>();
  private closed = false;
  private readonly onError: (what: string, err: unknown) => void;
  private readonly warnings: WarnLimiter | undefined;

  constructor(options: ZeroMqSocketsOptions = {}) {
    this.onError = options.onError ?? ((what, err) => process.emitWarning(`zeromq ${what} stopped: ${(err as Error)?.message ?? String(err)}`));
    this.maxMessageSize = checkedSize(options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
    this.warnings = options.logger ? warnLimiter(options.logger) : undefined;
  }

  /** Options every receiving socket gets: the socket's own size limit, or the factory's. */
  private receiving(max = this.maxMessageSize): { linger: number; maxMessageSize: number } {
    return { linger: 0, maxMessageSize: max };
  }

  /**
   * Reports the dropped connections of a socket (rate-limited): a peer that stopped, or one
   * whose frame was over maxMessageSize (ZeroMQ tells the two apart nowhere). A connecting
   * socket (`connectedTo`) is also connected again: after refusing a frame ZeroMQ would not.
   */
  private watchDrops(socket: zmq.Socket, what: string, max: number, connectedTo?: string): void {
    const warnings = this.warnings;
    if (!warnings && connectedTo === undefined) return;
    onDisconnect(socket, () => {
      if (socket.closed) return;
      if (connectedTo !== undefined) reconnect(socket, connectedTo);
      if (!warnings) return;
      warnings.warn(`dropped:${what}`, { socket: what, maxMessageSize: max },
        `a peer's connection to the ${what} dropped: the peer stopped, or it sent a frame over the ${describeSize(max)} limit (maxMessageSize), which is refused unread`);
    }, (err) => this.onError(`watching the connections of the ${what}`, err));
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
  private track(sockets: zmq.Socket[] | (() => zmq.Socket[]), loops: Promise<void>[] = []): Closable {
    let closing: Promise<void> | undefined;
    const handle: Closable = {
      close: () => {
        closing ??= (async () => {
          this.open.delete(handle);
          for (const s of typeof sockets === 'function' ? sockets() : sockets) closeSocket(s);
          await Promise.allSettled(loops);
        })();
        return closing;
      },
    };
    this.open.add(handle);
    return handle;
  }

  async replyer(address: string, handler: ReplyHandler, options: ReceiveOptions = {}): Promise<Closable> {
    this.guard('bind a replyer');
    const max = options.maxMessageSize === undefined ? this.maxMessageSize : checkedSize(options.maxMessageSize);
    const socket = new zmq.Reply(this.receiving(max));
    await bindTo(socket, address);
    this.watchDrops(socket, `replyer at ${address}`, max);
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

  async requester(address: string, options: ReceiveOptions = {}): Promise<RequesterSocket> {
    this.guard('connect a requester');
    const max = options.maxMessageSize === undefined ? this.maxMessageSize : checkedSize(options.maxMessageSize);
    // One REQ socket for the requester's life, relaxed and correlated: after a timeout or a
    // dropped connection it may send the next request at once, and a late reply to an
    // abandoned request (its id no longer the current one) is discarded by ZeroMQ itself,
    // so it can never be taken for the answer to a later request. Both also reconnect, which
    // drops what the old connection still queued. (Recreating the socket instead churns
    // sockets, and with them ZeroMQ's monitor endpoints.)
    const socket = new zmq.Request({ ...this.receiving(max), relaxed: true, correlate: true });
    connectTo(socket, address);
    /** The request waiting for its reply, if any. */
    let waiting: { resolve(frame: Uint8Array): void; reject(err: unknown): void } | undefined;
    const settle = (how: (w: NonNullable<typeof waiting>) => void) => {
      const w = waiting;
      waiting = undefined;
      if (w) how(w);
    };
    // A connection that drops while a request waits: REQ never sends a request again and
    // the reply can no longer come (the replyer stopped, or a frame was over the limit).
    onDisconnect(socket, () => {
      settle((w) => w.reject(new errors.SY_ERR_SOCKET_DISCONNECTED(address, describeSize(max))));
      reconnect(socket, address);
    }, (err) => this.onError(`watching the connection of the requester of ${address}`, err));
    const reading = this.guardLoop(`requester of ${address}`, socket, (async () => {
      try {
        while (!socket.closed) {
          let frames: Buffer[];
          try {
            frames = await socket.receive();
          } catch (err) {
            // A late reply to an abandoned request arrives, fails the correlation and is
            // dropped by ZeroMQ: the read then ends with EAGAIN. Not an error: read on.
            if (!socket.closed && (err as { code?: string }).code === 'EAGAIN') continue;
            throw err;
          }
          settle((w) => w.resolve(frames[0] ?? new Uint8Array(0)));
        }
      } finally {
        settle((w) => w.reject(new errors.SY_ERR_TRANSPORT_CLOSED(this.name, `request on ${address}`)));
      }
    })());
    let chain: Promise<unknown> = Promise.resolve();
    let inFlight = 0;
    const done = () => {
      inFlight--;
    };
    let closed = false;
    const handle = this.track([socket], [reading]);
    const requester: RequesterSocket = {
      request: (frame, options) => {
        const exchange = async (): Promise<Uint8Array> => {
          if (closed || socket.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, `request on ${address}`);
          const reply = new Promise<Uint8Array>((resolve, reject) => (waiting = { resolve, reject }));
          try {
            await socket.send(frame);
          } catch (err) {
            waiting = undefined;
            throw err;
          }
          // Without timeoutMs: wait for ever, as the original (a dropped connection still ends it).
          const timeoutMs = options?.timeoutMs;
          // A timed-out request is dropped with its connection, as a fresh socket would drop
          // it: never delivered later, to a replyer that comes back after the caller gave up.
          const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
            settle((w) => w.reject(new errors.SY_ERR_REQUEST_TIMEOUT(address, timeoutMs)));
            reconnect(socket, address);
          }, timeoutMs);
          try {
            return await reply;
          } finally {
            clearTimeout(timer);
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
        settle((w) => w.reject(new errors.SY_ERR_TRANSPORT_CLOSED(this.name, `request on ${address}`)));
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

  async subscriber(address: string, prefix: Uint8Array, handler: FrameHandler, options: ReceiveOptions = {}): Promise<Closable> {
    this.guard('connect a subscriber');
    const max = options.maxMessageSize === undefined ? this.maxMessageSize : checkedSize(options.maxMessageSize);
    const socket = new zmq.Subscriber(this.receiving(max));
    connectTo(socket, address);
    this.watchDrops(socket, `subscriber of ${address}`, max, address);
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
    const xsub = new zmq.XSubscriber(this.receiving());
    const xpub = new zmq.XPublisher(this.receiving());
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
    this.warnings?.flush();
  }
}
