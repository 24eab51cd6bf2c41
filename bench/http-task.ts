// Task services over HTTP, end to end: tasks/s of a trivial task (read a 1 KB input from
// S3, write it back as the output, PATCH the callback) through a Switchyard task service,
// against a bare fastify handler doing the same work by hand (@aws-sdk/client-s3 get and
// put, fetch PATCH), at 1 and 8 tasks in flight; and GET /status requests/s against a bare
// fastify route. Same run, the order flips every round, medians of rounds.
//   npm run bench -- http-task [rounds]

import { randomUUID } from 'node:crypto';
import { createServer, Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createLogger } from '../dist/observability/logger.js';
import { flagLayer, resolveSettings } from '../dist/config/settings/settings.js';
import { TransportRegistry } from '../dist/runtime/registry.js';
import { Runtime } from '../dist/runtime/runtime.js';
import { runner, taskService, taskSettingsSection, type TaskServiceComponent } from '../dist/models/task/mod.js';
import { startS3Server } from '../test/support/s3-server.js';
import { median, printResult } from './_result.js';

// The SDK's notice that its 2027 releases need Node 22 (the version here is pinned).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const ROUNDS = Number(process.argv[2] ?? 5);
const TASK_LEVELS = [
  { concurrency: 1, tasks: 150 },
  { concurrency: 8, tasks: 400 },
];
const STATUS_REQUESTS = 20_000;
const STATUS_CONNECTIONS = 8;
const BUCKET = 'bench';
const INPUT = 'input.txt';

const s3 = await startS3Server({ buckets: [BUCKET] });
const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
{
  const c = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: INPUT, Body: Buffer.alloc(1024, 'x') }));
  c.destroy();
}

// ---- the engine: takes callbacks, wakes whoever waits for that task
const waiters = new Map<string, () => void>();
const engine = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const id = (req.url ?? '').split('/').pop()!;
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { status: string };
    if (body.status !== 'finished') throw new Error(`task ${id} ended ${JSON.stringify(body)}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    waiters.get(id)?.();
    waiters.delete(id);
  });
});
await new Promise<void>((r) => engine.listen(0, '127.0.0.1', r));
const engineUrl = `http://127.0.0.1:${(engine.address() as AddressInfo).port}`;

function taskBody(id: string): string {
  return JSON.stringify({
    s3_access_key_id: credentials.accessKeyId, s3_secret_access_key: credentials.secretAccessKey, s3_region: 'us-east-1',
    s3_host: s3.endpoint, s3_bucket: BUCKET,
    task: { data_in: [INPUT], data_out: null, status: 'pending', service_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6', pipeline_execution_id: null, id },
    callback_url: `${engineUrl}/tasks/${id}`,
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function call(url: string, method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Tasks/s with `concurrency` tasks in flight: submit, wait for its callback, submit the next. */
async function driveTasks(url: string, concurrency: number, tasks: number): Promise<number> {
  let left = tasks;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left > 0) {
      left--;
      const id = randomUUID();
      const told = new Promise<void>((r) => waiters.set(id, r));
      const res = await call(`${url}/compute`, 'POST', taskBody(id));
      if (res.status !== 200) throw new Error(`POST /compute answered ${res.status}: ${res.text}`);
      await told;
    }
  }));
  return tasks / ((performance.now() - started) / 1000);
}

async function driveStatus(url: string): Promise<number> {
  let left = STATUS_REQUESTS;
  const started = performance.now();
  await Promise.all(Array.from({ length: STATUS_CONNECTIONS }, async () => {
    while (left-- > 0) {
      const res = await call(`${url}/status`, 'GET');
      if (res.status !== 200) throw new Error(`GET /status answered ${res.status}`);
    }
  }));
  return STATUS_REQUESTS / ((performance.now() - started) / 1000);
}

const copyService = taskService(
  { name: 'Copy', slug: 'copy', summary: 'copies', dataIn: [{ name: 'in', types: ['text/plain'] }], dataOut: [{ name: 'out', types: ['text/plain'] }] },
  async ({ in: input }) => ({ out: { type: 'text/plain', data: await input.bytes() } }),
);

/** The task service as `switchyard run` serves it: the model's runner, on the Runtime, over the registry's http transport. */
async function withOurs<T>(concurrency: number, fn: (url: string) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: 'silent' });
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const { task: settings } = resolveSettings([taskSettingsSection], [flagLayer({ task: { host: '127.0.0.1', port: 0, engineUrls: [], concurrency, maxTasks: 1000 } })]);
  const [svc] = (await runner.components([copyService], {
    logger, observer: runtime.observer, transports, settings, transport: runner.defaultTransport, stateDir: '.switchyard',
    configSource: () => Promise.reject(new Error('not used')), objectStore: () => Promise.reject(new Error('not used')),
  })) as TaskServiceComponent[];
  await runtime.add(svc!);
  await runtime.start();
  try {
    return await fn(svc!.url);
  } finally {
    await runtime.stop();
  }
}

