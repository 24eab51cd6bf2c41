// The object storage interface every store implements (fs now, s3 next). Reads stream;
// writes are staged to a local file first and committed whole, so a reader never sees a
// half-written object and a failed upload leaves the old object (or none) in place.

import type { Readable } from 'node:stream';

export interface ObjectStore {
  /** A short name for logs and errors, e.g. "fs" or "s3". */
  readonly name: string;
  /** A readable stream of the object; rejects with SY_ERR_OBJECT_NOT_FOUND when it is missing. */
  get(bucket: string, key: string): Promise<Readable>;
  /** Uploads the file at `sourcePath` as the object, atomically: all of it or nothing. */
  putFile(bucket: string, key: string, sourcePath: string): Promise<void>;
  /** Stores `data` as the object, with the same all-or-nothing guarantee as putFile. */
  putBytes(bucket: string, key: string, data: Uint8Array | string): Promise<void>;
  exists(bucket: string, key: string): Promise<boolean>;
  /** Deletes the object; deleting a missing object is not an error. */
  delete(bucket: string, key: string): Promise<void>;
  /** Where an object lives, for people: a path or a URL. */
  describe(bucket: string, key: string): string;
  close?(): Promise<void>;
}
