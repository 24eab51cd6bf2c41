// Getting a socket path ready to listen on. A socket file left by a process that died
// (SIGKILL, crash) stays on disk and would make listen() fail with EADDRINUSE; it is
// told apart from a live one by connecting: refused means nobody listens, so it is removed.

import { connect } from 'node:net';
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errors } from '../../errors.js';

/** sun_path is 108 bytes on Linux, one of them the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export function checkSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new errors.SY_ERR_SOCKET_PATH(path, `it is ${bytes} bytes long and unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}; use a shorter socket_dir, service or task name`);
  }
}

export type ProbeResult = 'live' | 'stale' | 'missing';

/** Whether something accepts connections on `path` (live), a dead socket file is there (stale), or nothing. */
export function probeSocket(path: string, timeoutMs = 1_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // A listener that does not accept in time (backlog full) is still alive.
    const timer = setTimeout(() => done('live'), timeoutMs);
    socket.once('connect', () => done('live'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ENOENT' ? 'missing' : err.code === 'ECONNREFUSED' ? 'stale' : 'live'));
  });
}

/**
 * Creates the parent folders and clears a stale socket file. Throws SY_ERR_SOCKET_IN_USE when
 * a live process serves the path, SY_ERR_SOCKET_PATH when it is too long or not a socket.
 * Returns true when a stale socket was removed.
 */
export async function prepareSocketPath(path: string): Promise<boolean> {
  checkSocketPathLength(path);
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (err) {
    throw new errors.SY_ERR_SOCKET_PATH(path, `its folder cannot be created (${(err as Error).message})`);
  }
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch {
    return false;
  }
  if (!isSocket) throw new errors.SY_ERR_SOCKET_PATH(path, 'a file that is not a socket is in the way; remove it or choose another socket_dir');
  const state = await probeSocket(path);
  if (state === 'live') throw new errors.SY_ERR_SOCKET_IN_USE(path);
  if (state === 'stale') await unlink(path).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
  return state === 'stale';
}

/**
 * For a socket the copies of a node:cluster group share: the length check and the folder,
 * nothing else (the primary cleared the path before the copies started; what is there now
 * is a sibling's live socket).
 */
export async function prepareSharedPath(path: string): Promise<void> {
  checkSocketPathLength(path);
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (err) {
    throw new errors.SY_ERR_SOCKET_PATH(path, `its folder cannot be created (${(err as Error).message})`);
  }
}
