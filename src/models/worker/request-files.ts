// readFile / writeFile for one message (SPECS.md §1.6). Reads stream from the object
// store. Writes are staged locally first (in memory while small, in a staging file past
// a limit) and are uploaded only by `finalize`, after `process` returned, so a failed or
// crashed message never leaves half an output behind and nothing downstream hears of an
// object before it is stored.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ObjectStore } from '../../storage/object-store.js';
import { readAll } from '../../storage/mod.js';
import { toId } from './ids.js';
import { StagedWrite } from './staged-write.js';

/** Bytes of one output kept in memory before it spills to a staging file. */
export const DEFAULT_STAGING_MEMORY_BYTES = 1024 * 1024;

export type ReadHandle = Readable & {
  /** The whole object as UTF-8 text. */
  text(): Promise<string>;
  /** The whole object as bytes. */
  bytes(): Promise<Buffer>;
};

export interface WriteHandle {
  /** Appends data to the staged object; resolves when the bytes are staged. */
  write(data: string | Uint8Array): Promise<void>;
  /** The staged object as a Writable, for stream.pipeline(source, handle.writable). */
  readonly writable: Writable;
  /** Closes the staged write; finalize does it for you. */
  close(): Promise<void>;
}

export type ReadFileFn = (alias: string, id: bigint | number) => Promise<ReadHandle>;
export type WriteFileFn = (alias: string, id: bigint | number) => Promise<WriteHandle>;

export interface UploadedObject {
  readonly alias: string;
  readonly bucket: string;
  readonly key: string;
  /** Where the store keeps it, for people (path or URL). */
  readonly location: string;
}

export interface RequestFilesOptions {
  readonly store: ObjectStore;
  readonly resolveBucket: (alias: string) => Promise<string>;
  /** Parent of the per-message staging folders; default the OS temp folder. */
  readonly stagingRoot?: string;
  /** Bytes of one output kept in memory before spilling to a file; default 1 MiB, 0 = always a file. */
  readonly stagingMemoryBytes?: number;
  /** For the staging folder's name, as slingshot's `slingshot-microservice-{pid}-{id}-{n}`. */
  readonly requestId: bigint;
}

export class RequestFiles {
  private readonly reads = new Set<Readable>();
  private readonly writes: Array<{ alias: string; bucket: string; key: string; stream: StagedWrite }> = [];
  private stagingDir: Promise<string> | undefined;

  constructor(private readonly options: RequestFilesOptions) {}

  readonly readFile: ReadFileFn = async (alias, id) => {
    const bucket = await this.options.resolveBucket(alias);
    const stream = await this.options.store.get(bucket, toId(id, 'readFile id', 'argument').toString());
    this.reads.add(stream);
    return Object.assign(stream, {
      text: async () => (await readAll(stream)).toString('utf8'),
      bytes: () => readAll(stream),
    });
  };

  readonly writeFile: WriteFileFn = async (alias, id) => {
    const key = toId(id, 'writeFile id', 'argument').toString();
    const bucket = await this.options.resolveBucket(alias);
    const n = this.writes.length;
    const stream = new StagedWrite(this.options.stagingMemoryBytes ?? DEFAULT_STAGING_MEMORY_BYTES, async () => join(await this.staging(), `${n}.bin`));
    // Without a listener a staging I/O error (disk full, ...) would crash the process; the
    // error stays on the stream (stream.errored) and fails the message at finalize.
    stream.on('error', () => undefined);
    this.writes.push({ alias, bucket, key, stream });
    return {
      writable: stream,
      write: (data) => new Promise<void>((resolve, reject) => {
        stream.write(data, (err) => (err ? reject(err) : resolve()));
      }),
      close: () => closeWrite(stream),
    };
  };

  /** Closes every handle, then uploads the staged writes; rejects on the first failure. */
  async finalize(): Promise<UploadedObject[]> {
    if (this.reads.size === 0 && this.writes.length === 0) return [];
    await this.closeHandles();
    const store = this.options.store;
    return Promise.all(
      this.writes.map(async ({ alias, bucket, key, stream }) => {
        const staged = stream.staged();
        if (staged.kind === 'file') await store.putFile(bucket, key, staged.path);
        else await store.putBytes(bucket, key, staged.data);
        return { alias, bucket, key, location: store.describe(bucket, key) };
      }),
    );
  }

  /** Removes the staging folder; safe to call whatever happened before. */
  async discard(): Promise<void> {
    if (this.reads.size === 0 && this.writes.length === 0 && !this.stagingDir) return;
    await this.closeHandles().catch(() => undefined);
    if (this.stagingDir) await rm(await this.stagingDir, { recursive: true, force: true });
  }

  private async closeHandles(): Promise<void> {
    for (const stream of this.reads) stream.destroy();
    this.reads.clear();
    await Promise.all(this.writes.map(({ stream }) => closeWrite(stream)));
  }

  /** The message's staging folder, made on the first writeFile (concurrent calls share it). */
  private staging(): Promise<string> {
    this.stagingDir ??= (async () => {
      const root = this.options.stagingRoot ?? tmpdir();
      const prefix = join(root, `switchyard-${process.pid}-${this.options.requestId}-`);
      await ensureRoot(root);
      return mkdtemp(prefix).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        // The root vanished (a temp-folder cleaner?): make it again.
        readyRoots.delete(root);
        await ensureRoot(root);
        return mkdtemp(prefix);
      });
    })();
    return this.stagingDir;
  }
}

const readyRoots = new Map<string, Promise<void>>();

/** The staging root is made once per process, not once per message. */
function ensureRoot(root: string): Promise<void> {
  let ready = readyRoots.get(root);
  if (!ready) {
    ready = mkdir(root, { recursive: true }).then(() => undefined);
    ready.catch(() => readyRoots.delete(root));
    readyRoots.set(root, ready);
  }
  return ready;
}

/** Closes a staged write; rejects if it ever failed, so a truncated object is never uploaded. */
async function closeWrite(stream: StagedWrite): Promise<void> {
  if (!stream.closed) {
    if (!stream.writableEnded) stream.end();
    await finished(stream).catch(() => undefined);
  }
  if (stream.errored) throw stream.errored;
}
