// Object storage: the interface every store implements, and helpers for its users.

import type { Readable } from 'node:stream';

export type { ObjectStore } from './object-store.js';

/** Reads a whole stream (e.g. from ObjectStore.get) into one Buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    if (Buffer.isBuffer(chunk)) chunks.push(chunk);
    else if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
    else chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}
