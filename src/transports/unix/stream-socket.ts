// Single-use stream sockets (SPECS.md §4.5): a socket at a fresh name that accepts one
// connection, writes the source's raw bytes to it (no framing), closes, and removes
// itself. The reader dials the stream URL and reads to EOF.

import { createServer, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors } from '../../errors.js';
import { unixPathOf, unixUrl } from './acomm.js';
import { checkSocketPathLength } from './socket-path.js';
import { connectUnix } from './unix-client.js';

export type StreamSource = Readable | Buffer | string | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export interface StreamSocketOptions {
  readonly mode?: number;
  /** Nobody connected within this: the socket is removed and the source discarded. Default 60000 ms; 0 = wait forever (the original). */
  readonly idleTimeoutMs?: number;
  onError?(err: Error): void;
}

export interface StreamSocket {
  readonly path: string;
  readonly url: string;
  /** Resolves once the bytes were written (true) or the socket expired or was closed unused (false). */
  readonly done: Promise<boolean>;
  /** Removes the socket if nobody connected yet. */
  close(): void;
}

function toReadable(source: StreamSource): Readable {
  if (source instanceof Readable) return source;
  if (typeof source === 'string' || Buffer.isBuffer(source)) return Readable.from([source]);
  return Readable.from(source as AsyncIterable<Uint8Array | string>);
}

export async function openStreamSocket(dir: string, source: StreamSource, options: StreamSocketOptions = {}): Promise<StreamSocket> {
  const path = join(dir, `${randomUUID()}.sock`);
  checkSocketPathLength(path);
  await mkdir(dir, { recursive: true });
  const readable = toReadable(source);
  let used = false;
  let resolveDone!: (written: boolean) => void;
  const done = new Promise<boolean>((resolve) => (resolveDone = resolve));
  const server = createServer((socket: Socket) => {
    if (used) return socket.destroy();
    used = true;
    clearTimeout(timer);
    // Accept limit 1: the file goes as soon as the one reader is in.
    server.close();
    pipeline(readable, socket).then(
      () => resolveDone(true),
      (err: Error) => {
        options.onError?.(err);
        resolveDone(false);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: in a copy of a node:cluster group the socket is this process's own.
    server.listen({ path, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, options.mode ?? 0o660);
  const expire = () => {
    if (used) return;
    used = true;
    server.close();
    readable.destroy();
    resolveDone(false);
  };
  const idle = options.idleTimeoutMs ?? 60_000;
  const timer = idle > 0 ? setTimeout(expire, idle) : undefined;
  timer?.unref();
  return { path, url: unixUrl(path), done, close: expire };
}

/** Opens a stream URL (unix:// dialled, http(s):// fetched) and gives its bytes. */
export async function openStream(url: string): Promise<Readable> {
  const scheme = new URL(url).protocol;
  if (scheme === 'unix:') return connectUnix(unixPathOf(url));
  if (scheme === 'http:' || scheme === 'https:') {
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new errors.SY_ERR_HOOK(url, `GET answered HTTP ${res.status}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  throw new errors.SY_ERR_HOOK(url, 'unknown url type; use unix:// or http(s)://');
}

/** Reads a whole stream URL into memory. */
export async function readStream(url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await openStream(url)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
