// S3ObjectStore beyond the conformance suite, against s3rver on 127.0.0.1: missing buckets,
// multipart uploads (and their abort on failure), the server going away and coming back,
// timeouts, and credentials that never appear in errors.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { SwitchyardError } from '../../src/errors.js';
import { readAll } from '../../src/storage/mod.js';
import { S3ObjectStore, s3StoreOptionsFromEndpoint, type S3ObjectStoreOptions } from '../../src/storage/s3/mod.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';

const T = { timeout: 30_000 };
const MiB = 1024 * 1024;
const BUCKET = 'store-tests';
// Distinctive credentials, so a leak is easy to spot. s3rver checks only the access key id.
const ACCESS_KEY = 'SYACCESSKEYID7Q3Z';
const SECRET_KEY = 'sy-secret-DO-NOT-LEAK-4f9c2b7e';

let server: S3Server;
let store: S3ObjectStore;
let tmp: string;
let files = 0;
/** Every error a test saw, checked for credentials at the end. */
const seenErrors: unknown[] = [];
const stores: S3ObjectStore[] = [];

function newStore(extra: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  const s = new S3ObjectStore({
    endpoint: server.endpoint,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    multipartThresholdBytes: 5 * MiB,
    partSizeBytes: 5 * MiB,
    requestTimeoutMs: 10_000,
    connectionTimeoutMs: 2_000,
    ...extra,
  });
  stores.push(s);
  return s;
}

before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-s3-store-'));
  server = await startS3Server({ buckets: [BUCKET], accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  store = newStore();
});

after(async () => {
  for (const s of stores) await s.close();
  await server?.close();
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
});

async function fileWith(data: Uint8Array | string): Promise<string> {
  const file = path.join(tmp, `src-${files++}.bin`);
  await fsp.writeFile(file, data);
  return file;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Asserts the error's code and that its message mentions each string; records it. */
function expectError(code: string, ...mentions: string[]) {
  return (err: unknown) => {
    seenErrors.push(err);
    assert.ok(err instanceof SwitchyardError, `expected a SwitchyardError, got ${inspect(err)}`);
    assert.equal(err.code, code, err.message);
    for (const m of mentions) assert.ok(err.message.includes(m), `message does not mention ${m}: ${err.message}`);
    return true;
  };
}

/** Asserts that nothing of `err` (message, cause, inspect output) holds a credential. */
function assertNoCredentials(err: unknown, secrets: string[] = [SECRET_KEY, ACCESS_KEY]) {
  const text = [
    err instanceof Error ? err.message : String(err),
    inspect(err, { depth: 8, showHidden: true }),
    err instanceof Error ? String(err.stack) : '',
    JSON.stringify(err, Object.getOwnPropertyNames(err ?? {})),
  ].join('\n');
  for (const s of secrets) assert.ok(!text.includes(s), `a credential appears in the error: ${text.slice(0, 500)}`);
}

/** Runs `fn`, expecting it to reject within `ms`; returns the error. */
async function rejectsWithin(ms: number, fn: () => Promise<unknown>): Promise<unknown> {
  const started = performance.now();
  let error: unknown;
  await fn().then(
    () => assert.fail('expected a rejection'),
    (err) => {
      error = err;
    },
  );
  const took = performance.now() - started;
  assert.ok(took < ms, `took ${took.toFixed(0)} ms, more than ${ms} ms`);
  return error;
}

/** Records the command names (and inputs) a store's client sends; optionally fails some. */
async function spy(s: S3ObjectStore, fail?: (command: string, input: Record<string, unknown>) => Error | undefined) {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  // The client is made at the store's first request (the SDK loads lazily).
  (await s.client()).middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName);
      const input = args.input as Record<string, unknown>;
      sent.push({ command, input });
      const err = fail?.(command, input);
      if (err) throw err;
      return next(args);
    },
    { step: 'initialize', name: `testSpy${Math.random()}` },
  );
  return sent;
}

