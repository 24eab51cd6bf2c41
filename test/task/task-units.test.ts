// Unit tests of the task model's pieces: UUIDs as pydantic reads them, media types from
// key extensions, the status machine, declaration checks and type inference, FastAPI
// error entries, settings from the environment and .env files, the store pool.

import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extensionOf, mediaTypeOfKey, parseUuid, serviceTaskSchema, taskService, MEDIA_TYPES } from '../../src/models/task/mod.js';
import { TaskState } from '../../src/models/task/task-status.js';
import { serviceTaskErrors } from '../../src/models/task/fastapi-errors.js';
import { StorePool } from '../../src/models/task/store-pool.js';
import { resolveTaskSettings } from '../../src/models/task/resolve-settings.js';
import { parseDotEnv, taskServiceOptions } from '../../src/models/task/mod.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

describe('UUIDs', () => {
  it('accepts hyphenated, simple, braced and urn forms in any case, canonical out', () => {
    const canonical = '76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100';
    for (const form of [canonical, canonical.toUpperCase(), canonical.replace(/-/g, ''), `{${canonical}}`, `urn:uuid:${canonical}`]) {
      assert.deepEqual(parseUuid(form), { ok: true, uuid: canonical }, form);
    }
  });
  it('says what is wrong, as pydantic does', () => {
    assert.deepEqual(parseUuid('abc'), { ok: false, error: 'invalid length: expected length 32 for simple format, found 3' });
    assert.match((parseUuid('76ba4e6a-3b8a-4bda-8407') as { error: string }).error, /^invalid group count: expected 5, found 4$/);
    assert.match((parseUuid('76ba4e6a-3b8a-4bda-8407-6eaf5a8e110') as { error: string }).error, /^invalid group length in group 4: expected 12, found 11$/);
    assert.match((parseUuid('x6ba4e6a-3b8a-4bda-8407-6eaf5a8e1100') as { error: string }).error, /^invalid character: .* found `x` at 1$/);
  });
});

describe('media types', () => {
  it('an input key\'s type comes from its extension, as Python\'s mimetypes.guess_type', () => {
    assert.equal(mediaTypeOfKey('5f0c-uuid.png'), 'image/png');
    assert.equal(mediaTypeOfKey('a/b/photo.JPG'), 'image/jpeg');
    assert.equal(mediaTypeOfKey('x.jpeg'), 'image/jpeg');
    assert.equal(mediaTypeOfKey('notes.txt'), 'text/plain');
    assert.equal(mediaTypeOfKey('song.mp3'), 'audio/mpeg');
    assert.equal(mediaTypeOfKey('no-extension'), undefined);
    assert.equal(mediaTypeOfKey('.png'), undefined);
    assert.equal(mediaTypeOfKey('archive.tar.gz'), 'application/x-tar', 'Python strips the compression suffix');
  });
  it('every engine media type but audio/ogg has an extension that maps back to it (Python 3.11\'s table knows no .ogg)', () => {
    for (const type of MEDIA_TYPES) assert.equal(mediaTypeOfKey(`k${extensionOf(type)}`), type === 'audio/ogg' ? undefined : type);
    assert.equal(extensionOf('image/jpeg'), '.jpg');
    assert.equal(extensionOf('audio/ogg'), '.ogg');
  });
});

describe('the status machine', () => {
  it('moves pending → fetching → processing → saving → finished', () => {
    const s = new TaskState();
    for (const to of ['fetching', 'processing', 'saving', 'finished'] as const) s.move(to);
    assert.equal(s.status, 'finished');
    assert.equal(s.done, true);
  });
  it('refuses skipping a step, reviving a failed task, or failing a finished one', () => {
    const s = new TaskState();
    assert.throws(() => s.move('finished'), /cannot move from pending to finished/);
    s.move('fetching');
    s.fail('boom');
    assert.equal(s.errorMessage, 'boom');
    assert.throws(() => s.move('processing'), /cannot move from error to processing/);
    const f = new TaskState();
    for (const to of ['fetching', 'processing', 'saving', 'finished'] as const) f.move(to);
    assert.throws(() => f.fail('late'), /cannot move from finished to error/);
  });
});

