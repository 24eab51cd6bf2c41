// The task service over real HTTP, as an engine sees it: the spec's JSON examples sent
// verbatim, every endpoint's body and status field by field, FastAPI-shaped 422s, a task
// end to end through S3 and the callback, MAX_TASKS, auth, the body limit, the docs.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { retryPolicy } from '../../src/runtime/retry.js';
import { observerMetrics } from '../../src/observability/observer-metrics.js';
import { registrationBody, taskService, TASK_STATUSES } from '../../src/models/task/mod.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Server } from '../support/s3-server.js';
import { startEngine, type EngineStandIn } from './engine-stand-in.js';
import { ACCESS_KEY, BUCKET, SECRET_KEY, get, getObject, post, putObject, serviceTask, startS3, startService, upperService } from './harness.js';
import { CALLBACK_EXAMPLE, COMPUTE_EXAMPLE, REGISTRATION_EXAMPLE } from './spec-examples.js';

let s3: S3Server;
let client: S3Client;
let engine: EngineStandIn;

before(async () => {
  ({ s3, client } = await startS3());
  engine = await startEngine();
});
after(async () => {
  client.destroy();
  await engine.close();
  await s3.close();
});

const averageShade = taskService(
  {
    name: 'Average Shade', slug: 'average-shade',
    summary: 'Returns the average shade of an image.', description: 'Returns the average shade of an image.',
    dataIn: [{ name: 'image', types: ['image/png', 'image/jpeg'] }],
    dataOut: [{ name: 'result', types: ['application/json'] }],
    tags: [{ name: 'Image Processing', acronym: 'IP' }],
    docsUrl: 'https://docs.swiss-ai-center.ch/reference/services/average-shade/',
    hasAi: false,
  },
  async ({ image }) => ({ result: { type: 'application/json', data: JSON.stringify({ bytes: (await image.bytes()).length }) } }),
);

