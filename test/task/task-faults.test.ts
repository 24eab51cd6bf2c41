// Bad input and faults: every bad task ends in status error with a message that says what
// failed, the server keeps serving, no task hangs; an engine that is down at start or at
// callback time gets the registration and the callback once it is back; the credentials
// a task carries never reach a log line or an error message.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { registrationBody, taskService } from '../../src/models/task/mod.js';
import { retryPolicy } from '../../src/runtime/retry.js';
import type { S3Server } from '../support/s3-server.js';
import { startEngine, type EngineStandIn } from './engine-stand-in.js';
import { ACCESS_KEY, SECRET_KEY, get, getObject, post, putObject, serviceTask, startS3, startService, upperService, type Service } from './harness.js';

let s3: S3Server;
let client: S3Client;
let engine: EngineStandIn;
const services: Service[] = [];

before(async () => {
  ({ s3, client } = await startS3());
  engine = await startEngine();
  await putObject(client, 'hello.txt', 'hello');
  await putObject(client, 'picture.png', Buffer.alloc(10));
});
after(async () => {
  // Every service stopped even when a test failed half-way (stop is idempotent).
  await Promise.all(services.map((svc) => svc.stop()));
  client.destroy();
  await engine.close();
  await s3.close();
  for (const svc of services) assert.doesNotMatch(svc.logText(), new RegExp(SECRET_KEY), 'a task\'s secret key reached the logs');
});

async function service(...args: Parameters<typeof startService>): Promise<Service> {
  const svc = await startService(...args);
  services.push(svc);
  return svc;
}

/** Submits a task and returns the engine's callback body for it. */
async function run(svc: Service, options: Omit<Parameters<typeof serviceTask>[0], 's3' | 'engine'>): Promise<{ id: string; update: Record<string, unknown> }> {
  const { id, body } = serviceTask({ s3, engine, ...options });
  const res = await post(`${svc.url}/compute`, body);
  assert.equal(res.status, 200, res.text);
  const update = await engine.callback(id);
  assert.equal((await get(`${svc.url}/status`)).status, 200, 'the server keeps serving');
  assert.doesNotMatch(JSON.stringify(update), new RegExp(SECRET_KEY));
  return { id, update };
}

function assertError(update: Record<string, unknown>, pattern: RegExp): void {
  assert.equal(update.status, 'error');
  assert.deepEqual(update.data_out, [], 'data_out is [] on error (the engine requires a list)');
  assert.match(String(update.error_message), pattern);
}

describe('bad input ends the task in error, saying what failed', () => {
  let svc: Service;
  before(async () => {
    svc = await service(upperService);
  });
  after(() => svc.stop());

  it('an input key whose extension is not an accepted media type', async () => {
    assertError((await run(svc, { dataIn: ['picture.png'] })).update, /input "text" takes text\/plain, but key "picture\.png" is image\/png/);
    assertError((await run(svc, { dataIn: ['no-extension'] })).update, /key "no-extension" has no extension of a known media type/);
  });

  it('key types are Python\'s mimetypes\' (built-in table): .srt and .pl are text/plain; .text is nothing, as in the reference', async () => {
    await putObject(client, 'subs.srt', 'one');
    await putObject(client, 'script.pl', 'two');
    await putObject(client, 'notes.text', 'three');
    assert.equal((await run(svc, { dataIn: ['subs.srt'] })).update.status, 'finished');
    assert.equal((await run(svc, { dataIn: ['script.pl'] })).update.status, 'finished');
    assertError((await run(svc, { dataIn: ['notes.text'] })).update, /key "notes\.text" has no extension of a known media type/);
  });

  it('a data_in list that does not match the declared inputs', async () => {
    assertError((await run(svc, { dataIn: ['hello.txt', 'hello.txt'] })).update, /the task has 2 data_in key\(s\) but the service takes 1 input\(s\) \(text\)/);
  });

  it('an input object that does not exist', async () => {
    assertError((await run(svc, { dataIn: ['missing.txt'] })).update, /fetching input "text" failed: SY_ERR_OBJECT_NOT_FOUND: object "missing\.txt" does not exist in bucket "engine"/);
  });

  it('a bucket that does not exist', async () => {
    assertError((await run(svc, { dataIn: ['hello.txt'], bucket: 'no-such-bucket' })).update, /SY_ERR_BUCKET_NOT_FOUND: bucket "no-such-bucket" does not exist/);
  });

  it('credentials the S3 server refuses: the error names the refusal, never the keys', async () => {
    const { update } = await run(svc, { dataIn: ['hello.txt'], accessKey: 'UNKNOWNKEY42' });
    assertError(update, /SY_ERR_STORAGE_AUTH: .*refused to read object "hello\.txt" in bucket "engine": InvalidAccessKeyId/);
    assert.doesNotMatch(String(update.error_message), /UNKNOWNKEY42/);
  });

  it('an S3 server that is down, then back', async () => {
    await s3.stop();
    try {
      assertError((await run(svc, { dataIn: ['hello.txt'] })).update, /fetching input "text" failed: SY_ERR_STORAGE_IO: .*ECONNREFUSED/);
    } finally {
      await s3.restart();
    }
    assert.equal((await run(svc, { dataIn: ['hello.txt'] })).update.status, 'finished');
  });
});

