// One staged output of a message: what `writeFile` hands out. Bytes are kept in memory up
// to a limit and spill to a staging file past it, so a small output costs no disk I/O
// while a large one never sits in memory. Either way nothing reaches the object store
// until `finalize` uploads it after `process` returned; a crash loses only the staging,
// and the redelivered message writes it again.

import { createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Where the staged bytes ended up once the write is closed. */
export type Staged = { readonly kind: 'memory'; readonly data: Buffer } | { readonly kind: 'file'; readonly path: string };

export class StagedWrite extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  private file: WriteStream | undefined;
  private filePath: string | undefined;

  /**
   * @param memoryLimit bytes kept in memory before spilling; 0 stages in a file from the
   *   first byte (slingshot's behaviour).
   * @param stagingPath makes the staging file's path on the first spill.
   */
  constructor(
    private readonly memoryLimit: number,
    private readonly stagingPath: () => Promise<string>,
  ) {
    super({ decodeStrings: true });
  }

  /** The staged bytes; only after the stream finished without error. */
  staged(): Staged {
    if (this.filePath !== undefined) return { kind: 'file', path: this.filePath };
    return { kind: 'memory', data: this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size) };
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.file) {
      this.file.write(chunk, (err) => callback(err ?? null));
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size <= this.memoryLimit) {
      callback();
      return;
    }
    this.spill().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const file = this.file;
    if (!file) {
      callback();
      return;
    }
    file.end();
    finished(file).then(() => callback(file.errored ?? null), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.file?.destroy();
    // Also called after a clean finish (autoDestroy): keep the bytes for staged() then.
    if (error) this.chunks = [];
    callback(error);
  }

  /** Moves what is in memory to a staging file; later chunks go straight to it. */
  private async spill(): Promise<void> {
    const path = await this.stagingPath();
    const file = createWriteStream(path, { flags: 'wx' });
    // The error stays on the stream (file.errored) and fails the message at finalize;
    // without a listener a disk error would crash the process.
    file.on('error', () => undefined);
    this.file = file;
    this.filePath = path;
    const pending = this.chunks;
    this.chunks = [];
    for (const chunk of pending) {
      await new Promise<void>((resolve, reject) => file.write(chunk, (err) => (err ? reject(err) : resolve())));
    }
  }
}
