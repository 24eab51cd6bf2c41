// The object store conformance suite, written once and run against every store (the
// BullMQ way): each rule of the ObjectStore interface is one test. A store's test file calls
// `objectStoreConformance(name, { create })`; `create` returns a store, a bucket that exists
// (or is created on first write) and a cleanup. Keys are unique per test, so tests do not
// depend on each other.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { SwitchyardError } from '../../src/errors.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { readAll } from '../../src/storage/mod.js';

export interface ObjectStoreUnderTest {
  store: ObjectStore;
  bucket: string;
  cleanup(): Promise<void>;
}

export interface ObjectStoreConformanceOptions {
  create(): Promise<ObjectStoreUnderTest>;
  /** Size of the large round trip; default 50 MiB. */
  largeBytes?: number;
}

const MiB = 1024 * 1024;
const T = { timeout: 30_000 };
const T_LARGE = { timeout: 60_000 };
let counter = 0;
const unique = (what: string) => `conf/${what}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

function isCode(code: string, ...mentions: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof SwitchyardError, `expected a SwitchyardError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const m of mentions) assert.ok(err.message.includes(m), `message does not mention ${m}: ${err.message}`);
    return true;
  };
}

/** Reads a stream to its end, returning its length and sha256, holding one chunk at a time. */
async function digest(stream: Readable): Promise<{ bytes: number; sha256: string; chunks: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    hash.update(buf);
    bytes += buf.length;
    chunks++;
  }
  return { bytes, sha256: hash.digest('hex'), chunks };
}