describe('S3ObjectStore basics', () => {
  test('name, endpoint and describe', T, () => {
    assert.equal(store.name, 's3');
    assert.equal(store.describe(BUCKET, '42'), `s3://${BUCKET}/42`);
    assert.equal(store.describe(BUCKET, 'a/b c'), `s3://${BUCKET}/a/b c`);
    assert.equal(store.endpoint, server.endpoint);
    assert.equal(store.region, 'garage');
  });

  test('the store object shows no credentials', T, () => {
    const text = inspect(store, { depth: 2 });
    assert.ok(!text.includes(SECRET_KEY), text);
  });

  test('s3StoreOptionsFromEndpoint follows slingshot: https://{host}, region garage, path style', T, () => {
    const o = s3StoreOptionsFromEndpoint('s3.slingshot.cv', 'ak', 'sk');
    assert.deepEqual(o, { endpoint: 'https://s3.slingshot.cv', region: 'garage', accessKeyId: 'ak', secretAccessKey: 'sk', forcePathStyle: true });
    assert.equal(s3StoreOptionsFromEndpoint('http://127.0.0.1:9000', 'ak', 'sk').endpoint, 'http://127.0.0.1:9000');
    assert.equal(s3StoreOptionsFromEndpoint('https://s3.example/', 'ak', 'sk').endpoint, 'https://s3.example');
    assert.equal(s3StoreOptionsFromEndpoint('127.0.0.1:9000', 'ak', 'sk', { scheme: 'http' }).endpoint, 'http://127.0.0.1:9000');
    assert.equal(s3StoreOptionsFromEndpoint('s3.example', 'ak', 'sk', { region: 'eu-west-1' }).region, 'eu-west-1');
    assert.throws(() => s3StoreOptionsFromEndpoint('  ', 'ak', 'sk'), expectError('SY_ERR_SETTINGS'));
    const s = new S3ObjectStore(o);
    stores.push(s);
    assert.equal(s.endpoint, 'https://s3.slingshot.cv');
  });

  test('bad options are SY_ERR_SETTINGS and never echo the secret', T, () => {
    const base: S3ObjectStoreOptions = { endpoint: 'http://127.0.0.1:1', accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
    const bad: [Partial<S3ObjectStoreOptions>, RegExp][] = [
      [{ endpoint: 's3.example' }, /http:\/\/ or https:\/\/|not a URL/],
      [{ endpoint: 'ftp://s3.example' }, /http:\/\/ or https:\/\//],
      [{ endpoint: '' }, /endpoint/],
      [{ endpoint: `https://${ACCESS_KEY}:${SECRET_KEY}@s3.example` }, /must not hold credentials/],
      [{ accessKeyId: '' }, /accessKeyId/],
      [{ secretAccessKey: '' }, /secretAccessKey/],
      [{ partSizeBytes: 1024 }, /partSizeBytes/],
      [{ multipartThresholdBytes: -1 }, /multipartThresholdBytes/],
      [{ queueSize: 0 }, /queueSize/],
      [{ maxAttempts: 0 }, /maxAttempts/],
      [{ requestTimeoutMs: 0 }, /requestTimeoutMs/],
    ];
    for (const [patch, why] of bad) {
      assert.throws(() => new S3ObjectStore({ ...base, ...patch }), (err: unknown) => {
        expectError('SY_ERR_SETTINGS')(err);
        assert.match((err as Error).message, why);
        assertNoCredentials(err);
        return true;
      }, JSON.stringify(patch).replace(SECRET_KEY, '***'));
    }
  });

  test('bucket names S3 would reject are SY_ERR_STORAGE_KEY', T, async () => {
    const badBuckets = ['', 'ab', 'UpperCase', 'under_score', '-start', 'end-', '.dot', 'dot.', 'a..b', 'a.-b', '192.168.1.1',
      'x'.repeat(64), 'xn--punycode', 'sthree-x', 'name-s3alias', 'name--ol-s3', 'has space', 'slash/bucket'];
    for (const bucket of badBuckets) {
      const check = (err: unknown) => {
        expectError('SY_ERR_STORAGE_KEY', 'bucket name')(err);
        return true;
      };
      await assert.rejects(store.get(bucket, 'k'), check, bucket);
      await assert.rejects(store.putFile(bucket, 'k', await fileWith('x')), check, bucket);
      await assert.rejects(store.exists(bucket, 'k'), check, bucket);
      await assert.rejects(store.delete(bucket, 'k'), check, bucket);
      assert.throws(() => store.describe(bucket, 'k'), check, bucket);
    }
    // and these are fine
    for (const bucket of ['abc', 'my-bucket', 'my.bucket.1', 'x'.repeat(63), '0bucket9']) store.describe(bucket, 'k');
  });

  test('bad keys are SY_ERR_STORAGE_KEY saying why', T, async () => {
    const badKeys: [string, RegExp][] = [
      ['', /empty/],
      ['..', /"\.\." segment/],
      ['a/../b', /"\.\." segment/],
      ['./x', /"\." segment/],
      ['a/.', /"\." segment/],
      ['a\0b', /NUL/],
      ['line\nbreak', /control character/],
      ['k'.repeat(1025), /1024 bytes/],
      ['é'.repeat(513), /1024 bytes/],
      ['lone \uD800 surrogate', /Unicode/],
    ];
    for (const [key, why] of badKeys) {
      const check = (err: unknown) => {
        expectError('SY_ERR_STORAGE_KEY')(err);
        assert.match((err as Error).message, why);
        return true;
      };
      await assert.rejects(store.get(BUCKET, key), check);
      await assert.rejects(store.putFile(BUCKET, key, await fileWith('x')), check);
      await assert.rejects(store.exists(BUCKET, key), check);
      await assert.rejects(store.delete(BUCKET, key), check);
    }
  });

  test('general S3 keys round-trip (spaces, symbols, unicode, dots)', T, async () => {
    // Not tried here because s3rver cannot store them, though S3 and Garage can:
    // keys with a leading "/" or "//" (its router), and path segments over 255 bytes (its
    // files). The store lets them through.
    const keys = ['trailing/', 'back\\slash', 'percent%20sign', 'plus+sign', 'question?mark', 'hash#tag', 'tilde~', 'emoji 😀',
      'semi;colon', 'quote"s\'', '<xml>&amp;', '...', 'a/.../b', '.hidden', ' lead and trail ', `${'a'.repeat(200)}/${'b'.repeat(200)}`];
    for (const key of keys) {
      await store.putFile(BUCKET, key, await fileWith(`content of ${key}`));
      assert.equal((await readAll(await store.get(BUCKET, key))).toString(), `content of ${key}`, key);
      assert.equal(await store.exists(BUCKET, key), true, key);
      await store.delete(BUCKET, key);
      assert.equal(await store.exists(BUCKET, key), false, key);
    }
  });

  test('after close, calls fail with a clear error', T, async () => {
    const s = newStore();
    await s.close();
    await s.close(); // idempotent
    await assert.rejects(s.get(BUCKET, 'k'), expectError('SY_ERR_STORAGE_IO', 'closed'));
    await assert.rejects(s.exists(BUCKET, 'k'), expectError('SY_ERR_STORAGE_IO', 'closed'));
  });
});

describe('S3ObjectStore missing bucket', () => {
  const missing = 'no-such-bucket';
  const names = (err: unknown) => {
    expectError('SY_ERR_BUCKET_NOT_FOUND', JSON.stringify(missing), server.endpoint)(err);
    return true;
  };

  test('get, put (single and multipart), exists and delete name the bucket', T, async () => {
    await assert.rejects(store.get(missing, '42'), names);
    await assert.rejects(store.putFile(missing, '42', await fileWith('small')), names);
    await assert.rejects(store.putFile(missing, '43', await fileWith(randomBytes(6 * MiB))), names);
    await assert.rejects(store.exists(missing, '42'), names);
    await assert.rejects(store.delete(missing, '42'), names);
  });

  test('exists still answers false for a missing key in a bucket that exists', T, async () => {
    const fresh = newStore(); // no bucket known yet
    assert.equal(await fresh.exists(BUCKET, 'never-there'), false);
    assert.equal(await fresh.exists(BUCKET, 'never-there-2'), false);
  });
});

describe('S3ObjectStore multipart uploads', () => {
  test('a 12 MiB file above a 5 MiB threshold goes up in parts and comes back byte-exact', T, async () => {
    const s = newStore({ multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, queueSize: 2 });
    const sent = await spy(s);
    const data = randomBytes(12 * MiB);
    await s.putFile(BUCKET, 'multi/12mib', await fileWith(data));
    const commands = sent.map((x) => x.command);
    assert.equal(commands.filter((c) => c === 'CreateMultipartUploadCommand').length, 1, commands.join());
    assert.equal(commands.filter((c) => c === 'UploadPartCommand').length, 3, commands.join());
    assert.equal(commands.filter((c) => c === 'CompleteMultipartUploadCommand').length, 1, commands.join());
    assert.ok(!commands.includes('PutObjectCommand'), commands.join());
    const back = await readAll(await s.get(BUCKET, 'multi/12mib'));
    assert.equal(back.length, data.length);
    assert.equal(sha(back), sha(data));
  });

  test('a file at the threshold goes up as one PutObject', T, async () => {
    const s = newStore({ multipartThresholdBytes: 5 * MiB });
    const sent = await spy(s);
    const data = randomBytes(5 * MiB);
    await s.putFile(BUCKET, 'multi/at-threshold', await fileWith(data));
    assert.deepEqual(sent.map((x) => x.command), ['PutObjectCommand']);
    assert.ok((await readAll(await s.get(BUCKET, 'multi/at-threshold'))).equals(data));
  });

  test('a failed part aborts the upload, reports the failure and leaves the old object', T, async () => {
    const key = 'multi/fails';
    await store.putFile(BUCKET, key, await fileWith('the old version'));
    const s = newStore({ queueSize: 1 });
    const sent = await spy(s, (command, input) =>
      command === 'UploadPartCommand' && input.PartNumber === 2 ? Object.assign(new Error('injected part failure'), { name: 'InjectedFault' }) : undefined);
    await assert.rejects(s.putFile(BUCKET, key, await fileWith(randomBytes(12 * MiB))), (err: unknown) => {
      expectError('SY_ERR_STORAGE_IO', 'upload', JSON.stringify(key), JSON.stringify(BUCKET), 'injected part failure')(err);
      return true;
    });
    const created = sent.filter((x) => x.command === 'CreateMultipartUploadCommand');
    const aborts = sent.filter((x) => x.command === 'AbortMultipartUploadCommand');
    assert.equal(created.length, 1);
    assert.ok(aborts.length >= 1, `no AbortMultipartUpload among ${sent.map((x) => x.command).join()}`);
    assert.equal(typeof aborts[0]!.input.UploadId, 'string');
    assert.ok(!sent.some((x) => x.command === 'CompleteMultipartUploadCommand'));
    // nothing of the failed upload is visible
    assert.equal((await readAll(await store.get(BUCKET, key))).toString(), 'the old version');
  });
});

describe('S3ObjectStore when the server goes away', () => {
  test('stopped server: every call fails fast, naming op, bucket, key and endpoint; works again after restart', { timeout: 60_000 }, async () => {
    const smallSrc = await fileWith('small object');
    const bigData = randomBytes(12 * MiB);
    const bigSrc = await fileWith(bigData);
    await store.putFile(BUCKET, 'outage/kept', smallSrc);
    const endpoint = server.endpoint;

    await server.stop();
    try {
      const cases: [string, string, () => Promise<unknown>][] = [
        ['read', 'outage/kept', () => store.get(BUCKET, 'outage/kept')],
        ['upload', 'outage/small', () => store.putFile(BUCKET, 'outage/small', smallSrc)],
        ['upload', 'outage/big', () => store.putFile(BUCKET, 'outage/big', bigSrc)],
        ['check', 'outage/kept', () => store.exists(BUCKET, 'outage/kept')],
        ['delete', 'outage/kept', () => store.delete(BUCKET, 'outage/kept')],
      ];
      for (const [op, key, call] of cases) {
        const err = await rejectsWithin(5_000, call);
        expectError('SY_ERR_STORAGE_IO', `could not ${op}`, JSON.stringify(key), JSON.stringify(BUCKET), endpoint, 'ECONNREFUSED')(err);
        assertNoCredentials(err);
      }
    } finally {
      await server.restart();
    }
    assert.equal(server.endpoint, endpoint, 'the restarted server has a new port');

    // back to normal, with the data from before the outage
    assert.equal((await readAll(await store.get(BUCKET, 'outage/kept'))).toString(), 'small object');
    await store.putFile(BUCKET, 'outage/big', bigSrc);
    assert.equal(sha(await readAll(await store.get(BUCKET, 'outage/big'))), sha(bigData));
    assert.equal(await store.exists(BUCKET, 'outage/small'), false);
  });

  test('a server stopped mid-download fails the stream with a named error', T, async () => {
    const data = randomBytes(24 * MiB);
    await store.putFile(BUCKET, 'outage/stream', await fileWith(data));
    const stream = await store.get(BUCKET, 'outage/stream');
    const it = stream[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await server.stop();
    try {
      let read = 0;
      const err = await rejectsWithin(10_000, async () => {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          read += (r.value as Buffer).length;
        }
      });
      expectError('SY_ERR_STORAGE_IO', 'could not read', '"outage/stream"', server.endpoint)(err);
      assertNoCredentials(err);
      assert.ok(read < data.length);
    } finally {
      await server.restart();
    }
    assert.equal(sha(await readAll(await store.get(BUCKET, 'outage/stream'))), sha(data));
  });

  test('a server that accepts but never answers fails after the request timeout', T, async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const s = newStore({ endpoint, requestTimeoutMs: 400, maxAttempts: 2 });
    try {
      for (const call of [() => s.get(BUCKET, 'k'), () => s.exists(BUCKET, 'k'), async () => s.putFile(BUCKET, 'k', await fileWith('x'))]) {
        const err = await rejectsWithin(5_000, call);
        expectError('SY_ERR_STORAGE_IO', endpoint)(err);
        assert.match((err as Error).message, /ETIMEDOUT|TimeoutError/);
        assertNoCredentials(err);
      }
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test('a response body that stalls fails the stream after the idle timeout', T, async () => {
    const stalled = http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': '1000000', 'content-type': 'application/octet-stream', 'last-modified': new Date().toUTCString() });
      res.write(Buffer.alloc(1000, 1)); // then nothing more
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(stalled.address() as net.AddressInfo).port}`;
    const s = newStore({ endpoint, requestTimeoutMs: 400, maxAttempts: 1 });
    try {
      const stream = await s.get(BUCKET, 'stalls');
      const err = await rejectsWithin(5_000, () => readAll(stream));
      expectError('SY_ERR_STORAGE_IO', 'could not read', '"stalls"', endpoint)(err);
      assertNoCredentials(err);
    } finally {
      stalled.closeAllConnections();
      await new Promise((r) => stalled.close(r));
    }
  });
});

describe('S3ObjectStore never shows credentials', () => {
  test('refused credentials are SY_ERR_STORAGE_AUTH without the keys', T, async () => {
    const unknownAccess = 'SYUNKNOWNACCESS9X';
    const s = newStore({ accessKeyId: unknownAccess });
    for (const call of [() => s.get(BUCKET, 'k'), () => s.exists(BUCKET, 'k'), async () => s.putFile(BUCKET, 'k', await fileWith('x')), () => s.delete(BUCKET, 'k')]) {
      await assert.rejects(call(), (err: unknown) => {
        expectError('SY_ERR_STORAGE_AUTH', JSON.stringify(BUCKET), server.endpoint)(err);
        assertNoCredentials(err, [SECRET_KEY, unknownAccess]);
        return true;
      });
    }
  });

  test('no error seen in these tests holds the secret or the access key', T, () => {
    assert.ok(seenErrors.length > 20, `only ${seenErrors.length} errors were seen`);
    for (const err of seenErrors) assertNoCredentials(err);
  });
});
