// The sending side of one acomm exchange: dial, write one framed message, read one framed
// reply, close. A failure to connect is its own error class, so callers can fail over to
// another socket when nothing was delivered.
//
// This runs once or twice per request (the request and its ack, then the response to its
// hook), so it is written for cost: one promise, one timer and no closure per exchange
// beyond the promise's own; its state lives on the socket and the event handlers are
// shared functions.

import { connect, type Socket } from 'node:net';
import { errors } from '../../errors.js';
import { collectFrame, DEFAULT_FRAME_READ_TIMEOUT_MS, encodeFrame, frameJson, timeOutFrame, type FrameError, type ReadFrameOptions } from './framing.js';

/**
 * Nothing was delivered: the socket is missing, refused (stale) or the connect timed out.
 * SY_ERR_UNIX_CONNECT from the catalogue; `reason` is the system's code (ENOENT,
 * ECONNREFUSED, ETIMEDOUT, ...), so callers can tell a stale socket from a missing one.
 */
export class UnixConnectError extends errors.SY_ERR_UNIX_CONNECT {
  readonly reason: string;
  readonly path: string;
  constructor(path: string, reason: string, message: string) {
    super(path, message);
    this.reason = reason;
    this.path = path;
  }
}

export interface ExchangeOptions extends ReadFrameOptions {
  /** Connect timeout. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;

function connectError(path: string, err: NodeJS.ErrnoException): UnixConnectError {
  return new UnixConnectError(path, err.code ?? 'EUNKNOWN', err.code === 'ECONNREFUSED' ? 'connection refused (a stale socket: its process is gone)' : err.message);
}

/** Opens a connection; rejects with UnixConnectError when it cannot be made. */
export function connectUnix(path: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new UnixConnectError(path, 'ETIMEDOUT', `no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(path, err));
    };
    socket.once('error', onError);
  });
}

interface Exchange {
  readonly path: string;
  readonly frame: Buffer;
  readonly options: ExchangeOptions;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (err: Error) => void;
  /** One timer for the exchange: the connect limit first, then (re-armed only if a reply is slow) the read limit. */
  timer: NodeJS.Timeout;
  connectedAt: number;
  settled: boolean;
}

const kExchange = Symbol('switchyard.exchange');
type ExchangeSocket = Socket & { [kExchange]?: Exchange };

/** One exchange: sends `json` framed and resolves with the parsed reply. */
export function exchange(path: string, json: string, options: ExchangeOptions = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path }) as ExchangeSocket;
    socket[kExchange] = {
      path,
      frame: encodeFrame(json),
      options,
      resolve,
      reject,
      timer: setTimeout(onExchangeTimer, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, socket),
      connectedAt: -1,
      settled: false,
    };
    socket.on('connect', onExchangeConnect);
    socket.on('error', onExchangeError);
  });
}

function settle(socket: ExchangeSocket, x: Exchange, err: Error | undefined, reply?: unknown): void {
  x.settled = true;
  clearTimeout(x.timer);
  socket.destroy();
  if (err) x.reject(err);
  else x.resolve(reply);
}

function onExchangeConnect(this: ExchangeSocket): void {
  const x = this[kExchange]!;
  if (x.settled) return;
  x.connectedAt = performance.now();
  // The read limit is kept by the exchange's one timer: left running when it fires before the
  // read limit would (it re-arms itself for the rest then), replaced when the read limit is shorter.
  const readMs = x.options.timeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS;
  if (readMs <= 0) clearTimeout(x.timer);
  else if (readMs < (x.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)) {
    clearTimeout(x.timer);
    x.timer = setTimeout(onExchangeTimer, readMs, this);
  }
  collectFrame(this, { maxFrameBytes: x.options.maxFrameBytes, timeoutMs: 0 }, onExchangeReply);
  this.write(x.frame);
}

function onExchangeReply(socket: Socket, err: FrameError | undefined, body: Buffer | undefined): void {
  const x = (socket as ExchangeSocket)[kExchange]!;
  if (x.settled) return;
  if (err) return settle(socket, x, err);
  let reply: unknown;
  try {
    reply = frameJson(body!);
  } catch (e) {
    return settle(socket, x, e as Error);
  }
  settle(socket, x, undefined, reply);
}

function onExchangeError(this: ExchangeSocket, err: NodeJS.ErrnoException): void {
  const x = this[kExchange]!;
  // After connecting, a failure reaches the frame read (its own 'error' handler) as a FrameError.
  if (x.settled || x.connectedAt >= 0) return;
  settle(this, x, connectError(x.path, err));
}

function onExchangeTimer(socket: ExchangeSocket): void {
  const x = socket[kExchange]!;
  if (x.settled) return;
  const connectMs = x.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (x.connectedAt < 0) return settle(socket, x, new UnixConnectError(x.path, 'ETIMEDOUT', `no connection within ${connectMs} ms`));
  const readMs = x.options.timeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS;
  const left = readMs - (performance.now() - x.connectedAt);
  if (readMs > 0 && left > 1) {
    x.timer = setTimeout(onExchangeTimer, left, socket);
    return;
  }
  timeOutFrame(socket, readMs);
}
