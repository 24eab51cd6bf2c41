// A task service on real HTTP with a real S3-compatible server (s3rver) and the engine
// stand-in, for the task tests. Logs are captured so tests can check what reached them;
// the service reports to an observer of its own, whose events a test may record.

import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { resolveSettings } from '../../src/config/settings/settings.js';
import { createLogger } from '../../src/observability/logger.js';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { retryPolicy } from '../../src/runtime/retry.js';
import {
  s3StoreOpener, taskService, taskServiceOptions, taskSettingsSection, TaskServiceComponent,
  type TaskServiceDefinition, type TaskServiceOptions,
} from '../../src/models/task/mod.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import type { EngineStandIn } from './engine-stand-in.js';

export const BUCKET = 'engine';
export const ACCESS_KEY = 'TASKKEY5A8E';
export const SECRET_KEY = 'sEcReT-5a8e-never-in-logs';

export async function startS3(): Promise<{ s3: S3Server; client: S3Client }> {
  const s3 = await startS3Server({ buckets: [BUCKET], accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  return { s3, client };
}

export async function putObject(client: S3Client, key: string, body: string | Uint8Array): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

export async function getObject(client: S3Client, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return out.Body!.transformToString();
}

/** A task service that upper-cases a text file into a JSON document. */
export const upperService = taskService(
  {
    name: 'Upper', slug: 'upper', summary: 'Upper-cases text.',
    dataIn: [{ name: 'text', types: ['text/plain'] }],
    dataOut: [{ name: 'result', types: ['application/json'] }],
    tags: ['NLP'],
  },
  async ({ text }) => ({ result: { type: 'application/json', data: JSON.stringify({ upper: (await text.text()).toUpperCase() }) } }),
);

export interface Service {
  readonly running: TaskServiceComponent;
  readonly url: string;
  readonly logs: string[];
  /** The service's observer: attach listeners (metrics, recorders) before sending it work. */
  readonly observer: Observer;
  /** Every event, in order, when started with { record: true }. */
  readonly events: ObserverEvent[];
  /** Every log line joined, for "never appears" checks. */
  logText(): string;
  stop(): Promise<void>;
}

/** The defaults of the "task" settings section, as a service runs with them. */
export const DEFAULT_OPTIONS: TaskServiceOptions = await taskServiceOptions(resolveSettings([taskSettingsSection], []).task);

/** Fast retries, so fault tests take milliseconds between tries (never timed assertions). */
export const FAST: Partial<TaskServiceOptions> = {
  host: '127.0.0.1',
  port: 0,
  engineUrls: [],
  announceRetry: retryPolicy({ maxAttempts: 100, initialDelayMs: 50, maxDelayMs: 50, factor: 1, jitter: 0 }),
  callbackRetry: retryPolicy({ maxAttempts: 200, initialDelayMs: 20, maxDelayMs: 100, factor: 2, jitter: 0 }),
};

export interface StartOptions {
  /** Keep every observer event in `events` (off by default: floods would keep them all). */
  readonly record?: boolean;
}

/**
 * Starts the task model's component for `definition` on the registry's http transport, with
 * the section's defaults, FAST and `options` (stronger in that order). maxPendingCallbacks
 * follows maxTasks unless given, as in the section.
 */
export async function startService(definition: TaskServiceDefinition = upperService, options: Partial<TaskServiceOptions> = {}, start: StartOptions = {}): Promise<Service> {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const observer = new Observer();
  const events: ObserverEvent[] = [];
  // Always watched, so every test runs the emitting paths; kept only when asked.
  observer.listen(start.record ? (e) => void events.push(e) : () => undefined);
  const transport = await new TransportRegistry({ logger }).open('http', 'task', ['http']);
  const merged = { ...DEFAULT_OPTIONS, ...FAST, ...options };
  const running = new TaskServiceComponent({
    definition, http: transport.http!, transport: transport.name, openStore: await s3StoreOpener(), logger, observer,
    options: { ...merged, maxPendingCallbacks: options.maxPendingCallbacks ?? merged.maxTasks },
  });
  await running.start();
  return { running, url: running.url, logs, observer, events, logText: () => logs.join(''), stop: () => running.stop() };
}

export interface TaskBodyOptions {
  readonly s3: S3Server;
  readonly engine: EngineStandIn;
  readonly dataIn: string[];
  readonly id?: string;
  readonly bucket?: string;
  readonly accessKey?: string;
  readonly s3Host?: string;
}

/** A ServiceTask as the engine sends it (SPECS.md §3.2), pointed at the test servers. */
export function serviceTask(o: TaskBodyOptions): { id: string; body: Record<string, unknown> } {
  const id = o.id ?? randomUUID();
  return {
    id,
    body: {
      s3_access_key_id: o.accessKey ?? ACCESS_KEY,
      s3_secret_access_key: SECRET_KEY,
      s3_region: 'eu-central-2',
      s3_host: o.s3Host ?? o.s3.endpoint,
      s3_bucket: o.bucket ?? BUCKET,
      task: {
        created_at: '2024-10-30T10:00:00', updated_at: '2024-10-30T10:00:00',
        data_in: o.dataIn, data_out: null, status: 'pending',
        service_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6', pipeline_execution_id: null,
        id,
      },
      callback_url: `${o.engine.url}/tasks/${id}`,
    },
  };
}

type Reply = { status: number; json: unknown; text: string; headers: Headers };

/** The body as text, and as JSON when it is JSON. */
async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(10_000) }));
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) }));
}