describe('a process that misbehaves ends its task in error', () => {
  it('process throws: error_message carries its message', async () => {
    const svc = await service(taskService(
      { name: 'Thrower', slug: 'thrower', summary: 's', dataIn: [{ name: 'text', types: ['text/plain'] }], dataOut: [{ name: 'out', types: ['text/plain'] }] },
      async () => {
        throw new Error('the model is not loaded');
      },
    ));
    try {
      assertError((await run(svc, { dataIn: ['hello.txt'] })).update, /^SY_ERR_TASK_PROCESS: process failed: the model is not loaded$/);
    } finally {
      await svc.stop();
    }
  });

  it('process returns a type not declared, an unknown output, a missing output, or data of the wrong kind', async () => {
    let mode = 0;
    const svc = await service(taskService(
      { name: 'Liar', slug: 'liar', summary: 's', dataIn: [{ name: 'text', types: ['text/plain'] }], dataOut: [{ name: 'out', types: ['text/plain'] }, { name: 'extra', types: ['text/csv'] }] },
      // Deliberately wrong at run time, as a JavaScript caller could be.
      (async () => {
        switch (mode++) {
          case 0: return { out: { type: 'application/json', data: '{}' }, extra: { type: 'text/csv', data: 'a,b' } };
          case 1: return { out: { type: 'text/plain', data: 'x' }, extra: { type: 'text/csv', data: 'a' }, typo: { type: 'text/plain', data: 'x' } };
          case 2: return { out: { type: 'text/plain', data: 'x' } };
          default: return { out: { type: 'text/plain', data: 42 }, extra: { type: 'text/csv', data: 'a' } };
        }
      }) as never,
    ));
    try {
      assertError((await run(svc, { dataIn: ['hello.txt'] })).update, /output "out" has type "application\/json", but the service declares text\/plain for it/);
      assertError((await run(svc, { dataIn: ['hello.txt'] })).update, /output\(s\) "typo" are not declared/);
      assertError((await run(svc, { dataIn: ['hello.txt'] })).update, /output "extra" is missing/);
      assertError((await run(svc, { dataIn: ['hello.txt'] })).update, /output "out"\.data is number, not a string, bytes or a readable stream/);
    } finally {
      await svc.stop();
    }
  });

  it('process that runs past TASK_TIMEOUT: the task fails at once and process sees its signal aborted', async () => {
    let aborted: Promise<void> | undefined;
    const svc = await service(taskService(
      { name: 'Sleeper', slug: 'sleeper', summary: 's', dataIn: [{ name: 'text', types: ['text/plain'] }], dataOut: [{ name: 'out', types: ['text/plain'] }] },
      ({}, { signal }) => {
        aborted = new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        return new Promise(() => {});
      },
    ), { taskTimeoutMs: 100 });
    try {
      assertError((await run(svc, { dataIn: ['hello.txt'] })).update, /^SY_ERR_TASK_PROCESS: process failed: it did not finish within 0\.1 s \(TASK_TIMEOUT\)/);
      await aborted;
    } finally {
      await svc.stop();
    }
  });

  it('outputs may be streams; every output is stored under {uuid}{extension of its type}', async () => {
    const svc = await service(taskService(
      { name: 'Two', slug: 'two', summary: 's', dataIn: [{ name: 'text', types: ['text/plain'] }], dataOut: [{ name: 'copy', types: ['text/plain'] }, { name: 'table', types: ['text/csv'] }] },
      async ({ text }) => ({ copy: { type: 'text/plain', data: text.stream() }, table: { type: 'text/csv', data: Readable.from(['a,b\n', '1,2\n']) } }),
    ));
    try {
      const { update } = await run(svc, { dataIn: ['hello.txt'] });
      assert.equal(update.status, 'finished');
      const [copy, table] = update.data_out as string[];
      assert.match(copy!, /^[0-9a-f-]{36}\.txt$/);
      assert.match(table!, /^[0-9a-f-]{36}\.csv$/);
      assert.equal(await getObject(client, copy!), 'hello');
      assert.equal(await getObject(client, table!), 'a,b\n1,2\n');
    } finally {
      await svc.stop();
    }
  });
});

