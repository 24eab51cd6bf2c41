// The embedded default object store: objects are plain files at `{root}/{bucket}/{key}`.
// Writes are staged in `{root}/.staging` (same filesystem, so the final rename is atomic),
// fsynced, then renamed over the target: a reader sees the old object or the new one,
// never a half-written one, and a failed write leaves the old object (or none) in place.
// Bucket names may not start with "." so the staging folder can never be read as a bucket.

import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { errors, SwitchyardError } from '../../errors.js';
import type { ObjectStore } from '../object-store.js';

export interface FsObjectStoreOptions {
  /** The folder holding one sub-folder per bucket; created on the first write. */
  readonly root: string;
}

/** The folder under the root where writes are staged before they are renamed into place. */
export const STAGING_DIR = '.staging';

const MAX_SEGMENT_BYTES = 255;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class FsObjectStore implements ObjectStore {
  readonly name = 'fs';
  /** The absolute root folder. */
  readonly root: string;
  readonly #staging: string;

  constructor(options: FsObjectStoreOptions) {
    if (typeof options?.root !== 'string' || options.root === '') {
      throw new errors.SY_ERR_SETTINGS('the fs object store needs a non-empty "root" folder');
    }
    this.root = path.resolve(options.root);
    this.#staging = path.join(this.root, STAGING_DIR);
  }

  async get(bucket: string, key: string): Promise<Readable> {
    const file = this.#path(bucket, key);
    let handle: fsp.FileHandle;
    try {
      // Open first, then check: the stream reads the file that was opened, whatever renames
      // or deletes happen afterwards.
      handle = await fsp.open(file, 'r');
    } catch (err) {
      if (isMissing(err)) throw new errors.SY_ERR_OBJECT_NOT_FOUND(bucket, key);
      throw this.#ioError('read', bucket, key, err);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new errors.SY_ERR_OBJECT_NOT_FOUND(bucket, key);
    } catch (err) {
      await handle.close().catch(() => {});
      if (err instanceof SwitchyardError) throw err;
      throw this.#ioError('read', bucket, key, err);
    }
    return handle.createReadStream({ autoClose: true });
  }

  async putFile(bucket: string, key: string, sourcePath: string): Promise<void> {
    const target = this.#path(bucket, key);
    let stat;
    try {
      stat = await fsp.stat(sourcePath);
    } catch (err) {
      const why = isMissing(err) ? `source file ${sourcePath} does not exist` : errText(err);
      throw this.#ioError('upload', bucket, key, err, why);
    }
    if (!stat.isFile()) {
      throw this.#ioError('upload', bucket, key, undefined, `source ${sourcePath} is not a regular file`);
    }
    await this.#commit(bucket, key, target, async (tmp) => {
      await fsp.copyFile(sourcePath, tmp, fsConstants.COPYFILE_EXCL);
    });
  }

  /** Stores `data` as the object, with the same all-or-nothing guarantee as putFile. */
  async putBytes(bucket: string, key: string, data: Uint8Array | string): Promise<void> {
    const target = this.#path(bucket, key);
    await this.#commit(bucket, key, target, async (tmp) => {
      await fsp.writeFile(tmp, data, { flag: 'wx' });
    });
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    const file = this.#path(bucket, key);
    try {
      return (await fsp.stat(file)).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw this.#ioError('check', bucket, key, err);
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    const file = this.#path(bucket, key);
    try {
      const stat = await fsp.lstat(file);
      if (stat.isDirectory()) return; // a folder is not an object, so there is nothing to delete
      await fsp.unlink(file);
    } catch (err) {
      if (isMissing(err)) return;
      throw this.#ioError('delete', bucket, key, err);
    }
  }

  describe(bucket: string, key: string): string {
    return this.#path(bucket, key);
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  /** Writes to a staged file with `write`, fsyncs it and renames it over `target`. */
  async #commit(bucket: string, key: string, target: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const base = path.basename(target).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
    const tmp = path.join(this.#staging, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await fsp.mkdir(this.#staging, { recursive: true });
      await write(tmp);
      const handle = await fsp.open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const dir = path.dirname(target);
      try {
        await fsp.mkdir(dir, { recursive: true });
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOTDIR' || code === 'EEXIST') {
          throw new errors.SY_ERR_STORAGE_KEY(bucket, key, 'a parent folder of this key is already an object');
        }
        throw err;
      }
      try {
        await fsp.rename(tmp, target);
      } catch (err) {
        const code = errCode(err);
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') {
          const isDir = await fsp.stat(target).then((s) => s.isDirectory(), () => false);
          if (isDir) throw new errors.SY_ERR_STORAGE_KEY(bucket, key, 'other objects are stored under this key as a folder');
        }
        throw err;
      }
      await syncDir(dir);
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => {});
      if (err instanceof SwitchyardError) throw err;
      throw this.#ioError('upload', bucket, key, err);
    }
  }

  #ioError(op: string, bucket: string, key: string, cause: unknown, why = errText(cause)): SwitchyardError {
    const err = new errors.SY_ERR_STORAGE_IO(this.name, op, bucket, key, why);
    if (cause !== undefined) err.cause = cause;
    return err;
  }

  /** The absolute path of an object, after checking that bucket and key stay inside the root. */
  #path(bucket: string, key: string): string {
    checkBucket(bucket, key);
    checkKey(bucket, key);
    const bucketDir = path.join(this.root, bucket);
    const file = path.resolve(bucketDir, key);
    if (!file.startsWith(bucketDir + path.sep)) {
      throw new errors.SY_ERR_STORAGE_KEY(bucket, key, 'it resolves to a path outside the bucket');
    }
    return file;
  }
}

function isMissing(err: unknown): boolean {
  const code = errCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Makes a rename durable; not every platform can fsync a folder, so failures are ignored. */
async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => {});
  }
}

function checkBucket(bucket: string, key: string): void {
  const bad = (why: string): never => {
    throw new errors.SY_ERR_STORAGE_KEY(String(bucket), String(key), `bucket name ${why}`);
  };
  if (typeof bucket !== 'string' || bucket === '') bad('is empty');
  if (bucket.includes('\0')) bad('contains a NUL byte');
  if (bucket.includes('/')) bad('contains "/"');
  if (bucket.includes('\\')) bad('contains a backslash');
  if (bucket.startsWith('.')) bad('starts with "." (names starting with "." are reserved)');
  if (CONTROL_CHARS.test(bucket)) bad('contains a control character');
  if (Buffer.byteLength(bucket) > MAX_SEGMENT_BYTES) bad(`is longer than ${MAX_SEGMENT_BYTES} bytes`);
}

function checkKey(bucket: string, key: string): void {
  const bad = (why: string): never => {
    throw new errors.SY_ERR_STORAGE_KEY(bucket, String(key), why);
  };
  if (typeof key !== 'string' || key === '') bad('it is empty');
  if (key.includes('\0')) bad('it contains a NUL byte');
  if (key.includes('\\')) bad('it contains a backslash; use "/" to separate folders');
  if (key.startsWith('/')) bad('it is an absolute path; keys are relative to the bucket');
  if (CONTROL_CHARS.test(key)) bad('it contains a control character');
  for (const segment of key.split('/')) {
    if (segment === '') bad('it has an empty path segment (a leading, trailing or doubled "/")');
    if (segment === '..') bad('it contains a ".." segment');
    if (segment === '.') bad('it contains a "." segment');
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) bad(`a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
}
