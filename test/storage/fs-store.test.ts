import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SwitchyardError } from '../../src/errors.js';
import { FsObjectStore, STAGING_DIR } from '../../src/storage/fs/mod.js';
import { readAll } from '../../src/storage/mod.js';

const T = { timeout: 15000 };

let tmp: string;
let outer: string; // the root's parent: nothing may ever appear here except the root
let root: string;
let store: FsObjectStore;

before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-fs-store-'));
  outer = path.join(tmp, 'outer');
  root = path.join(outer, 'root');
  await fsp.mkdir(root, { recursive: true });
  store = new FsObjectStore({ root });
});

after(async () => {
  await store?.close();
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
});

async function getBytes(bucket: string, key: string): Promise<Buffer> {
  return readAll(await store.get(bucket, key));
}

async function foldersUnder(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => foldersUnder(path.join(dir, e.name))));
  return [dir, ...nested.flat()];
}

function isCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof SwitchyardError, `expected a SwitchyardError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

/** Every file below `dir`, relative to it. */
async function walk(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

async function stagingFiles(): Promise<string[]> {
  try {
    return await fsp.readdir(path.join(root, STAGING_DIR));
  } catch {
    return [];
  }
}

describe('FsObjectStore round trips', () => {
  test('name and describe', T, () => {
    assert.equal(store.name, 'fs');
    assert.equal(store.describe('b', 'x/y.txt'), path.join(root, 'b', 'x', 'y.txt'));
    assert.ok(path.isAbsolute(new FsObjectStore({ root: 'relative/dir' }).describe('b', 'k')));
  });

  test('empty object', T, async () => {
    await store.putBytes('rt', 'empty', new Uint8Array());
    assert.equal(await store.exists('rt', 'empty'), true);
    assert.equal((await getBytes('rt', 'empty')).length, 0);
  });

  test('small text object', T, async () => {
    await store.putBytes('rt', '42', 'hello, switchyard\n');
    assert.equal((await getBytes('rt', '42')).toString('utf8'), 'hello, switchyard\n');
  });

  test('5 MB binary via putFile is byte-exact', T, async () => {
    const data = randomBytes(5 * 1024 * 1024);
    const src = path.join(tmp, 'five-mb.bin');
    await fsp.writeFile(src, data);
    await store.putFile('rt', 'bin/five-mb.bin', src);
    const back = await getBytes('rt', 'bin/five-mb.bin');
    assert.equal(back.length, data.length);
    assert.ok(back.equals(data), 'content differs');
    // the source is copied, not moved
    assert.ok(fs.existsSync(src));
  });

  test('overwrite replaces the content', T, async () => {
    await store.putBytes('rt', 'over', 'first');
    await store.putBytes('rt', 'over', 'second, longer');
    assert.equal((await getBytes('rt', 'over')).toString(), 'second, longer');
    await store.putBytes('rt', 'over', 'x');
    assert.equal((await getBytes('rt', 'over')).toString(), 'x');
  });

  test('nested keys create folders', T, async () => {
    await store.putBytes('nest', 'a/b/c/d.txt', 'deep');
    await store.putBytes('nest', 'a/b/e.txt', 'shallower');
    await store.putBytes('nest', 'ünï cödé/with spaces.txt', 'unicode');
    assert.equal((await getBytes('nest', 'a/b/c/d.txt')).toString(), 'deep');
    assert.equal((await getBytes('nest', 'a/b/e.txt')).toString(), 'shallower');
    assert.equal((await getBytes('nest', 'ünï cödé/with spaces.txt')).toString(), 'unicode');
    assert.ok(fs.statSync(path.join(root, 'nest', 'a', 'b', 'c')).isDirectory());
  });

  test('a folder is not an object', T, async () => {
    await store.putBytes('dirs', 'folder/file', 'in folder');
    assert.equal(await store.exists('dirs', 'folder'), false);
    await assert.rejects(store.get('dirs', 'folder'), isCode('SY_ERR_OBJECT_NOT_FOUND'));
    await store.delete('dirs', 'folder'); // nothing to delete, and the folder's objects stay
    assert.equal(await store.exists('dirs', 'folder/file'), true);
    // cannot put an object where a folder of objects is, nor below an object
    await assert.rejects(store.putBytes('dirs', 'folder', 'x'), isCode('SY_ERR_STORAGE_KEY'));
    await assert.rejects(store.putBytes('dirs', 'folder/file/below', 'x'), isCode('SY_ERR_STORAGE_KEY'));
    assert.deepEqual(await stagingFiles(), []);
    assert.equal((await getBytes('dirs', 'folder/file')).toString(), 'in folder');
  });
});

describe('FsObjectStore missing objects and delete', () => {
  test('missing object error names bucket and key', T, async () => {
    await assert.rejects(store.get('some-bucket', 'no/such/key'), (err: unknown) => {
      isCode('SY_ERR_OBJECT_NOT_FOUND')(err);
      const msg = (err as Error).message;
      assert.match(msg, /"some-bucket"/);
      assert.match(msg, /"no\/such\/key"/);
      return true;
    });
    assert.equal(await store.exists('some-bucket', 'no/such/key'), false);
  });

  test('delete removes the object and is idempotent', T, async () => {
    await store.putBytes('del', 'k', 'v');
    assert.equal(await store.exists('del', 'k'), true);
    await store.delete('del', 'k');
    assert.equal(await store.exists('del', 'k'), false);
    await assert.rejects(store.get('del', 'k'), isCode('SY_ERR_OBJECT_NOT_FOUND'));
    await store.delete('del', 'k');
    await store.delete('del', 'never/existed');
    await store.delete('no-such-bucket', 'k');
  });

  test('a stream opened before delete still reads the whole object', T, async () => {
    const data = randomBytes(256 * 1024);
    await store.putBytes('del', 'open', data);
    const stream = await store.get('del', 'open');
    await store.delete('del', 'open');
    assert.ok((await readAll(stream)).equals(data));
  });
});

describe('FsObjectStore keeps keys and buckets inside the root', () => {
  const badKeys = ['', '../x', '/etc/passwd', 'a/../../x', '..', 'a/..', '.', 'a/./b', 'a//b', 'a/', 'a\\..\\b',
    '..\\x', 'a\0b', '\0', 'x\n', 'a'.repeat(256)];
  const badBuckets = ['', '..', '.', 'a/b', '../x', 'a\\b', '.staging', '.hidden', 'b\0', '/abs'];

  for (const key of badKeys) {
    test(`rejects key ${JSON.stringify(key.length > 20 ? key.slice(0, 20) + '...' : key)}`, T, async () => {
      const check = isCode('SY_ERR_STORAGE_KEY');
      await assert.rejects(store.putBytes('safe', key, 'pwned'), check);
      const src = path.join(tmp, 'src.txt');
      await fsp.writeFile(src, 'pwned');
      await assert.rejects(store.putFile('safe', key, src), check);
      await assert.rejects(store.get('safe', key), check);
      await assert.rejects(store.exists('safe', key), check);
      await assert.rejects(store.delete('safe', key), check);
      assert.throws(() => store.describe('safe', key), check);
    });
  }

  for (const bucket of badBuckets) {
    test(`rejects bucket ${JSON.stringify(bucket)}`, T, async () => {
      const check = isCode('SY_ERR_STORAGE_KEY');
      await assert.rejects(store.putBytes(bucket, 'k', 'pwned'), (err: unknown) => {
        check(err);
        assert.match((err as Error).message, /bucket name/);
        return true;
      });
      await assert.rejects(store.get(bucket, 'k'), check);
      await assert.rejects(store.exists(bucket, 'k'), check);
      await assert.rejects(store.delete(bucket, 'k'), check);
      assert.throws(() => store.describe(bucket, 'k'), check);
    });
  }

  test('the error says why', T, async () => {
    await assert.rejects(store.putBytes('safe', '../x', 'y'), /"\.\."/);
    await assert.rejects(store.putBytes('safe', '/etc/passwd', 'y'), /absolute/);
    await assert.rejects(store.putBytes('safe', 'a\0b', 'y'), /NUL/);
    await assert.rejects(store.putBytes('safe', 'a\\b', 'y'), /backslash/);
  });

  test('nothing was written outside the root', T, async () => {
    assert.deepEqual(await fsp.readdir(outer), ['root']);
    assert.deepEqual((await fsp.readdir(tmp)).filter((n) => n !== 'outer' && !n.endsWith('.bin') && n !== 'src.txt'), []);
    assert.equal(await store.exists('safe', 'x'), false);
    assert.equal(fs.existsSync(path.join(root, 'x')), false);
    assert.equal(fs.existsSync(path.join(root, 'pwned')), false);
    assert.deepEqual(await stagingFiles(), []);
  });
});

describe('FsObjectStore writes are atomic', () => {
  const MB = 1024 * 1024;

  test('a concurrent reader sees the old or the new object, never a partial one', T, async (t) => {
    const versionA = Buffer.alloc(1 * MB, 0xaa);
    const versionB = randomBytes(20 * MB);
    const srcB = path.join(tmp, 'version-b.bin');
    await fsp.writeFile(srcB, versionB);
    await store.putBytes('atomic', 'big', versionA);
    const target = store.describe('atomic', 'big');

    let done = false;
    let putting = false;
    let readsDuringPut = 0;
    let pollsDuringPut = 0;
    const seen = { a: 0, b: 0, sizes: 0 };
    const sizes = new Set<number>();
    // One reader polls the size of the target file, another reads whole objects.
    const sizePoller = (async () => {
      while (!done) {
        sizes.add((await fsp.stat(target)).size);
        seen.sizes++;
        if (putting) pollsDuringPut++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const readOnce = async () => {
      if (putting) readsDuringPut++;
      const got = await getBytes('atomic', 'big');
      if (got.equals(versionA)) seen.a++;
      else if (got.equals(versionB)) seen.b++;
      else assert.fail(`reader saw a partial object of ${got.length} bytes`);
    };
    let readerError: unknown;
    const readers = [0, 1, 2].map(async () => {
      try {
        while (!done) await readOnce();
      } catch (err) {
        readerError ??= err;
        done = true;
      }
    });
    await new Promise((r) => setTimeout(r, 20));
    putting = true;
    await store.putFile('atomic', 'big', srcB);
    putting = false;
    // let the readers observe the new version too
    const deadline = Date.now() + 5000;
    while (seen.b === 0 && !done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    done = true;
    await Promise.all([sizePoller, ...readers]);
    if (readerError) throw readerError;

    t.diagnostic(`reads: ${seen.a} old, ${seen.b} new, ${readsDuringPut} started during the put; ${seen.sizes} size polls, ${pollsDuringPut} during the put`);
    assert.ok(seen.a > 0, 'reader never saw version A');
    assert.ok(readsDuringPut + pollsDuringPut > 0, 'nothing looked at the object while it was being written');
    for (const size of sizes) assert.ok(size === versionA.length || size === versionB.length, `saw size ${size}`);
    assert.ok((await getBytes('atomic', 'big')).equals(versionB));
    assert.deepEqual(await stagingFiles(), []);
  });

  test('a reader of a new key sees no object or the whole object', T, async () => {
    const data = randomBytes(12 * MB);
    const src = path.join(tmp, 'new-key.bin');
    await fsp.writeFile(src, data);
    let done = false;
    let missing = 0;
    let whole = 0;
    const reader = (async () => {
      while (!done) {
        try {
          const got = await getBytes('atomic', 'fresh');
          assert.ok(got.equals(data), `reader saw a partial object of ${got.length} bytes`);
          whole++;
        } catch (err) {
          if (err instanceof SwitchyardError && err.code === 'SY_ERR_OBJECT_NOT_FOUND') missing++;
          else throw err;
          await new Promise((r) => setImmediate(r));
        }
      }
    })();
    await store.putFile('atomic', 'fresh', src);
    await new Promise((r) => setTimeout(r, 20));
    done = true;
    await reader;
    assert.ok(missing > 0, 'reader never ran before the put finished');
    assert.ok(whole > 0, 'reader never saw the object');
  });

  test('a failed put leaves the old object and no staged file', T, async () => {
    await store.putBytes('atomic', 'keep', 'old content');
    await assert.rejects(store.putFile('atomic', 'keep', path.join(tmp, 'does-not-exist.bin')), (err: unknown) => {
      isCode('SY_ERR_STORAGE_IO')(err);
      assert.match((err as Error).message, /does not exist/);
      assert.match((err as Error).message, /"keep"/);
      return true;
    });
    await assert.rejects(store.putFile('atomic', 'keep', tmp), isCode('SY_ERR_STORAGE_IO')); // a folder
    assert.equal((await getBytes('atomic', 'keep')).toString(), 'old content');
    assert.deepEqual(await stagingFiles(), []);
    assert.deepEqual(await walk(path.join(root, 'atomic')), ['big', 'fresh', 'keep']);
  });

  test('a put that fails while copying removes its staged file', T, async () => {
    // A source that exists but cannot be read.
    await store.putBytes('atomic', 'perm', 'old');
    const src = path.join(tmp, 'unreadable.bin');
    await fsp.writeFile(src, 'secret', { mode: 0o000 });
    // Root reads any file, so as root the put runs with the effective uid of nobody (the
    // real uid stays 0, which lets it come back) on folders nobody may write.
    const asNobody = process.getuid?.() === 0;
    if (asNobody) {
      for (const dir of await foldersUnder(tmp)) await fsp.chmod(dir, 0o777);
      process.seteuid!(65534);
    }
    try {
      await assert.rejects(store.putFile('atomic', 'perm', src), isCode('SY_ERR_STORAGE_IO'));
    } finally {
      if (asNobody) process.seteuid!(0);
    }
    assert.equal((await getBytes('atomic', 'perm')).toString(), 'old');
    assert.deepEqual(await stagingFiles(), []);
  });

  test('concurrent puts of one key end with one complete version', T, async () => {
    const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(512 * 1024 + i, i));
    await Promise.all(versions.map((v) => store.putBytes('atomic', 'race', v)));
    const got = await getBytes('atomic', 'race');
    assert.ok(versions.some((v) => v.equals(got)));
    assert.deepEqual(await stagingFiles(), []);
  });
});