/** The same work by hand: parse, answer, then get, put under a new key, PATCH the callback. */
async function withBare<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const app = Fastify({ logger: false });
  const clients = new Map<string, S3Client>();
  app.get('/status', async () => ({ status: 'Service is available' }));
  app.post('/compute', async (req) => {
    const t = req.body as { s3_host: string; s3_region: string; s3_bucket: string; s3_access_key_id: string; s3_secret_access_key: string; callback_url: string; task: { data_in: string[] } };
    const key = `${t.s3_host}|${t.s3_access_key_id}|${t.s3_secret_access_key}`;
    let client = clients.get(key);
    if (!client) {
      // Checksums only where S3 requires them, as the S3 object store does (s3rver and Garage
      // do not all take the SDK's default aws-chunked bodies), so both sides send the same bytes.
      client = new S3Client({
        endpoint: t.s3_host, region: t.s3_region, forcePathStyle: true,
        credentials: { accessKeyId: t.s3_access_key_id, secretAccessKey: t.s3_secret_access_key },
        requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.set(key, client);
    }
    const c = client;
    void (async () => {
      const got = await c.send(new GetObjectCommand({ Bucket: t.s3_bucket, Key: t.task.data_in[0] }));
      const data = await got.Body!.transformToByteArray();
      const out = `${randomUUID()}.txt`;
      await c.send(new PutObjectCommand({ Bucket: t.s3_bucket, Key: out, Body: data }));
      await fetch(t.callback_url, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: null, url: null, data_out: [out], status: 'finished', error_message: null }) });
    })();
    return { status: 'Task added to the queue' };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    return await fn(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  } finally {
    await app.close();
    for (const c of clients.values()) c.destroy();
  }
}

try {
  // Warm-up: connections, JIT, s3rver's first requests.
  await withOurs(1, (url) => driveTasks(url, 1, 20));
  await withBare((url) => driveTasks(url, 1, 20));
  for (const { concurrency, tasks } of TASK_LEVELS) {
    const o: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        b.push(await withBare((url) => driveTasks(url, concurrency, tasks)));
        o.push(await withOurs(concurrency, (url) => driveTasks(url, concurrency, tasks)));
      } else {
        o.push(await withOurs(concurrency, (url) => driveTasks(url, concurrency, tasks)));
        b.push(await withBare((url) => driveTasks(url, concurrency, tasks)));
      }
      console.log(`tasks c=${concurrency} round ${round + 1}: switchyard ${o.at(-1)!.toFixed(1)} tasks/s, bare fastify+aws-sdk ${b.at(-1)!.toFixed(1)} tasks/s`);
    }
    printResult({ bench: 'http-task', case: `task-e2e-c${concurrency}`, against: 'bare-fastify+aws-sdk', unit: 'tasks/s', ours: Math.round(median(o) * 10) / 10, baseline: Math.round(median(b) * 10) / 10 });
  }
  const o: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      b.push(await withBare(driveStatus));
      o.push(await withOurs(1, driveStatus));
    } else {
      o.push(await withOurs(1, driveStatus));
      b.push(await withBare(driveStatus));
    }
    console.log(`GET /status round ${round + 1}: switchyard ${o.at(-1)!.toFixed(0)} req/s, bare fastify ${b.at(-1)!.toFixed(0)} req/s`);
  }
  printResult({ bench: 'http-task', case: `get-status-c${STATUS_CONNECTIONS}`, against: 'bare-fastify-route', unit: 'req/s', ours: Math.round(median(o)), baseline: Math.round(median(b)) });
} finally {
  agent.destroy();
  await new Promise<void>((r) => engine.close(() => r()));
  engine.closeAllConnections();
  await s3.close();
}