describe('taskService declarations', () => {
  const ok = { name: 'N', slug: 'n', summary: 's', dataIn: [{ name: 'a', types: ['text/plain'] }], dataOut: [{ name: 'b', types: ['text/csv'] }] } as const;
  it('fills defaults and resolves tags by name or acronym', () => {
    const d = taskService({ ...ok, tags: ['IP', 'Natural Language Processing', { name: 'Data Preprocessing', acronym: 'DPP' }] }, async () => ({ b: { type: 'text/csv', data: '' } }));
    assert.deepEqual(d.tags, [{ name: 'Image Processing', acronym: 'IP' }, { name: 'Natural Language Processing', acronym: 'NLP' }, { name: 'Data Preprocessing', acronym: 'DPP' }]);
    assert.equal(d.docsUrl, 'https://docs.swiss-ai-center.ch/reference/core-concepts/service');
    assert.equal(d.description, null);
    assert.equal(d.hasAi, false);
  });
  it('reports every problem at once, each with its fix', () => {
    assert.throws(
      () => taskService({ name: '', slug: 'Bad Slug', summary: 's', dataIn: [{ name: 'a', types: ['image/gif' as never] }, { name: 'a', types: ['text/plain'] }], dataOut: [], tags: ['Magic' as never], docsUrl: 'ftp://x' }, (() => ({})) as never),
      (err: Error) => {
        assert.match(err.message, /^SY_ERR_TASK_DECLARATION: /);
        for (const part of [/name must be a non-empty string/, /slug "Bad Slug" must be lower-case/, /"image\/gif", which the engine does not know/, /dataIn\[1\]\.name "a" is declared twice/, /dataOut must be a non-empty list/, /tags\[0\] is not an engine tag; use one of: Generic \(GNR\)/, /docsUrl must be an http/]) {
          assert.match(err.message, part);
        }
        return true;
      },
    );
  });
  it('types flow from the declaration into process (checked by the type checker)', () => {
    taskService(ok, async (inputs) => {
      const t: 'text/plain' = inputs.a.type;
      void t;
      // @ts-expect-error -- no input "nope" was declared
      void inputs.nope;
      return { b: { type: 'text/csv', data: await inputs.a.text() } };
    });
    // @ts-expect-error -- "text/plain" is not a type declared for output "b"
    taskService(ok, async () => ({ b: { type: 'text/plain', data: '' } }));
    // @ts-expect-error -- output "b" is missing
    taskService(ok, async () => ({}));
  });
});

describe('FastAPI error entries', () => {
  it('missing vs null vs wrong type, and credentials never echoed', () => {
    const body = { s3_access_key_id: 'AK', s3_secret_access_key: 12345, s3_region: null, s3_host: 'http://h', task: { id: '76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100', data_in: ['a', 3], status: 'pending', service_id: '76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100' }, callback_url: 'http://e/tasks/1' };
    const result = serviceTaskSchema.safeParse(body);
    assert.equal(result.success, false);
    const entries = serviceTaskErrors(result.error!, body);
    assert.deepEqual(entries.map((e) => [e.loc.join('.'), e.type]), [
      ['body.s3_secret_access_key', 'string_type'],
      ['body.s3_region', 'string_type'],
      ['body.s3_bucket', 'missing'],
      ['body.task.data_in.1', 'string_type'],
    ]);
    assert.equal(entries[0]!.input, '[redacted]');
    assert.equal(entries[1]!.input, null);
    assert.equal((entries[2]!.input as Record<string, unknown>).s3_access_key_id, '[redacted]');
    assert.equal((entries[2]!.input as Record<string, unknown>).s3_secret_access_key, '[redacted]');
  });
});