describe('the engine down, then up', () => {
  it('at start: registration is retried while /status keeps answering, and arrives once the engine is up', async () => {
    const down = await startEngine({ started: false });
    const svc = await service(upperService, { engineUrls: [down.url] });
    try {
      assert.equal((await get(`${svc.url}/status`)).status, 200);
      for (let i = 0; i < 200 && !svc.logText().includes('registration with the engine failed; retrying'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(svc.logText(), /ECONNREFUSED.*registration with the engine failed; retrying/);
      await down.restart();
      const body = await down.registered('upper');
      assert.deepEqual(body, registrationBody(upperService, `http://localhost:${svc.running.port}`));
      const [outcome] = await svc.running.registration;
      assert.equal(outcome!.registered, true);
      assert.ok(outcome!.attempts > 1);
    } finally {
      await svc.stop();
      await down.close();
    }
  });

  it('a slug the engine knows (409): looked up by slug and PATCHed', async () => {
    const eng = await startEngine();
    const first = await service(upperService, { engineUrls: [eng.url] });
    await first.running.registration;
    const second = await service(upperService, { engineUrls: [eng.url], serviceUrl: 'http://127.0.0.1:1/' });
    try {
      const [outcome] = await second.running.registration;
      assert.equal(outcome!.how, 'updated');
      const calls = eng.requests.map((r) => `${r.method} ${r.path}`);
      const id = eng.services.get('upper')!.id;
      assert.deepEqual(calls, ['POST /services', 'POST /services', 'GET /services/slug/upper', `PATCH /services/${id}`]);
      assert.equal(eng.services.get('upper')!.body.url, 'http://127.0.0.1:1/');
    } finally {
      await first.stop();
      await second.stop();
      await eng.close();
    }
  });

  it('registration that keeps failing gives up after ENGINE_ANNOUNCE_RETRIES, logged clearly; the service keeps serving', async () => {
    const down = await startEngine({ started: false });
    const svc = await service(upperService, { engineUrls: [down.url], announceRetry: retryPolicy({ maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10, factor: 1, jitter: 0 }) });
    try {
      const [outcome] = await svc.running.registration;
      assert.equal(outcome!.registered, false);
      assert.equal(outcome!.attempts, 3);
      assert.match(svc.logText(), /"level":"error".*SY_ERR_ENGINE_REGISTRATION: registering with the engine at http:\/\/127\.0\.0\.1:\d+ failed: the engine is unreachable \(ECONNREFUSED\); gave up after 3 attempt\(s\)/);
      assert.equal((await get(`${svc.url}/status`)).status, 200);
    } finally {
      await svc.stop();
      await down.close();
    }
  });

  it('an engine that cannot reach SERVICE_URL answers 503: the reason is logged with each retry', async () => {
    const eng = await startEngine();
    const svc = await service(upperService, {
      engineUrls: [eng.url], serviceUrl: 'http://127.0.0.1:1',
      announceRetry: retryPolicy({ maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, factor: 1, jitter: 0 }),
    });
    try {
      const [outcome] = await svc.running.registration;
      assert.equal(outcome!.registered, false);
      assert.match(outcome!.error!, /POST \/services answered 503 \{"detail":"Service not reachable"\}; gave up after 2 attempt\(s\)/);
      assert.match(svc.logText(), /"reason":"POST \/services answered 503/);
      assert.equal(eng.services.size, 0);
    } finally {
      await svc.stop();
      await eng.close();
    }
  });

  it('at callback time: the task is finished (outputs stored) and the callback is retried until the engine is back', async () => {
    const eng = await startEngine();
    const svc = await service(upperService);
    try {
      await eng.stop();
      const { id, body } = serviceTask({ s3, engine: eng, dataIn: ['hello.txt'] });
      assert.equal((await post(`${svc.url}/compute`, body)).status, 200);
      let status = '';
      for (let i = 0; i < 500 && status !== 'finished'; i++) {
        status = ((await get(`${svc.url}/tasks/${id}/status`)).json as { status: string }).status;
        if (status !== 'finished') await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(status, 'finished', 'finished while the engine is away');
      for (let i = 0; i < 200 && !svc.logText().includes('task callback failed; retrying'); i++) await new Promise((r) => setTimeout(r, 10));
      await eng.restart();
      const update = await eng.callback(id);
      assert.equal(update.status, 'finished');
      assert.deepEqual(JSON.parse(await getObject(client, (update.data_out as string[])[0]!)), { upper: 'HELLO' });
      assert.equal(eng.callbacks.get(id)!.length, 1);
    } finally {
      await svc.stop();
      await eng.close();
    }
  });

  it('an engine answering 500 to the callback is retried; a 4xx is final and logged', async () => {
    const eng = await startEngine();
    const svc = await service(upperService);
    try {
      eng.callbackStatus = 500;
      const a = serviceTask({ s3, engine: eng, dataIn: ['hello.txt'] });
      await post(`${svc.url}/compute`, a.body);
      for (let i = 0; i < 300 && eng.requests.filter((r) => r.path === `/tasks/${a.id}`).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      eng.callbackStatus = 200;
      assert.equal((await eng.callback(a.id)).status, 'finished');
      eng.callbackStatus = 404;
      const b = serviceTask({ s3, engine: eng, dataIn: ['hello.txt'] });
      await post(`${svc.url}/compute`, b.body);
      for (let i = 0; i < 300 && !svc.logText().includes('SY_ERR_TASK_CALLBACK'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(svc.logText(), /SY_ERR_TASK_CALLBACK: PATCH http:\/\/127\.0\.0\.1:\d+\/tasks\/[0-9a-f-]+ \(task callback\) failed: the engine answered 404/);
      assert.equal(eng.requests.filter((r) => r.path === `/tasks/${b.id}`).length, 1);
    } finally {
      await svc.stop();
      await eng.close();
    }
  });

  it('stopping with a callback pending tries it once more and gives up, instead of hanging', async () => {
    const eng = await startEngine();
    const svc = await service(upperService);
    await eng.stop();
    const t = serviceTask({ s3, engine: eng, dataIn: ['hello.txt'] });
    await post(`${svc.url}/compute`, t.body);
    for (let i = 0; i < 300 && svc.running.activity().callbacksPending === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(svc.running.activity().callbacksPending, 1);
    await svc.stop();
    assert.match(svc.logText(), /gave up after \d+ attempt\(s\) because the service is stopping/);
    await eng.close();
  });
});

void ACCESS_KEY;
