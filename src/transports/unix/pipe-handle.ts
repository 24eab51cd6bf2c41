// Node's bare libuv pipe handle — the handle under every net.Socket on a unix path — for
// acomm's one-message connections, without the net.Socket around it. acomm makes a
// connection per message (two per request), and a net.Socket (a Duplex: readable and
// writable state, listeners, the stream machinery on each read and write, destroy's
// ordering) costs more than the system calls it makes: an acomm client on bare handles
// costs ~145 µs of CPU per request against ~330 µs for the same client on net.Socket (c32
// against the Go provider, medians of 3 alternating runs).
//
// The handle comes from process.binding('pipe_wrap') and ('stream_wrap'): both on Node 20's
// allowlist for process.binding and not runtime-deprecated. They are used only on the Node
// majors they were checked against (CHECKED_MAJORS) and probed once, here: elsewhere, or
// where they are missing or differ (the permission model refusing process.binding),
// `barePipes` is null and callers use node:net as before.

import { getSystemErrorName } from 'node:util';

/** libuv's end of stream (UV_EOF). */
export const UV_EOF = -4095;

/** The pipe handle (src/pipe_wrap.cc with stream_base's methods), as much of it as is used. */
export interface PipeHandle {
  /** Read callback: `this` is the handle; the result is in barePipes.state (see onread below). */
  onread: ((this: PipeHandle, buffer: ArrayBuffer | undefined) => void) | null;
  connect(req: object, path: string): number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: object, data: Uint8Array): number;
  shutdown(req: object): number;
  close(callback?: () => void): void;
}

interface PipeWrapBinding {
  Pipe: new (type: number) => PipeHandle;
  PipeConnectWrap: new () => { oncomplete: (this: unknown, status: number, handle: PipeHandle) => void };
  constants: { SOCKET: number };
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => { handle: PipeHandle; oncomplete: () => void };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

interface WriteReq {
  handle: PipeHandle;
  buffer: Uint8Array;
  async: boolean;
  oncomplete: (this: WriteReq, status: number) => void;
  owner: unknown;
  done: (owner: never, status: number) => void;
}

export interface BarePipes {
  /**
   * Starts connecting a new handle to `path`; `done(handle, status)` is called once (status
   * 0 = connected, else a negative errno). Returns the handle, or a negative errno when the
   * attempt failed at once (the handle is then closed).
   */
  connect(path: string, done: (handle: PipeHandle, status: number) => void): PipeHandle | number;
  /**
   * Reads: `onChunk` is called with each chunk (a Buffer of its own), or with a negative
   * errno (UV_EOF at the end). `this` is the handle.
   */
  read(handle: PipeHandle, onChunk: (this: PipeHandle, chunk: Buffer | number) => void): number;
  /**
   * Writes `data`: 0 when it is all in the kernel, 1 when libuv queued some of it (then
   * `done(owner, status)` is called once it is written or failed), or a negative errno.
   */
  write<T>(handle: PipeHandle, data: Uint8Array, owner: T, done: (owner: T, status: number) => void): number;
  /** Ends the writing side once what is queued is written (the peer reads its end). Returns a negative errno on failure. */
  shutdown(handle: PipeHandle): number;
  close(handle: PipeHandle): void;
}

/** The name of a libuv error number (ECONNREFUSED, ...). */
export function errnoName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `E${-status}`;
  }
}

const kOnChunk = Symbol('switchyard.onChunk');
type ReadingHandle = PipeHandle & { [kOnChunk]?: (this: PipeHandle, chunk: Buffer | number) => void };

/** The Node majors whose bindings this was checked against (the tests run on them); any other runs on node:net. */
const CHECKED_MAJORS = [20];

function probe(): BarePipes | null {
  // Internal bindings may change meaning between majors without changing shape: not trusted unchecked.
  if (!CHECKED_MAJORS.includes(Number(process.versions.node.split('.')[0]))) return null;
  let pipeWrap: PipeWrapBinding;
  let streamWrap: StreamWrapBinding;
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding;
    pipeWrap = binding('pipe_wrap') as PipeWrapBinding;
    streamWrap = binding('stream_wrap') as StreamWrapBinding;
  } catch {
    return null;
  }
  const { Pipe, PipeConnectWrap, constants } = pipeWrap ?? {};
  const { WriteWrap, ShutdownWrap, streamBaseState: state, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync } = streamWrap ?? {};
  if (typeof Pipe !== 'function' || typeof PipeConnectWrap !== 'function' || typeof constants?.SOCKET !== 'number') return null;
  if (typeof WriteWrap !== 'function' || typeof ShutdownWrap !== 'function' || !(state instanceof Int32Array) || ![kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync].every((k) => typeof k === 'number')) return null;
  const proto = Pipe.prototype as unknown as Record<string, unknown>;
  if (!['connect', 'readStart', 'readStop', 'writeBuffer', 'shutdown', 'close'].every((m) => typeof proto[m] === 'function')) return null;

  // Shared callbacks (`this` is the handle or the request): no closure per connection.
  function onConnected(this: { handle: PipeHandle; done: (handle: PipeHandle, status: number) => void }, status: number): void {
    this.done(this.handle, status);
  }
  function onRead(this: ReadingHandle, buffer: ArrayBuffer | undefined): void {
    const nread = state[kReadBytesOrError]!;
    const onChunk = this[kOnChunk]!;
    if (nread > 0) onChunk.call(this, Buffer.from(buffer!, state[kArrayBufferOffset]!, nread));
    else if (nread < 0) onChunk.call(this, nread);
    // 0: nothing read (EAGAIN); libuv calls again.
  }
  function ignore(): void {}
  function onWritten(this: WriteReq, status: number): void {
    (this.done as (owner: unknown, status: number) => void)(this.owner, status);
  }

  return {
    connect(path, done) {
      const handle = new Pipe(constants.SOCKET);
      const req = new PipeConnectWrap() as unknown as { oncomplete: typeof onConnected; handle: PipeHandle; done: typeof done };
      req.oncomplete = onConnected;
      req.handle = handle;
      req.done = done;
      const err = handle.connect(req, path);
      if (err < 0) {
        handle.close();
        return err;
      }
      return handle;
    },
    read(handle, onChunk) {
      (handle as ReadingHandle)[kOnChunk] = onChunk;
      handle.onread = onRead;
      return handle.readStart();
    },
    write(handle, data, owner, done) {
      const req = new WriteWrap();
      req.handle = handle;
      // Kept on the request while libuv may still write from it.
      req.buffer = data;
      req.async = false;
      req.oncomplete = onWritten;
      req.owner = owner;
      req.done = done;
      const err = handle.writeBuffer(req, data);
      if (err < 0) return err;
      return state[kLastWriteWasAsync] ? 1 : 0;
    },
    shutdown(handle) {
      const req = new ShutdownWrap();
      req.handle = handle;
      req.oncomplete = ignore;
      return handle.shutdown(req);
    },
    close(handle) {
      handle.close();
    },
  };
}

/** The bare pipe handle's operations, or null where this Node does not offer them as expected. */
export const barePipes: BarePipes | null = probe();

let inUse = barePipes;

/** What exchanges (unix-client.ts) and listeners (unix-listener.ts) run on: bare handles, or null for node:net. */
export function pipesInUse(): BarePipes | null {
  return inUse;
}

/** For tests: run new exchanges and listeners on node:net (false) or, where available, on bare handles (true). */
export function useBarePipes(on: boolean): void {
  inUse = on ? barePipes : null;
}