/** Writes `size` random bytes to `file` in 1 MiB chunks, returning their sha256. */
async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  let left = size;
  while (left > 0) {
    const chunk = randomBytes(Math.min(MiB, left));
    hash.update(chunk);
    left -= chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

export function objectStoreConformance(name: string, options: ObjectStoreConformanceOptions): void {
  const largeBytes = options.largeBytes ?? 50 * MiB;

  describe(`object store conformance: ${name}`, () => {
    let sut: ObjectStoreUnderTest;
    let store: ObjectStore;
    let bucket: string;
    let tmp: string;
    let files = 0;

    before(async () => {
      tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-store-conf-'));
      sut = await options.create();
      store = sut.store;
      bucket = sut.bucket;
    });

    after(async () => {
      await sut?.store.close?.();
      await sut?.cleanup();
      if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
    });

    const fileWith = async (data: Uint8Array | string): Promise<string> => {
      const file = path.join(tmp, `src-${files++}.bin`);
      await fsp.writeFile(file, data);
      return file;
    };
    const put = async (key: string, data: Uint8Array | string) => store.putFile(bucket, key, await fileWith(data));
    const getBytes = async (key: string) => readAll(await store.get(bucket, key));

    it('has a name, and describes an object with its bucket and key', T, () => {
      assert.equal(typeof store.name, 'string');
      assert.ok(store.name.length > 0);
      const where = store.describe(bucket, 'some/key-42');
      assert.equal(typeof where, 'string');
      assert.ok(where.includes(bucket), where);
      assert.ok(where.includes('key-42'), where);
    });

    it('round-trips an empty object', T, async () => {
      const key = unique('empty');
      await put(key, new Uint8Array());
      assert.equal(await store.exists(bucket, key), true);
      const got = await getBytes(key);
      assert.equal(got.length, 0);
    });

    it('round-trips a small object byte for byte', T, async () => {
      const key = unique('small');
      // every byte value, and text that is not ASCII
      const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('héllo, wörld ✓\r\n\0end')]);
      await put(key, data);
      assert.ok((await getBytes(key)).equals(data));
    });

    it('round-trips a 1 MiB + 1 object byte for byte', T, async () => {
      const key = unique('mib');
      const data = randomBytes(MiB + 1);
      await put(key, data);
      assert.ok((await getBytes(key)).equals(data));
    });

    it(`round-trips a large object (${(largeBytes / MiB).toFixed(0)} MiB), streamed both ways`, T_LARGE, async (t) => {
      const key = unique('large');
      const src = path.join(tmp, `large-${files++}.bin`);
      const sha256 = await writeRandomFile(src, largeBytes);
      const t0 = performance.now();
      await store.putFile(bucket, key, src);
      const t1 = performance.now();
      const stream = await store.get(bucket, key);
      assert.ok(stream instanceof Readable);
      const got = await digest(stream);
      const t2 = performance.now();
      t.diagnostic(`${name}: ${(largeBytes / MiB).toFixed(0)} MiB put ${(t1 - t0).toFixed(0)} ms, get ${(t2 - t1).toFixed(0)} ms in ${got.chunks} chunks`);
      assert.equal(got.bytes, largeBytes);
      assert.equal(got.sha256, sha256);
      assert.ok(got.chunks > 1, 'the object arrived in one piece: not streamed');
      await fsp.rm(src, { force: true });
      await store.delete(bucket, key);
    });

    it('putBytes round-trips empty, text and binary objects, and overwrites', T, async () => {
      const key = unique('bytes');
      await store.putBytes(bucket, key, new Uint8Array());
      assert.equal((await getBytes(key)).length, 0);
      await store.putBytes(bucket, key, 'héllo ✓');
      assert.equal((await getBytes(key)).toString('utf8'), 'héllo ✓');
      const data = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await store.putBytes(bucket, key, data);
      assert.ok((await getBytes(key)).equals(data));
    });

    it('putBytes of a 9 MiB buffer round-trips byte for byte (multipart where the store has it)', T_LARGE, async () => {
      const key = unique('bytes-large');
      const data = randomBytes(9 * MiB);
      await store.putBytes(bucket, key, data);
      assert.ok((await getBytes(key)).equals(data));
    });

    it('keeps the source file (copies, does not move)', T, async () => {
      const key = unique('source');
      const src = await fileWith('stays');
      await store.putFile(bucket, key, src);
      assert.equal(await fsp.readFile(src, 'utf8'), 'stays');
    });

    it('overwrite replaces the whole content, longer or shorter', T, async () => {
      const key = unique('over');
      await put(key, 'first');
      await put(key, 'second, longer than the first');
      assert.equal((await getBytes(key)).toString(), 'second, longer than the first');
      await put(key, 'x');
      assert.equal((await getBytes(key)).toString(), 'x');
    });

    it('exists is true for a stored object and false for a missing one', T, async () => {
      const key = unique('exists');
      assert.equal(await store.exists(bucket, key), false);
      await put(key, 'here');
      assert.equal(await store.exists(bucket, key), true);
      assert.equal(await store.exists(bucket, `${key}-other`), false);
    });

    it('a missing object is SY_ERR_OBJECT_NOT_FOUND naming bucket and key', T, async () => {
      const key = unique('missing');
      await assert.rejects(store.get(bucket, key), isCode('SY_ERR_OBJECT_NOT_FOUND', JSON.stringify(bucket), JSON.stringify(key)));
    });

    it('delete removes the object; get is then SY_ERR_OBJECT_NOT_FOUND', T, async () => {
      const key = unique('del');
      await put(key, 'v');
      await store.delete(bucket, key);
      assert.equal(await store.exists(bucket, key), false);
      await assert.rejects(store.get(bucket, key), isCode('SY_ERR_OBJECT_NOT_FOUND', JSON.stringify(bucket), JSON.stringify(key)));
    });

    it('deleting a missing object is not an error, and is idempotent', T, async () => {
      const key = unique('del-missing');
      await store.delete(bucket, key);
      await put(key, 'v');
      await store.delete(bucket, key);
      await store.delete(bucket, key);
      assert.equal(await store.exists(bucket, key), false);
    });

    it('get returns a Readable that can be read in pieces, or dropped early', T, async () => {
      const key = unique('stream');
      const data = randomBytes(4 * MiB);
      await put(key, data);
      const stream = await store.get(bucket, key);
      assert.ok(stream instanceof Readable, 'get must resolve to a Readable');
      // read a little, then give up on the rest
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      assert.equal(first.done, false);
      assert.ok((first.value as Buffer).length > 0);
      assert.ok((first.value as Buffer).length < data.length, 'the first chunk was the whole object');
      stream.destroy();
      // the store stays usable
      for (let i = 0; i < 3; i++) assert.ok((await getBytes(key)).equals(data));
    });

    it('keys with "/" are stored as given', T, async () => {
      const base = unique('nested');
      const keys = [`${base}/a/b/c/d.txt`, `${base}/a/b/e.txt`, `${base}/ünï cödé/with spaces & signs+=.txt`];
      for (const k of keys) await put(k, `content of ${k}`);
      for (const k of keys) assert.equal((await getBytes(k)).toString(), `content of ${k}`);
      assert.equal(await store.exists(bucket, `${base}/a/b/e.txt`), true);
      assert.equal(await store.exists(bucket, `${base}/a/b/missing.txt`), false);
    });

    it('decimal u64 ids work as keys', T, async () => {
      for (const id of ['0', '42', '18446744073709551615']) {
        await store.delete(bucket, id);
        await put(id, `object ${id}`);
        assert.equal((await getBytes(id)).toString(), `object ${id}`);
        await store.delete(bucket, id);
      }
    });

    it('concurrent puts of different keys all land intact', T, async () => {
      const base = unique('concurrent');
      const items = Array.from({ length: 16 }, (_, i) => ({ key: `${base}/${i}`, data: randomBytes(64 * 1024 + i * 997) }));
      const srcs = await Promise.all(items.map((x) => fileWith(x.data)));
      await Promise.all(items.map((x, i) => store.putFile(bucket, x.key, srcs[i]!)));
      const back = await Promise.all(items.map((x) => getBytes(x.key)));
      back.forEach((b, i) => assert.ok(b.equals(items[i]!.data), `object ${i} differs`));
    });

    it('a put from a missing source fails and leaves the old object in place', T, async () => {
      const key = unique('failed-put');
      await put(key, 'old content');
      await assert.rejects(store.putFile(bucket, key, path.join(tmp, 'does-not-exist.bin')), isCode('SY_ERR_STORAGE_IO', JSON.stringify(key)));
      assert.equal((await getBytes(key)).toString(), 'old content');
      const fresh = unique('failed-put-new');
      await assert.rejects(store.putFile(bucket, fresh, path.join(tmp, 'does-not-exist.bin')), isCode('SY_ERR_STORAGE_IO'));
      assert.equal(await store.exists(bucket, fresh), false);
    });

    it('an empty key is rejected with SY_ERR_STORAGE_KEY', T, async () => {
      const check = isCode('SY_ERR_STORAGE_KEY');
      await assert.rejects(store.get(bucket, ''), check);
      await assert.rejects(store.putFile(bucket, '', await fileWith('x')), check);
      await assert.rejects(store.exists(bucket, ''), check);
      await assert.rejects(store.delete(bucket, ''), check);
      await assert.rejects(store.get('', 'k'), check);
    });
  });
}
