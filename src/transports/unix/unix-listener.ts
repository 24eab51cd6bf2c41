// A unix-socket listener for acomm exchanges: each connection carries one framed message
// in and one framed reply out, then closes (SPECS.md §4.1). The socket file exists from
// start to stop; close() stops accepting, removes the file, and waits for the exchanges
// still in progress. Accepted connections are served on their bare pipe handle where this
// Node offers it (the bare section below), else as net.Sockets.

import { createServer, type Server, type Socket } from 'node:net';
import { chmod, stat, unlink } from 'node:fs/promises';
import {
  collectFrame, DEFAULT_FRAME_READ_TIMEOUT_MS, DEFAULT_MAX_FRAME_BYTES, encodeFrame, feedFrame, frameEndError, FrameError, frameJson, frameTimeoutError,
  type FrameState, type ReadFrameOptions,
} from './framing.js';
import { errnoName, pipesInUse, UV_EOF, type BarePipes, type PipeHandle } from './pipe-handle.js';
import { prepareSharedPath, prepareSocketPath } from './socket-path.js';
import { unixUrl } from './acomm.js';

/**
 * A reply: its JSON text, or the text with a callback told whether the reply reached the
 * peer's socket (true once it is written in full to the kernel, false when the connection
 * failed first). An acomm provider starts work only on true: a peer that never got the ack
 * may offer the request to another provider, and the work must not run twice. Or a reply
 * already framed (encodeFrame): a constant one, such as a response hook's ack, is then
 * framed once rather than per connection.
 */
export type ExchangeReply = string | { readonly json: string; written(ok: boolean): void } | { readonly frame: Buffer };

export interface ExchangeListenerOptions extends ReadFrameOptions {
  readonly path: string;
  /** File mode of the socket. Default 0o660: owner and group may connect. */
  readonly mode?: number;
  /**
   * In a copy of a node:cluster group (`--instances`): listen through the primary, so that
   * every copy serves this one socket. The primary binds it, so it must have prepared the
   * path (prepareSocketPath) before the copies start: a copy cannot tell its siblings'
   * live socket from a stranger's and does not probe. Default false: this process alone
   * listens on the path, as outside a cluster.
   */
  readonly shared?: boolean;
  /** Answers one message; the reply's JSON text is framed and sent back. */
  handle(message: unknown): ExchangeReply | Promise<ExchangeReply>;
  /** The reply to a frame that could not be read (undefined = just close). */
  onFrameError?(err: FrameError): string | undefined;
  /** Failures with no one to tell (a reply that could not be written); for logs. */
  onError?(err: Error): void;
}

export interface ExchangeListener {
  readonly path: string;
  readonly url: string;
  /** True when a stale socket file from a dead process was replaced at start. */
  readonly replacedStale: boolean;
  /** Stops accepting, removes the socket file, waits for exchanges in progress. */
  close(): Promise<void>;
}

/** How long a closed-with-error connection is drained before it is cut, so the peer can read the reply. */
const DRAIN_MS = 1_000;

// Per connection, the hot path is: read the frame, hand it to `handle`, write the reply and
// close. It keeps its state on the socket and uses shared event handlers (`this` is the
// socket), and it closes with one write and a destroy: the reply is in the kernel once the
// write returns with nothing left queued, so there is no shutdown and no wait for the peer's
// end, which would cost a system call and a wake-up more per connection.

interface ListenerState {
  readonly options: ExchangeListenerOptions;
  readonly readOptions: ReadFrameOptions;
  /** Connections still waiting for their frame: close() cuts them rather than wait out the read timeout. */
  readonly reading: Set<{ destroy(): void }>;
  /** Connections accepted whose reply is not yet written. */
  pending: number;
  /** Called when pending drops to 0 while closing. */
  idle: (() => void) | undefined;
}

const kListener = Symbol('switchyard.listener');
type ServedSocket = Socket & { [kListener]?: ListenerState };

function onConnection(this: Server & { [kListener]?: ListenerState }, socket: ServedSocket): void {
  const state = this[kListener]!;
  socket[kListener] = state;
  state.pending++;
  state.reading.add(socket);
  collectFrame(socket, state.readOptions, onRequestFrame);
}

function settled(state: ListenerState): void {
  if (--state.pending === 0 && state.idle) state.idle();
}

/** The request a read frame carries, or why it has none (JSON never parses to a FrameError). */
function requestOf(err: FrameError | undefined, body: Buffer | undefined): unknown {
  if (err !== undefined) return err;
  try {
    return frameJson(body!);
  } catch (e) {
    return e as FrameError;
  }
}

function onRequestFrame(socket: Socket, err: FrameError | undefined, body: Buffer | undefined): void {
  const state = (socket as ServedSocket)[kListener]!;
  state.reading.delete(socket);
  const message = requestOf(err, body);
  if (message instanceof FrameError) {
    replyToBadFrame(state, socket, message);
    return settled(state);
  }
  let reply: ExchangeReply | Promise<ExchangeReply>;
  try {
    reply = state.options.handle(message);
  } catch (e) {
    return failed(state, socket, e as Error);
  }
  if (typeof reply === 'string' || typeof (reply as Promise<ExchangeReply>).then !== 'function') return sendReply(state, socket, reply as ExchangeReply);
  (reply as Promise<ExchangeReply>).then(
    (r) => sendReply(state, socket, r),
    (e: Error) => failed(state, socket, e),
  );
}