describe('task settings', () => {
  it('parses .env files: comments, export, quotes', () => {
    assert.deepEqual(parseDotEnv('# c\nA=1\nexport B = two # note\nC="x # y"\nD=\'q\'\nE="l1\\nl2"\nnot a line\n'), { A: '1', B: 'two', C: 'x # y', D: 'q', E: 'l1\nl2' });
  });
  it('reads the reference\'s variables: environment over .env over ../.env over defaults; flags over all', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sy-task-settings-'));
    try {
      const cwd = join(root, 'svc');
      await mkdir(cwd);
      await writeFile(join(root, '.env'), 'MAX_TASKS=7\nSERVICE_PORT=1111\nENGINE_ANNOUNCE_RETRY_DELAY=9\n');
      await writeFile(join(cwd, '.env'), 'SERVICE_PORT=2222\nENGINE_URLS=["http://e1:8080", "http://e2:8080"]\n');
      const s = resolveTaskSettings({}, { ENGINE_ANNOUNCE_RETRY_DELAY: '0.5' }, cwd);
      assert.equal(s.maxTasks, 7);
      assert.equal(s.port, 2222);
      assert.deepEqual(s.engineUrls, ['http://e1:8080', 'http://e2:8080']);
      assert.equal(s.announceRetryDelay, 0.5);
      assert.equal(s.announceRetries, 5);
      assert.equal(s.host, '127.0.0.1');
      const f = resolveTaskSettings({ port: '3333', engineUrl: ['http://x:1'] }, {}, cwd);
      assert.equal(f.port, 3333);
      assert.deepEqual(f.engineUrls, ['http://x:1']);
      const d = resolveTaskSettings({}, {}, join(root, 'a', 'b'));
      assert.deepEqual([d.port, d.maxTasks, d.engineUrls, d.announceRetries, d.announceRetryDelay], [9090, 50, ['http://localhost:8080'], 5, 3]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  it('names the variable and where it came from when a value is wrong', () => {
    assert.throws(() => resolveTaskSettings({}, { MAX_TASKS: 'lots', ENGINE_URLS: '["not a url"]' }, '/nonexistent'), (err: Error) => {
      assert.match(err.message, /^SY_ERR_SETTINGS: /);
      assert.match(err.message, /task\.maxTasks \(from environment variable MAX_TASKS\)/);
      assert.match(err.message, /task\.engineUrls\.0 \(from environment variable ENGINE_URLS\)/);
      return true;
    });
  });
  it('ENGINE_ANNOUNCE_RETRIES=0 announces to no engine; comma lists are accepted; the auth token is a secret reference', async () => {
    const s = await taskServiceOptions(resolveTaskSettings({}, { ENGINE_ANNOUNCE_RETRIES: '0', ENGINE_URLS: 'http://a:1, http://b:2' }, '/nonexistent'));
    assert.deepEqual(s.engineUrls, []);
    process.env.SY_TEST_TASK_TOKEN = 'tok';
    try {
      const t = await taskServiceOptions(resolveTaskSettings({}, { ENGINE_URLS: 'http://a:1, http://b:2', SERVICE_AUTH_TOKEN: 'env:SY_TEST_TASK_TOKEN' }, '/nonexistent'));
      assert.deepEqual(t.engineUrls, ['http://a:1', 'http://b:2']);
      assert.equal(t.authToken, 'tok');
      assert.equal(t.announceRetry!.maxAttempts, 5);
      assert.equal(t.announceRetry!.initialDelayMs, 3000);
    } finally {
      delete process.env.SY_TEST_TASK_TOKEN;
    }
    await assert.rejects(taskServiceOptions(resolveTaskSettings({}, { SERVICE_AUTH_TOKEN: 'plain-token' }, '/nonexistent')), /SY_ERR_SECRET_REF/);
  });
});

describe('the store pool', () => {
  function fakeOpen() {
    const opened: string[] = [];
    const closed: string[] = [];
    const open = (s: { host: string }) => {
      opened.push(s.host);
      return { name: 'fake', close: async () => void closed.push(s.host) } as unknown as ObjectStore;
    };
    return { open, opened, closed };
  }
  const settings = (host: string, secret = 's') => ({ host, region: 'r', bucket: 'b', accessKeyId: 'a', secretAccessKey: secret });
  it('one store per distinct settings, shared; idle ones past the limit closed', async () => {
    const { open, opened, closed } = fakeOpen();
    const pool = new StorePool(open, 1);
    const a1 = pool.acquire(settings('h1'));
    const a2 = pool.acquire(settings('h1'));
    assert.equal(a1.store, a2.store);
    const b = pool.acquire(settings('h1', 'other-secret'));
    assert.notEqual(b.store, a1.store);
    assert.deepEqual(opened, ['h1', 'h1']);
    a1.release();
    a2.release();
    assert.equal(pool.size, 1, 'the idle store was closed: only one kept');
    assert.deepEqual(closed, ['h1']);
    b.release();
    await pool.closeAll();
    assert.equal(closed.length, 2);
  });
});
