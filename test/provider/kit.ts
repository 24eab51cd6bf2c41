// Helpers for the provider tests: short temp folders (unix socket paths are limited to
// 107 bytes), raw acomm exchanges, and a response hook to receive what providers send.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { listenResponses, type AcommResponse, type ExchangeListener } from '../../src/transports/unix/mod.js';

export async function shortTempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sy7-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes raw bytes to a socket (then half-closes it if `end`) and collects everything until the provider closes (bounded by timeoutMs). */
export function rawExchange(path: string, bytes: Buffer, timeoutMs = 5_000, end = false): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false });
    }, timeoutMs);
    socket.on('connect', () => (end ? socket.end(bytes) : socket.write(bytes)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The provider may reset after replying; what arrived before counts.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: true });
    });
  });
}

/** The JSON of the one frame in `data`. */
export function frameJson(data: Buffer): unknown {
  const length = data.readUInt32BE(0);
  if (data.length !== 4 + length) throw new Error(`expected one frame of ${length} bytes, got ${data.length - 4} bytes after the header`);
  return JSON.parse(data.subarray(4).toString('utf8'));
}

/** A response hook that keeps what it receives. */
export async function hook(path: string): Promise<{ listener: ExchangeListener; received: AcommResponse[]; next(): Promise<AcommResponse> }> {
  const received: AcommResponse[] = [];
  const waiting: Array<(r: AcommResponse) => void> = [];
  const listener = await listenResponses({
    path,
    onResponse: (r) => {
      const w = waiting.shift();
      if (w) w(r);
      else received.push(r);
    },
  });
  return {
    listener,
    received,
    next: () => {
      const r = received.shift();
      if (r) return Promise.resolve(r);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no response on the hook within 5 s')), 5_000);
        waiting.push((x) => {
          clearTimeout(timer);
          resolve(x);
        });
      });
    },
  };
}