/** `handle` threw: the connection closes unanswered. */
function failed(state: ListenerState, socket: Socket, err: Error): void {
  state.options.onError?.(err);
  socket.destroy();
  settled(state);
}

function replyToBadFrame(state: ListenerState, socket: Socket, err: FrameError): void {
  // Waits no more for the frame: a timeout's or a refused length's connection is still open.
  const reply = err.problem !== 'closed' ? state.options.onFrameError?.(err) : undefined;
  if (reply !== undefined && socket.writable) socket.write(encodeFrame(reply));
  // Read and discard whatever the peer still sends, so it sees the reply rather than a reset.
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), DRAIN_MS).unref();
}

function sendReply(state: ListenerState, socket: Socket, reply: ExchangeReply): void {
  const frame = typeof reply === 'string' ? encodeFrame(reply) : 'frame' in reply ? reply.frame : encodeFrame(reply.json);
  const written = typeof reply === 'string' || 'frame' in reply ? undefined : reply.written;
  settled(state);
  if (socket.destroyed || !socket.writable) {
    written?.(false);
    socket.destroy();
    return;
  }
  socket.write(frame);
  // Closed before `written` is told: what it starts (a provider's handler) may take a while,
  // and the peer should see the end of the exchange at once.
  if (socket.errored) {
    // The peer is gone (EPIPE, reset): the reply never reached it.
    socket.destroy();
    written?.(false);
  } else if (socket.writableLength === 0) {
    // All of it is in the kernel: the peer reads it, then sees the end.
    socket.destroy();
    written?.(true);
  } else {
    // Partly queued (a large reply): finish writing it, then close.
    socket.end((e?: Error | null) => {
      written?.(!e);
      socket.destroy();
    });
  }
}

// The same per connection on a bare pipe handle (pipe-handle.ts), where this Node offers it:
// the listening socket stays a net.Server (bind, mode, a cluster's shared handle, close), but
// each accepted connection is served on its handle without a net.Socket around it, which
// costs more than the connection's system calls. The same limits, replies and closing.

const kBare = Symbol('switchyard.bareConnection');
type ServerHandle = { onconnection: unknown; [kListener]?: ListenerState; [kBarePipes]?: BarePipes };
const kBarePipes = Symbol('switchyard.barePipes');

class BareConnection implements FrameState {
  readonly max: number;
  first: Buffer | undefined = undefined;
  more: Buffer[] | undefined = undefined;
  have = 0;
  length = -1;
  timer: NodeJS.Timeout | undefined = undefined;
  /** The frame is read (or failed): later chunks are not ours. */
  finished = false;
  closed = false;
  written: ((ok: boolean) => void) | undefined = undefined;

