// Message sockets at addresses, the level ZeroMQ works at (REQ/REP, PUB/SUB, an XSUB/XPUB
// proxy). The service model (service_framework's connections and states) is written against
// this interface only; src/transports/zeromq implements it over real sockets and
// src/transports/memory/memory-sockets.ts in-process, so the same service code runs on both.
//
// Addresses are "host:port" as in service_framework's addresses.json; a full endpoint
// ("tcp://…", "ipc://…", "inproc://…") is used as is. A frame is one message part.

export interface Closable {
  close(): Promise<void>;
}

/** Answers each request frame with one reply frame, one request at a time (REP). */
export type ReplyHandler = (frame: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/** Receives each published frame whose bytes start with the subscription prefix. */
export type FrameHandler = (frame: Uint8Array) => Promise<void> | void;

export interface RequesterSocket extends Closable {
  /**
   * Sends one frame and resolves with the reply (REQ). Calls made while one is in flight wait
   * their turn. Rejects with SY_ERR_REQUEST_TIMEOUT after timeoutMs when given.
   */
  request(frame: Uint8Array, options?: { timeoutMs?: number }): Promise<Uint8Array>;
}

export interface PublisherSocket extends Closable {
  /** Publishes one frame to every connected subscriber whose prefix matches (PUB). */
  publish(frame: Uint8Array): Promise<void>;
}

export interface PublisherOptions {
  /**
   * Connect to the address (the frontend of an XSUB/XPUB proxy) instead of binding it:
   * service_framework's `is_x_pub`.
   */
  readonly connect?: boolean;
}

/** Options of a socket that receives (replyer, requester, subscriber). */
export interface ReceiveOptions {
  /**
   * The largest frame this socket accepts, in bytes (-1: no limit); a peer sending a larger
   * one is disconnected before its body is read. Default: the factory's.
   */
  readonly maxMessageSize?: number;
}

export interface SocketFactory extends Closable {
  /** A short name for logs: "zeromq" or "memory". */
  readonly name: string;
  /**
   * True when a subscription takes a moment to reach a publisher after both exist (ZeroMQ's
   * slow-joiner): publishers then wait wait_after_creation_s after creation, as the original.
   */
  readonly slowJoiner: boolean;
  /** Binds a replyer at `address`; `handler` answers every request. */
  replyer(address: string, handler: ReplyHandler, options?: ReceiveOptions): Promise<Closable>;
  /** Connects a requester to the replyer at `address`. */
  requester(address: string, options?: ReceiveOptions): Promise<RequesterSocket>;
  /** Binds (or, with connect, connects) a publisher at `address`. */
  publisher(address: string, options?: PublisherOptions): Promise<PublisherSocket>;
  /** Connects a subscriber to `address`, receiving frames that start with `prefix` (empty: all). */
  subscriber(address: string, prefix: Uint8Array, handler: FrameHandler, options?: ReceiveOptions): Promise<Closable>;
  /**
   * Runs an XSUB/XPUB proxy: publishers connect to `frontend`, subscribers to `backend`, and
   * every frame and subscription is forwarded between them.
   */
  proxy(frontend: string, backend: string): Promise<Closable>;
}

/** Splits "host:port" (or "tcp://host:port"); the port is the text after the last colon, as in the original. */
export function splitAddress(address: string): { host: string; port: number } | undefined {
  const bare = address.replace(/^tcp:\/\//, '');
  const i = bare.lastIndexOf(':');
  if (i < 0) return undefined;
  const port = Number(bare.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: bare.slice(0, i), port };
}
