// A unix-socket listener for acomm exchanges: each connection carries one framed message
// in and one framed reply out, then closes (SPECS.md §4.1). The socket file exists from
// start to stop; close() stops accepting, removes the file, and waits for the exchanges
// still in progress.

import { createServer, type Server, type Socket } from 'node:net';
import { chmod, stat, unlink } from 'node:fs/promises';
import { encodeFrame, FrameError, readJsonFrame, type ReadFrameOptions } from './framing.js';
import { prepareSharedPath, prepareSocketPath } from './socket-path.js';
import { unixUrl } from './acomm.js';

/**
 * A reply: its JSON text, or the text with a callback told whether the reply reached the
 * peer's socket (true once it is written in full to the kernel, false when the connection
 * failed first). An acomm provider starts work only on true: a peer that never got the ack
 * may offer the request to another provider, and the work must not run twice.
 */
export type ExchangeReply = string | { readonly json: string; written(ok: boolean): void };

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

export async function listenExchanges(options: ExchangeListenerOptions): Promise<ExchangeListener> {
  const { path } = options;
  const shared = options.shared === true;
  const replacedStale = shared ? (await prepareSharedPath(path), false) : await prepareSocketPath(path);
  const open = new Set<Socket>();
  const inFlight = new Set<Promise<void>>();
  // Connections still waiting for their frame: close() cuts them rather than wait out the read timeout.
  const reading = new Set<Socket>();

  const serve = async (socket: Socket) => {
    let message: unknown;
    reading.add(socket);
    try {
      message = await readJsonFrame(socket, options);
    } catch (err) {
      reading.delete(socket);
      const reply = err instanceof FrameError && err.problem !== 'closed' ? options.onFrameError?.(err) : undefined;
      if (reply !== undefined && socket.writable) socket.write(encodeFrame(reply));
      // Read and discard whatever the peer still sends, so it sees the reply rather than a reset.
      socket.end();
      socket.resume();
      setTimeout(() => socket.destroy(), DRAIN_MS).unref();
      return;
    }
    reading.delete(socket);
    let reply: ExchangeReply;
    try {
      reply = await options.handle(message);
    } catch (err) {
      options.onError?.(err as Error);
      socket.destroy();
      return;
    }
    if (typeof reply === 'string') {
      if (socket.writable) socket.end(encodeFrame(reply));
      return;
    }
    const { json, written } = reply;
    let told = false;
    const tell = (ok: boolean) => {
      if (told) return;
      told = true;
      written(ok);
    };
    if (!socket.writable) return tell(false);
    // end()'s callback runs on 'finish' (every byte handed to the kernel) or with the error
    // that prevented it; 'close' covers a socket destroyed with neither.
    socket.once('close', () => tell(false));
    socket.end(encodeFrame(json), (err?: Error | null) => tell(!err));
  };

  const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
    open.add(socket);
    socket.on('error', (err) => options.onError?.(err));
    socket.once('close', () => open.delete(socket));
    const p = serve(socket).catch((err: Error) => options.onError?.(err));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });
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

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        if ((await stat(path)).ino === ino) await unlink(path);
      } catch {
        // already gone (libuv removes it on close)
      }
      for (const socket of reading) socket.destroy();
      await Promise.all([...inFlight]);
      for (const socket of open) socket.end();
      await closed;
    })());

  return { path, url: unixUrl(path), replacedStale, close };
}
