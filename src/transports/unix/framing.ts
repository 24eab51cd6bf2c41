// acomm framing (SPECS.md §4.1): a 4-byte big-endian uint32 with the JSON byte length,
// then that many bytes of JSON. The original reads with one Read per part; this reads
// exactly N bytes however the kernel splits them, and refuses bad lengths before
// buffering a byte of the body.

import type { Socket } from 'node:net';
import { errors } from '../../errors.js';
import { parseJson } from './exact-json.js';

/** Largest body read by default: 16 MiB (the original has no limit; a limit keeps one bad peer from exhausting memory). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** How long a peer may take to deliver a whole frame once connected. */
export const DEFAULT_FRAME_READ_TIMEOUT_MS = 10_000;

export const HEADER_BYTES = 4;

/** One framed message: header and JSON body in one buffer, so it goes out in one write. */
export function encodeFrame(json: string | Buffer): Buffer {
  const body = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

export type FrameProblem = 'bad-length' | 'oversize' | 'truncated' | 'not-json' | 'timeout' | 'closed';

/** A frame that could not be read; `problem` says why, the message says how to fix it. */
export class FrameError extends errors.SY_ERR_FRAME {
  readonly problem: FrameProblem;
  constructor(problem: FrameProblem, why: string) {
    super(why);
    this.problem = problem;
  }
}

export interface ReadFrameOptions {
  /** Bodies longer than this are refused without being read. Default DEFAULT_MAX_FRAME_BYTES. */
  readonly maxFrameBytes?: number;
  /** The whole frame must arrive within this. Default DEFAULT_FRAME_READ_TIMEOUT_MS; 0 = no limit. */
  readonly timeoutMs?: number;
}

/** Reads one frame's body from `socket` and parses it as JSON (integers beyond 2^53 as bigints). */
export async function readJsonFrame(socket: Socket, options: ReadFrameOptions = {}): Promise<unknown> {
  const body = await readFrame(socket, options);
  try {
    return parseJson(body.toString('utf8'));
  } catch (err) {
    throw new FrameError('not-json', `the ${body.length}-byte body is not JSON (${(err as Error).message})`);
  }
}

/** Reads exactly one frame's body (the bytes after the length) from `socket`. */
export function readFrame(socket: Socket, options: ReadFrameOptions = {}): Promise<Buffer> {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    let length = -1;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: FrameError | undefined, body?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      // What is left unread is not ours; stop the socket from buffering more of it.
      socket.pause();
      if (err) reject(err);
      else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (length < 0) {
        if (have < HEADER_BYTES) return;
        const all = Buffer.concat(chunks);
        chunks.length = 0;
        chunks.push(all);
        length = all.readUInt32BE(0);
        if (length === 0) return finish(new FrameError('bad-length', 'the length header is 0 (an empty body is not a JSON value)'));
        if (length > max) return finish(new FrameError('oversize', `the length header says ${length} bytes, more than the limit of ${max} bytes (max_frame_bytes)`));
      }
      if (have >= HEADER_BYTES + length) {
        const all = Buffer.concat(chunks);
        finish(undefined, all.subarray(HEADER_BYTES, HEADER_BYTES + length));
      }
    };
    const onEnd = () => {
      if (length < 0) finish(new FrameError(have === 0 ? 'closed' : 'bad-length', have === 0 ? 'the peer closed the connection before sending anything' : `the connection ended after ${have} byte(s), inside the 4-byte length header`));
      else finish(new FrameError('truncated', `the length header says ${length} bytes but the connection ended after ${have - HEADER_BYTES}`));
    };
    const onError = (err: Error) => finish(new FrameError('closed', `the connection failed while reading: ${err.message}`));
    if (timeoutMs > 0) {
      timer = setTimeout(
        () => finish(new FrameError('timeout', length < 0 ? `no complete length header within ${timeoutMs} ms` : `only ${have - HEADER_BYTES} of ${length} body bytes arrived within ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}
