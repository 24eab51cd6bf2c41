// The sending side of one acomm exchange: dial, write one framed message, read one framed
// reply, close. A failure to connect is its own error class, so callers can fail over to
// another socket when nothing was delivered.
//
// This runs once or twice per request (the request and its ack, then the response to its
// hook), so it is written for cost: one promise, one timer and no closure per exchange
// beyond the promise's own; its state lives on the socket and the event handlers are
// shared functions. Where this Node offers it, the exchange runs on the bare pipe handle
// rather than a net.Socket (bareExchange below; pipe-handle.ts says why); node:net is the
// fallback (netExchange), with the same limits and errors.

import { connect, type Socket } from 'node:net';
import { errors } from '../../errors.js';
import {
  collectFrame, DEFAULT_FRAME_READ_TIMEOUT_MS, DEFAULT_MAX_FRAME_BYTES, encodeFrame, feedFrame, frameEndError, FrameError, frameJson, frameTimeoutError,
  timeOutFrame, type FrameState, type ReadFrameOptions,
} from './framing.js';
import { errnoName, pipesInUse, UV_EOF, type BarePipes, type PipeHandle } from './pipe-handle.js';

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
  // On bare pipe handles where this Node offers them (pipe-handle.ts: less than half the CPU per connection), else node:net.
  const pipes = pipesInUse();
  return pipes !== null ? bareExchange(pipes, path, json, options) : netExchange(path, json, options);
}

function netExchange(path: string, json: string, options: ExchangeOptions): Promise<unknown> {
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

// The same exchange on a bare pipe handle: the same limits (connect, read, frame size), the
// same errors, with the state in one object per exchange and shared callbacks.

interface BareExchange extends FrameState {
  readonly pipes: BarePipes;
  readonly path: string;
  readonly frame: Buffer;
  readonly options: ExchangeOptions;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (err: Error) => void;
  handle: PipeHandle | undefined;
  timer: NodeJS.Timeout | undefined;
  connectedAt: number;
  settled: boolean;
}

const kBare = Symbol('switchyard.bareExchange');
type BareHandle = PipeHandle & { [kBare]?: BareExchange };

function bareExchange(pipes: BarePipes, path: string, json: string, options: ExchangeOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const x: BareExchange = {
      pipes,
      path,
      frame: encodeFrame(json),
      options,
      resolve,
      reject,
      handle: undefined,
      timer: undefined,
      connectedAt: -1,
      settled: false,
      max: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      first: undefined,
      more: undefined,
      have: 0,
      length: -1,
    };
    const handle = pipes.connect(path, onBareConnect);
    if (typeof handle === 'number') return reject(bareConnectError(path, handle));
    (handle as BareHandle)[kBare] = x;
    x.handle = handle;
    x.timer = setTimeout(onBareTimer, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, x);
  });
}

function bareConnectError(path: string, status: number): UnixConnectError {
  const code = errnoName(status);
  return new UnixConnectError(path, code, code === 'ECONNREFUSED' ? 'connection refused (a stale socket: its process is gone)' : `connect ${code} ${path}`);
}

function bareSettle(x: BareExchange, err: Error | undefined, reply?: unknown): void {
  x.settled = true;
  if (x.timer !== undefined) clearTimeout(x.timer);
  x.first = undefined;
  x.more = undefined;
  x.pipes.close(x.handle!);
  if (err) x.reject(err);
  else x.resolve(reply);
}

function onBareConnect(handle: PipeHandle, status: number): void {
  const x = (handle as BareHandle)[kBare]!;
  if (x.settled) return;
  if (status < 0) return bareSettle(x, bareConnectError(x.path, status));
  x.connectedAt = performance.now();
  // The one timer keeps the read limit as in netExchange (onExchangeConnect).
  const readMs = x.options.timeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS;
  if (readMs <= 0) {
    clearTimeout(x.timer);
    x.timer = undefined;
  } else if (readMs < (x.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)) {
    clearTimeout(x.timer);
    x.timer = setTimeout(onBareTimer, readMs, x);
  }
  const readErr = x.pipes.read(handle, onBareChunk);
  if (readErr < 0) return bareFailed(x, readErr, 'read');
  const writeErr = x.pipes.write(handle, x.frame, x, onBareWritten);
  if (writeErr < 0) bareFailed(x, writeErr, 'write');
}

/** The connection failed after it was made: as netExchange's frame read reports it. */
function bareFailed(x: BareExchange, status: number, syscall: string): void {
  bareSettle(x, new FrameError('closed', `the connection failed while reading: ${syscall} ${errnoName(status)}`));
}

function onBareWritten(x: BareExchange, status: number): void {
  if (!x.settled && status < 0) bareFailed(x, status, 'write');
}

function onBareChunk(this: PipeHandle, chunk: Buffer | number): void {
  const x = (this as BareHandle)[kBare]!;
  if (x.settled) return;
  if (typeof chunk === 'number') {
    if (chunk === UV_EOF) return bareSettle(x, frameEndError(x));
    return bareFailed(x, chunk, 'read');
  }
  const got = feedFrame(x, chunk);
  if (got === undefined) return;
  if (got instanceof FrameError) return bareSettle(x, got);
  let reply: unknown;
  try {
    reply = frameJson(got);
  } catch (e) {
    return bareSettle(x, e as Error);
  }
  bareSettle(x, undefined, reply);
}

function onBareTimer(x: BareExchange): void {
  if (x.settled) return;
  const connectMs = x.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (x.connectedAt < 0) return bareSettle(x, new UnixConnectError(x.path, 'ETIMEDOUT', `no connection within ${connectMs} ms`));
  const readMs = x.options.timeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS;
  const left = readMs - (performance.now() - x.connectedAt);
  if (readMs > 0 && left > 1) {
    x.timer = setTimeout(onBareTimer, left, x);
    return;
  }
  bareSettle(x, frameTimeoutError(x, readMs));
}
