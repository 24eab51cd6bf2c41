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
  if (typeof json !== 'string') {
    const frame = Buffer.allocUnsafe(HEADER_BYTES + json.length);
    frame.writeUInt32BE(json.length, 0);
    json.copy(frame, HEADER_BYTES);
    return frame;
  }
  // One allocation (from Node's pool when small), the text encoded straight into it.
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, HEADER_BYTES, length, 'utf8');
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
  return frameJson(await readFrame(socket, options));
}

/** A frame's body parsed as JSON; FrameError 'not-json' when it is not. */
export function frameJson(body: Buffer): unknown {
  try {
    return parseJson(body.toString('utf8'));
  } catch (err) {
    throw new FrameError('not-json', `the ${body.length}-byte body is not JSON (${(err as Error).message})`);
  }
}

/** Reads exactly one frame's body (the bytes after the length) from `socket`; its listeners are removed after. */
export function readFrame(socket: Socket, options: ReadFrameOptions = {}): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    collectFrame(socket, options, (s, err, body) => {
      s.off('data', onFrameData);
      s.off('end', onFrameEnd);
      s.off('close', onFrameEnd);
      s.off('error', onFrameError);
      if (err) reject(err);
      else resolve(body!);
    });
  });
}

// The hot path: every acomm exchange reads one frame on a fresh connection, so reading is
// done without a promise, closure or copy per frame where it can be. Its state lives on the
// socket and the event handlers are shared functions (`this` is the socket); a finished
// read leaves them in place, ignoring what comes after (the socket is closed next anyway),
// and its 'error' handler keeps a late failure from going unhandled.

/** Called once per collectFrame: with the body, or with why there is none. */
export type FrameDone = (socket: Socket, err: FrameError | undefined, body: Buffer | undefined) => void;

/**
 * One frame being read, fed chunk by chunk (feedFrame): the one accumulator behind both the
 * socket reader below and the bare pipe handle's (pipe-handle.ts).
 */
export interface FrameState {
  readonly max: number;
  /** The chunks so far: one buffer (the common case), or several once the frame is split. */
  first: Buffer | undefined;
  more: Buffer[] | undefined;
  have: number;
  /** The body length from the header; -1 until all 4 header bytes are in. */
  length: number;
}

export function frameState(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): FrameState {
  return { max: maxFrameBytes, first: undefined, more: undefined, have: 0, length: -1 };
}

/** All chunks so far in one buffer. */
function joined(read: FrameState): Buffer {
  if (read.more === undefined) return read.first!;
  const all = Buffer.concat(read.more, read.have);
  read.first = all;
  read.more = undefined;
  return all;
}

/**
 * Adds a chunk: the body once the frame is complete (a view of the chunk when it came in
 * one), a FrameError for a refused length (before a byte of the body is kept), or
 * undefined while more is needed.
 */
export function feedFrame(read: FrameState, chunk: Buffer): Buffer | FrameError | undefined {
  if (read.first === undefined) read.first = chunk;
  else (read.more ??= [read.first]).push(chunk);
  read.have += chunk.length;
  if (read.length < 0) {
    if (read.have < HEADER_BYTES) return undefined;
    const length = read.more === undefined ? read.first.readUInt32BE(0) : joined(read).readUInt32BE(0);
    read.length = length;
    if (length === 0) return new FrameError('bad-length', 'the length header is 0 (an empty body is not a JSON value)');
    if (length > read.max) return new FrameError('oversize', `the length header says ${length} bytes, more than the limit of ${read.max} bytes (max_frame_bytes)`);
  }
  if (read.have < HEADER_BYTES + read.length) return undefined;
  const body = joined(read).subarray(HEADER_BYTES, HEADER_BYTES + read.length);
  read.first = undefined;
  return body;
}

/** Why the frame is incomplete when the connection ended (the peer's end, or its close) before it was whole. */
export function frameEndError(read: FrameState): FrameError {
  const { have, length } = read;
  if (length >= 0) return new FrameError('truncated', `the length header says ${length} bytes but the connection ended after ${have - HEADER_BYTES}`);
  return new FrameError(have === 0 ? 'closed' : 'bad-length', have === 0 ? 'the peer closed the connection before sending anything' : `the connection ended after ${have} byte(s), inside the 4-byte length header`);
}

/** The frame did not arrive within `timeoutMs`. */
export function frameTimeoutError(read: FrameState, timeoutMs: number): FrameError {
  const { have, length } = read;
  return new FrameError('timeout', length < 0 ? `no complete length header within ${timeoutMs} ms` : `only ${have - HEADER_BYTES} of ${length} body bytes arrived within ${timeoutMs} ms`);
}

interface FrameRead extends FrameState {
  readonly done: FrameDone;
  timer: NodeJS.Timeout | undefined;
  finished: boolean;
}

const kFrameRead = Symbol('switchyard.frameRead');
type ReadingSocket = Socket & { [kFrameRead]?: FrameRead };

/**
 * Reads one frame from `socket` and calls `done` once: with the body, or with a FrameError
 * (bad or oversize length, truncated, timeout, closed). The socket is paused after the
 * frame, so a peer cannot make it buffer more.
 */
export function collectFrame(socket: Socket, options: ReadFrameOptions, done: FrameDone): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS;
  const read: FrameRead = {
    max: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    done,
    first: undefined,
    more: undefined,
    have: 0,
    length: -1,
    timer: timeoutMs > 0 ? setTimeout(onFrameTimeout, timeoutMs, socket, timeoutMs) : undefined,
    finished: false,
  };
  (socket as ReadingSocket)[kFrameRead] = read;
  socket.on('data', onFrameData);
  socket.on('end', onFrameEnd);
  socket.on('close', onFrameEnd);
  socket.on('error', onFrameError);
  socket.resume();
}

function finishFrame(socket: Socket, read: FrameRead, err: FrameError | undefined, body?: Buffer): void {
  read.finished = true;
  if (read.timer !== undefined) clearTimeout(read.timer);
  read.first = undefined;
  read.more = undefined;
  // What is left unread is not ours; stop the socket from buffering more of it.
  socket.pause();
  read.done(socket, err, body);
}

function onFrameData(this: Socket, chunk: Buffer): void {
  const read = (this as ReadingSocket)[kFrameRead];
  if (read === undefined || read.finished) return;
  const got = feedFrame(read, chunk);
  if (got === undefined) return;
  if (got instanceof FrameError) finishFrame(this, read, got);
  else finishFrame(this, read, undefined, got);
}

function onFrameEnd(this: Socket): void {
  const read = (this as ReadingSocket)[kFrameRead];
  if (read === undefined || read.finished) return;
  finishFrame(this, read, frameEndError(read));
}

function onFrameError(this: Socket, err: Error): void {
  const read = (this as ReadingSocket)[kFrameRead];
  if (read === undefined || read.finished) return;
  finishFrame(this, read, new FrameError('closed', `the connection failed while reading: ${err.message}`));
}

/** Ends a frame read under way with a timeout error (for a caller that keeps the timer itself); false when none is under way. */
export function timeOutFrame(socket: Socket, timeoutMs: number): boolean {
  const read = (socket as ReadingSocket)[kFrameRead];
  if (read === undefined || read.finished) return false;
  onFrameTimeout(socket, timeoutMs);
  return true;
}

function onFrameTimeout(socket: Socket, timeoutMs: number): void {
  const read = (socket as ReadingSocket)[kFrameRead];
  if (read === undefined || read.finished) return;
  finishFrame(socket, read, frameTimeoutError(read, timeoutMs));
}