  constructor(
    readonly state: ListenerState,
    readonly pipes: BarePipes,
    readonly handle: PipeHandle,
  ) {
    this.max = state.readOptions.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** close() of the listener: stop waiting for the frame. */
  destroy(): void {
    if (!this.finished) bareFrameDone(this, new FrameError('closed', 'the listener closed before the frame arrived'));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pipes.close(this.handle);
  }
}

type BareHandle = PipeHandle & { [kBare]?: BareConnection };

function onBareConnection(this: ServerHandle, status: number, handle: PipeHandle | undefined): void {
  const state = this[kListener]!;
  if (status < 0 || handle === undefined) {
    state.options.onError?.(new Error(`accept ${errnoName(status)}`));
    return;
  }
  const c = new BareConnection(state, this[kBarePipes]!, handle);
  (handle as BareHandle)[kBare] = c;
  state.pending++;
  state.reading.add(c);
  const timeoutMs = state.readOptions.timeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS;
  if (timeoutMs > 0) c.timer = setTimeout(onBareReadTimeout, timeoutMs, c, timeoutMs);
  const err = c.pipes.read(handle, onBareRequestChunk);
  if (err < 0) bareFrameDone(c, new FrameError('closed', `the connection failed while reading: read ${errnoName(err)}`));
}

function onBareReadTimeout(c: BareConnection, timeoutMs: number): void {
  if (!c.finished) bareFrameDone(c, frameTimeoutError(c, timeoutMs));
}

function onBareRequestChunk(this: PipeHandle, chunk: Buffer | number): void {
  const c = (this as BareHandle)[kBare]!;
  if (c.finished) return;
  if (typeof chunk === 'number') return bareFrameDone(c, chunk === UV_EOF ? frameEndError(c) : new FrameError('closed', `the connection failed while reading: read ${errnoName(chunk)}`));
  const got = feedFrame(c, chunk);
  if (got === undefined) return;
  if (got instanceof FrameError) bareFrameDone(c, got);
  else bareFrameDone(c, undefined, got);
}

/** The frame is read, or failed: as onRequestFrame. */
function bareFrameDone(c: BareConnection, err: FrameError | undefined, body?: Buffer): void {
  c.finished = true;
  if (c.timer !== undefined) clearTimeout(c.timer);
  c.first = undefined;
  c.more = undefined;
  const { state } = c;
  state.reading.delete(c);
  // What is left unread is not ours: no more is read from the peer.
  if (!c.closed) c.handle.readStop();
  const message = requestOf(err, body);
  if (message instanceof FrameError) {
    bareReplyToBadFrame(c, message);
    return settled(state);
  }
  let reply: ExchangeReply | Promise<ExchangeReply>;
  try {
    reply = state.options.handle(message);
  } catch (e) {
    return bareFailed(c, e as Error);
  }
  if (typeof reply === 'string' || typeof (reply as Promise<ExchangeReply>).then !== 'function') return bareSendReply(c, reply as ExchangeReply);
  (reply as Promise<ExchangeReply>).then(
    (r) => bareSendReply(c, r),
    (e: Error) => bareFailed(c, e),
  );
}

function bareFailed(c: BareConnection, err: Error): void {
  c.state.options.onError?.(err);
  c.close();
  settled(c.state);
}

function bareReplyToBadFrame(c: BareConnection, err: FrameError): void {
  if (c.closed) return;
  if (err.problem === 'closed') return c.close();
  const reply = c.state.options.onFrameError?.(err);
  if (reply !== undefined) c.pipes.write(c.handle, encodeFrame(reply), c, ignoreWritten);
  // As replyToBadFrame: the end after the reply, and whatever the peer still sends read and
  // discarded, so it sees the reply rather than a reset; cut after DRAIN_MS at the latest.
  c.pipes.shutdown(c.handle);
  c.pipes.read(c.handle, onBareDiscard);
  setTimeout(closeBare, DRAIN_MS, c).unref();
}

function ignoreWritten(): void {}

function onBareDiscard(this: PipeHandle, chunk: Buffer | number): void {
  if (typeof chunk === 'number') (this as BareHandle)[kBare]!.close();
}

function closeBare(c: BareConnection): void {
  c.close();
}

function bareSendReply(c: BareConnection, reply: ExchangeReply): void {
  const frame = typeof reply === 'string' ? encodeFrame(reply) : 'frame' in reply ? reply.frame : encodeFrame(reply.json);
  const written = typeof reply === 'string' || 'frame' in reply ? undefined : reply.written;
  settled(c.state);
  if (c.closed) return written?.(false);
  const status = c.pipes.write(c.handle, frame, c, onBareReplyWritten);
  // Closed before `written` is told, as sendReply does: the peer sees the end of the exchange at once.
  if (status === 1) {
    // Partly queued (a large reply): closed once it is all written.
    c.written = written;
    return;
  }
  c.close();
  // 0: all of it is in the kernel (the peer reads it, then sees the end); < 0: the peer is gone.
  written?.(status === 0);
}

function onBareReplyWritten(c: BareConnection, status: number): void {
  c.close();
  const written = c.written;
  c.written = undefined;
  written?.(status >= 0);
}

export async function listenExchanges(options: ExchangeListenerOptions): Promise<ExchangeListener> {
  const { path } = options;
  const shared = options.shared === true;
  const replacedStale = shared ? (await prepareSharedPath(path), false) : await prepareSocketPath(path);
  const state: ListenerState = {
    options,
    readOptions: {
      ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    },
    reading: new Set(),
    pending: 0,
    idle: undefined,
  };
  const server = createServer() as Server & { [kListener]?: ListenerState };
  server[kListener] = state;
  server.on('connection', onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: a copy in a node:cluster group would otherwise hand the socket to the primary.
    server.listen({ path, exclusive: !shared }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Only the inode we created is ever removed: another process may have taken the path since.
  let ino: number | undefined;
  try {
    await chmod(path, options.mode ?? 0o660);
    ino = (await stat(path)).ino;
  } catch (err) {
    server.close();
    throw err;
  }
  server.on('error', (err) => options.onError?.(err));
  // Each connection on its bare handle where this Node offers one (see above); else net's 'connection'.
  const pipes = pipesInUse();
  const serverHandle = (server as unknown as { _handle?: ServerHandle | null })._handle;
  if (pipes !== null && serverHandle && typeof serverHandle.onconnection === 'function') {
    serverHandle[kListener] = state;
    serverHandle[kBarePipes] = pipes;
    serverHandle.onconnection = onBareConnection;
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        if ((await stat(path)).ino === ino) await unlink(path);
      } catch {
        // already gone (libuv removes it on close)
      }
      for (const socket of state.reading) socket.destroy();
      if (state.pending > 0) await new Promise<void>((resolve) => (state.idle = resolve));
      // Connections answered with an error close by themselves within DRAIN_MS.
      await closed;
    })());

  return { path, url: unixUrl(path), replacedStale, close };
}
