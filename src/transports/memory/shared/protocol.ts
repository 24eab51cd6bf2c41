// The wire between the process that hosts the embedded broker and the local processes
// attached to it: msgpack maps in frames of a 4-byte big-endian length and that many bytes,
// over a unix socket the host creates with mode 0600 (only its user can connect). Bounded:
// a frame over MAX_FRAME_BYTES ends the connection.

import { decode, encode } from '@msgpack/msgpack';
import type { DeadLetter, DeadLetterQueue } from '../../dead-letters.js';
import type { Headers } from '../../transport.js';

/** Largest frame either side accepts (a message body plus a little). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Where the broker of a state folder listens. */
export const BROKER_SOCKET = 'broker.sock';

export type ClientOp =
  | { op: 'declare'; id: number; queue: string }
  | { op: 'send'; id: number; queue: string; body: Uint8Array; headers: Headers }
  | { op: 'publish'; id: number; topic: string; body: Uint8Array; headers: Headers }
  | { op: 'consume'; id: number; sub: number; queue: string; prefetch: number }
  | { op: 'subscribe'; id: number; sub: number; topic: string; group: string; prefetch: number }
  | { op: 'unsubscribe'; id: number; sub: number }
  | { op: 'settle'; delivery: number; how: 'ack' | 'requeue' | 'dead-letter'; delayMs?: number; reason?: string }
  | { op: 'request'; id: number; subject: string; body: Uint8Array; headers: Headers; timeoutMs: number }
  | { op: 'serve'; id: number; sub: number; subject: string }
  | { op: 'reply'; req: number; body?: Uint8Array; headers?: Headers; error?: string }
  | { op: 'queues'; id: number }
  // Dead letters (`switchyard queues` / `dead-letters`), answered by the host's MemoryDeadLetters.
  | { op: 'dead-queues'; id: number }
  | { op: 'dead-peek'; id: number; queue: string; limit: number }
  /** `target`: one dead letter's id, or null for all of the queue; answered with `count`. */
  | { op: 'dead-act'; id: number; action: 'retry' | 'discard'; queue: string; target: string | null };

/** Most dead letters one peek returns, whatever the client asks (a frame stays far under MAX_FRAME_BYTES). */
export const MAX_PEEK = 1_000;
/** Body bytes one peek returns at most: the letters past it are left out (the first always goes). */
export const MAX_PEEK_BYTES = 16 * 1024 * 1024;

export interface QueueInfo {
  readonly name: string;
  /** Messages waiting (not in flight). */
  readonly depth: number;
  /** Consumers reading it now (hosts before dead-letter ops did not send it). */
  readonly consumers?: number;
}

export type HostOp =
  | { op: 'ok'; id: number; body?: Uint8Array; headers?: Headers; queues?: QueueInfo[]; deadQueues?: DeadLetterQueue[]; letters?: DeadLetter[]; count?: number }
  | { op: 'error'; id: number; code?: string; message: string }
  | { op: 'deliver'; sub: number; delivery: number; body: Uint8Array; headers: Headers; queue: string; attempt: number }
  | { op: 'serve-request'; sub: number; req: number; body: Uint8Array; headers: Headers };

export function encodeFrame(message: ClientOp | HostOp): Buffer {
  const payload = encode(message);
  const frame = Buffer.allocUnsafe(4 + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.set(payload, 4);
  return frame;
}

/**
 * Cuts a byte stream into decoded frames. Throws on a frame over the limit or one that is
 * not msgpack; the caller ends the connection.
 */
export class FrameReader {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): unknown[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: unknown[] = [];
    while (this.#buffer.length >= 4) {
      const size = this.#buffer.readUInt32BE(0);
      if (size > MAX_FRAME_BYTES) throw new Error(`frame of ${size} bytes is over the limit of ${MAX_FRAME_BYTES}`);
      if (this.#buffer.length < 4 + size) break;
      out.push(decode(this.#buffer.subarray(4, 4 + size)));
      this.#buffer = this.#buffer.subarray(4 + size);
    }
    return out;
  }
}

/**
 * Reads the frames arriving on `socket`, handing each decoded message to `onMessage`; a
 * frame that cannot be read (too large, not msgpack) ends the connection: a peer that sends
 * one is not speaking this protocol.
 */
export function onFrames(socket: import('node:net').Socket, onMessage: (message: unknown) => void): void {
  const reader = new FrameReader();
  socket.on('data', (chunk: Buffer) => {
    let messages: unknown[];
    try {
      messages = reader.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const m of messages) onMessage(m);
  });
}