describe('the spec examples, verbatim', () => {
  it('POST /compute with the engine example answers 200 {"status": "Task added to the queue"}; the task is then known by id', async () => {
    // Nothing serves localhost:9000/8080 for this task: it fails and its callback is tried once.
    const svc = await startService(averageShade, { callbackRetry: retryPolicy({ maxAttempts: 1 }) });
    try {
      const res = await post(`${svc.url}/compute`, COMPUTE_EXAMPLE);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(Object.keys(res.json as object), ['status']);
      assert.equal((res.json as { status: string }).status, 'Task added to the queue');
      const status = await get(`${svc.url}/tasks/76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100/status`);
      // Known until the engine has been told (or given up on); then forgotten, as the reference.
      if (status.status === 200) assert.ok((TASK_STATUSES as readonly string[]).includes((status.json as { status: string }).status));
      else assert.deepEqual(status.json, { detail: 'Task 76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100 not found' });
    } finally {
      await svc.stop();
    }
    assert.doesNotMatch(svc.logText(), /minio123/, 'the secret key from the example never reaches the logs');
  });

  it('the registration body of the average-shade declaration is the spec example, key for key and in order', () => {
    assert.equal(JSON.stringify(registrationBody(averageShade, 'http://localhost:9090')), JSON.stringify(JSON.parse(REGISTRATION_EXAMPLE)));
  });

  it('a task end to end: inputs from S3, an output uploaded under {uuid}.json, then PATCH callback_url with the spec\'s TaskUpdate shape', async () => {
    const svc = await startService(averageShade);
    try {
      const example = JSON.parse(COMPUTE_EXAMPLE) as Record<string, unknown> & { task: Record<string, unknown> };
      const { id, body } = serviceTask({ s3, engine, dataIn: ['in-image-1.png'] });
      await putObject(client, 'in-image-1.png', Buffer.alloc(300, 1));
      // Same keys as the example (created_at, updated_at, pipeline_execution_id... included).
      assert.deepEqual(Object.keys(body).sort(), Object.keys(example).sort());
      assert.deepEqual(Object.keys(body.task as object).sort(), Object.keys(example.task).sort());
      const res = await post(`${svc.url}/compute`, body);
      assert.deepEqual(res.json, { status: 'Task added to the queue' });
      const update = await engine.callback(id);
      const expected = JSON.parse(CALLBACK_EXAMPLE) as Record<string, unknown>;
      assert.deepEqual(Object.keys(update), Object.keys(expected));
      assert.equal(update.service, null);
      assert.equal(update.url, null);
      assert.equal(update.status, 'finished');
      assert.equal(update.error_message, null);
      const dataOut = update.data_out as string[];
      assert.equal(dataOut.length, 1);
      assert.match(dataOut[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.json$/);
      assert.deepEqual(JSON.parse(await getObject(client, dataOut[0]!)), { bytes: 300 });
      // Told, then forgotten.
      for (let i = 0; i < 100 && (await get(`${svc.url}/tasks/${id}/status`)).status === 200; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual((await get(`${svc.url}/tasks/${id}/status`)).json, { detail: `Task ${id} not found` });
    } finally {
      await svc.stop();
    }
  });
});

describe('endpoints', () => {
  let svc: Awaited<ReturnType<typeof startService>>;
  before(async () => {
    svc = await startService(upperService);
  });
  after(() => svc.stop());

  it('GET /status answers 200 {"status": "Service is available"}', async () => {
    const res = await get(`${svc.url}/status`);
    assert.equal(res.status, 200);
    assert.equal(res.text, '{"status":"Service is available"}');
  });

  it('GET / redirects (301) to /docs; /docs is Swagger UI; /openapi.json documents the three routes', async () => {
    const root = await get(`${svc.url}/`);
    assert.equal(root.status, 301);
    assert.equal(root.headers.get('location'), '/docs');
    const docs = await get(`${svc.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(docs.text, /swagger/i);
    const doc = (await get(`${svc.url}/openapi.json`)).json as { openapi: string; info: { title: string }; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Upper');
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/compute', '/status', '/tasks/{task_id}/status']);
    const compute = doc.paths['/compute']!.post as { requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown>; required: string[] } } } } };
    const schema = compute.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required.sort(), ['callback_url', 's3_access_key_id', 's3_bucket', 's3_host', 's3_region', 's3_secret_access_key', 'task']);
  });

  it('GET /tasks/{id}/status: 404 {"detail": "Task <id> not found"} for an unknown UUID, in canonical form', async () => {
    const res = await get(`${svc.url}/tasks/76BA4E6A3B8A4BDA84076EAF5A8E1100/status`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, { detail: 'Task 76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100 not found' });
  });

  it('GET /tasks/{id}/status: 422 with loc ["path", "task_id"] for a non-UUID', async () => {
    const res = await get(`${svc.url}/tasks/not-a-uuid/status`);
    assert.equal(res.status, 422);
    const [entry, ...rest] = (res.json as { detail: Record<string, unknown>[] }).detail;
    assert.equal(rest.length, 0);
    assert.equal(entry!.type, 'uuid_parsing');
    assert.deepEqual(entry!.loc, ['path', 'task_id']);
    assert.equal(entry!.input, 'not-a-uuid');
    assert.match(String(entry!.msg), /^Input should be a valid UUID, /);
  });

  it('POST /compute: 422 names each failing field with FastAPI\'s types, never echoing credentials', async () => {
    const { body } = serviceTask({ s3, engine, dataIn: ['a.txt'] });
    const bad = JSON.parse(JSON.stringify(body)) as Record<string, unknown> & { task: Record<string, unknown> };
    delete bad.s3_bucket;
    bad.task.id = 'not-a-uuid';
    bad.task.status = 'done';
    bad.task.data_in = 'a.txt';
    bad.s3_region = 7;
    const res = await post(`${svc.url}/compute`, bad);
    assert.equal(res.status, 422);
    const detail = (res.json as { detail: { type: string; loc: unknown[]; msg: string; input: unknown }[] }).detail;
    const byLoc = Object.fromEntries(detail.map((d) => [d.loc.join('.'), d]));
    assert.deepEqual(Object.keys(byLoc).sort(), ['body.s3_bucket', 'body.s3_region', 'body.task.data_in', 'body.task.id', 'body.task.status'].sort());
    assert.equal(byLoc['body.s3_bucket']!.type, 'missing');
    assert.equal(byLoc['body.s3_bucket']!.msg, 'Field required');
    assert.equal(byLoc['body.s3_region']!.type, 'string_type');
    assert.equal(byLoc['body.s3_region']!.input, 7);
    assert.equal(byLoc['body.task.id']!.type, 'uuid_parsing');
    assert.equal(byLoc['body.task.status']!.type, 'enum');
    assert.match(byLoc['body.task.status']!.msg, /^Input should be 'pending', 'fetching', .* or 'unavailable'$/);
    assert.equal(byLoc['body.task.data_in']!.type, 'list_type');
    assert.doesNotMatch(res.text, new RegExp(SECRET_KEY));
    assert.doesNotMatch(res.text, new RegExp(ACCESS_KEY));
    assert.match(res.text, /\[redacted\]/);
  });

  it('POST /compute: 422 for a body that is not JSON, for no body, for a body that is not an object, for an s3_host without scheme', async () => {
    const notJson = await post(`${svc.url}/compute`, '{"s3_access_key_id": ');
    assert.equal(notJson.status, 422);
    assert.equal((notJson.json as { detail: { type: string }[] }).detail[0]!.type, 'json_invalid');
    const none = await post(`${svc.url}/compute`, '');
    assert.deepEqual(none.json, { detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
    const list = await post(`${svc.url}/compute`, '[1, 2]');
    assert.equal((list.json as { detail: { type: string; loc: string[] }[] }).detail[0]!.type, 'model_attributes_type');
    const { body } = serviceTask({ s3, engine, dataIn: ['a.txt'], s3Host: 'minio:9000' });
    const noScheme = await post(`${svc.url}/compute`, body);
    assert.equal(noScheme.status, 422);
    assert.deepEqual((noScheme.json as { detail: { loc: string[] }[] }).detail.map((d) => d.loc), [['body', 's3_host']]);
  });

  it('unknown routes answer 404 {"detail": "Not Found"}', async () => {
    const res = await get(`${svc.url}/nope`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(res.json, { detail: 'Not Found' });
  });
});

/** A service whose process waits until released, to hold tasks in flight. */
function gatedService() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const definition = taskService(
    { name: 'Gated', slug: 'gated', summary: 'waits', dataIn: [{ name: 'text', types: ['text/plain'] }], dataOut: [{ name: 'out', types: ['text/plain'] }] },
    async ({ text }) => {
      await gate;
      return { out: { type: 'text/plain', data: await text.text() } };
    },
  );
  return { definition, release };
}

describe('MAX_TASKS', () => {
  it('past MAX_TASKS tasks in flight, POST /compute answers 503 {"detail": "Queue is full"}; once they end it accepts again', async () => {
    const { definition, release } = gatedService();
    const svc = await startService(definition, { maxTasks: 2 });
    try {
      await putObject(client, 'gate.txt', 'x');
      const tasks = [1, 2, 3].map(() => serviceTask({ s3, engine, dataIn: ['gate.txt'] }));
      assert.equal((await post(`${svc.url}/compute`, tasks[0]!.body)).status, 200);
      assert.equal((await post(`${svc.url}/compute`, tasks[1]!.body)).status, 200);
      const full = await post(`${svc.url}/compute`, tasks[2]!.body);
      assert.equal(full.status, 503);
      assert.deepEqual(full.json, { detail: 'Queue is full' });
      // The first runs (fetched, now processing), the second waits its turn.
      assert.deepEqual((await get(`${svc.url}/tasks/${tasks[1]!.id}/status`)).json, { status: 'pending' });
      release();
      await engine.callback(tasks[0]!.id);
      await engine.callback(tasks[1]!.id);
      assert.equal((await post(`${svc.url}/compute`, tasks[2]!.body)).status, 200);
      assert.equal((await engine.callback(tasks[2]!.id)).status, 'finished');
      assert.equal(engine.callbacks.get(tasks[2]!.id)!.length, 1);
    } finally {
      release();
      await svc.stop();
    }
  });

  it('a task id already queued or running is refused with 409', async () => {
    const { definition, release } = gatedService();
    const svc = await startService(definition);
    try {
      await putObject(client, 'gate.txt', 'x');
      const t = serviceTask({ s3, engine, dataIn: ['gate.txt'] });
      assert.equal((await post(`${svc.url}/compute`, t.body)).status, 200);
      const again = await post(`${svc.url}/compute`, t.body);
      assert.equal(again.status, 409);
      release();
      await engine.callback(t.id);
    } finally {
      release();
      await svc.stop();
    }
  });
});

describe('security', () => {
  it('with an auth token, /compute and task status need the bearer token; /status does not', async () => {
    const svc = await startService(upperService, { authToken: 'tok-123' });
    try {
      await putObject(client, 'auth.txt', 'hello');
      const t = serviceTask({ s3, engine, dataIn: ['auth.txt'] });
      const denied = await post(`${svc.url}/compute`, t.body);
      assert.equal(denied.status, 401);
      assert.deepEqual(denied.json, { detail: 'Not authenticated' });
      assert.equal(denied.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await post(`${svc.url}/compute`, t.body, { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await get(`${svc.url}/tasks/${t.id}/status`)).status, 401);
      assert.equal((await get(`${svc.url}/status`)).status, 200);
      assert.equal((await post(`${svc.url}/compute`, t.body, { authorization: 'Bearer tok-123' })).status, 200);
      assert.equal((await engine.callback(t.id)).status, 'finished');
      const doc = (await get(`${svc.url}/openapi.json`)).json as { components: { securitySchemes: Record<string, unknown> } };
      assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' });
    } finally {
      await svc.stop();
    }
  });

  it('a body over the limit is refused with 413 before any handler runs', async () => {
    const svc = await startService(upperService, { bodyLimitBytes: 2048 });
    try {
      const t = serviceTask({ s3, engine, dataIn: ['x'.repeat(3000) + '.txt'] });
      const res = await post(`${svc.url}/compute`, t.body);
      assert.equal(res.status, 413);
      assert.match((res.json as { detail: string }).detail, /larger than the limit of 2048 bytes/);
      assert.equal((await get(`${svc.url}/status`)).status, 200);
    } finally {
      await svc.stop();
    }
  });
});

void BUCKET;

describe('TASK_CONCURRENCY', () => {
  it('runs that many tasks at once; the rest wait pending', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inside = 0;
    let most = 0;
    const svc = await startService(taskService(
      { name: 'Wide', slug: 'wide', summary: 's', dataIn: [{ name: 'text', types: ['text/plain'] }], dataOut: [{ name: 'out', types: ['text/plain'] }] },
      async () => {
        most = Math.max(most, ++inside);
        await gate;
        inside--;
        return { out: { type: 'text/plain', data: 'ok' } };
      },
    ), { concurrency: 2 });
    try {
      await putObject(client, 'wide.txt', 'x');
      const tasks = [1, 2, 3].map(() => serviceTask({ s3, engine, dataIn: ['wide.txt'] }));
      for (const t of tasks) assert.equal((await post(`${svc.url}/compute`, t.body)).status, 200);
      const statuses = async () => Promise.all(tasks.map(async (t) => ((await get(`${svc.url}/tasks/${t.id}/status`)).json as { status: string }).status));
      for (let i = 0; i < 300 && (await statuses()).filter((s) => s === 'processing').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(await statuses(), ['processing', 'processing', 'pending']);
      assert.deepEqual(svc.running.activity(), { inFlight: 3, running: 2, callbacksPending: 0 });
      release();
      for (const t of tasks) assert.equal((await engine.callback(t.id)).status, 'finished');
      assert.equal(most, 2);
    } finally {
      release();
      await svc.stop();
    }
  });
});

describe('metrics', () => {
  it('derived from the observer stream: tasks received, handled, failed, refused, callbacks, the tasks in flight', async () => {
    const svc = await startService(upperService, { maxTasks: 1 });
    const { registry } = observerMetrics(svc.observer, { processMetrics: false });
    try {
      await putObject(client, 'm.txt', 'm');
      const ok = serviceTask({ s3, engine, dataIn: ['m.txt'] });
      const bad = serviceTask({ s3, engine, dataIn: ['m.png'] });
      await post(`${svc.url}/compute`, ok.body);
      await engine.callback(ok.id);
      await post(`${svc.url}/compute`, bad.body);
      await engine.callback(bad.id);
      assert.equal((await post(`${svc.url}/compute`, { not: 'a task' })).status, 422);
      for (let i = 0; i < 100 && svc.running.activity().callbacksPending > 0; i++) await new Promise((r) => setTimeout(r, 10));
      const text = await registry.metrics();
      const source = 'model="task",service="upper",transport="http"';
      assert.match(text, new RegExp(`switchyard_received_total\\{${source},input="compute"\\} 2`));
      assert.match(text, new RegExp(`switchyard_handled_total\\{${source},input="compute"\\} 1`));
      assert.match(text, new RegExp(`switchyard_failed_total\\{${source},input="compute"\\} 1`));
      assert.match(text, new RegExp(`switchyard_rejected_total\\{${source},input="compute"\\} 1`));
      assert.match(text, new RegExp(`switchyard_calls_total\\{${source},target="engine-callback",outcome="ok"\\} 2`));
      assert.match(text, new RegExp(`switchyard_in_flight\\{${source},input="compute"\\} 0`));
      assert.match(text, new RegExp(`switchyard_handle_duration_seconds_count\\{${source},input="compute",outcome="ok"\\} 1`));
    } finally {
      await svc.stop();
    }
  });
});

describe('methods', () => {
  it('a known path with another method answers 405 with Allow, as Starlette', async () => {
    const svc = await startService(upperService);
    try {
      const res = await get(`${svc.url}/compute`);
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
      assert.deepEqual(res.json, { detail: 'Method Not Allowed' });
      const status = await post(`${svc.url}/tasks/76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100/status`, '{}');
      assert.equal(status.status, 405);
      assert.equal(status.headers.get('allow'), 'GET');
    } finally {
      await svc.stop();
    }
  });
});

describe('listening', () => {
  it('a port in use fails the start with SY_ERR_HTTP_LISTEN naming the address and the fix', async () => {
    const first = await startService(upperService);
    try {
      await assert.rejects(startService(upperService, { port: first.running.port }), (err: Error) => {
        assert.match(err.message, new RegExp(`^SY_ERR_HTTP_LISTEN: cannot serve HTTP on 127\\.0\\.0\\.1:${first.running.port}: the port is already in use; pick another port \\(SERVICE_PORT or --port\\)$`));
        return true;
      });
    } finally {
      await first.stop();
    }
  });
});
