// The sending side of one acomm exchange: dial, write one framed message, read one framed
// reply, close. A failure to connect is its own error class, so callers can fail over to
// another socket when nothing was delivered.

import { connect, type Socket } from 'node:net';
import { encodeFrame, readJsonFrame, type ReadFrameOptions } from './framing.js';

/** Nothing was delivered: the socket is missing, refused (stale) or the connect timed out. */
export class UnixConnectError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(path: string, code: string, message: string) {
    super(`cannot connect to ${path}: ${message}`);
    this.name = 'UnixConnectError';
    this.code = code;
    this.path = path;
  }
}

export interface ExchangeOptions extends ReadFrameOptions {
  /** Connect timeout. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
}

/** Opens a connection; rejects with UnixConnectError when it cannot be made. */
export function connectUnix(path: string, timeoutMs = 2_000): Promise<Socket> {
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
      reject(new UnixConnectError(path, err.code ?? 'EUNKNOWN', err.code === 'ECONNREFUSED' ? 'connection refused (a stale socket: its process is gone)' : err.message));
    };
    socket.once('error', onError);
  });
}

/** One exchange: sends `json` framed and resolves with the parsed reply. */
export async function exchange(path: string, json: string, options: ExchangeOptions = {}): Promise<unknown> {
  const socket = await connectUnix(path, options.connectTimeoutMs);
  // Errors after connect surface through readJsonFrame; this keeps them from being unhandled.
  socket.on('error', () => undefined);
  try {
    socket.write(encodeFrame(json));
    return await readJsonFrame(socket, options);
  } finally {
    socket.destroy();
  }
}
