// The task model's settings: ONE section of the settings system ("task" in a settings file,
// SWITCHYARD_TASK_* in the environment). The Core engine's own variable names (SERVICE_PORT,
// ENGINE_URLS, MAX_TASKS, ...) and the ones task services have always read beside them
// (SERVICE_HOST, TASK_CONCURRENCY, ...) are the section's `originalEnv`; the reference's
// `.env` files are a layer (dot-env.ts). Merging, precedence and the error shape are the
// settings system's (config/settings/settings.ts); this file only declares the keys and
// turns the resolved values into what the service runs with.

import { z } from 'zod';
import { resolveSecret } from '../../config/secrets.js';
import { defineSection } from '../../config/settings/settings.js';
import { listText } from '../../config/settings/text-values.js';
import { retryPolicy, type RetryPolicy } from '../../runtime/retry.js';

const httpUrl = z.string().regex(/^https?:\/\/[^/\s]/, 'must be an http:// or https:// URL');
const seconds = z.coerce.number().min(0).max(3600);
const limitSeconds = z.coerce.number().min(0.1).max(3600);

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(9090)
    .describe('Port the service listens on (0 picks a free one). The Core engine\'s SERVICE_PORT.'),
  host: z.string().min(1).default('127.0.0.1')
    .describe('Address to bind; 0.0.0.0 for every interface. SERVICE_HOST.'),
  serviceUrl: httpUrl.optional()
    .describe('The URL engines reach this service at, sent in the registration; default http://localhost:{port}. The Core engine\'s SERVICE_URL.'),
  engineUrls: z.preprocess(listText, z.array(httpUrl, 'must be a JSON list of URLs, e.g. ["http://localhost:8080"]')).default(['http://localhost:8080'])
    .describe('Engines to register with, heartbeat and tell "sleeping" on shutdown: a JSON list or comma-separated URLs; [] = none. The Core engine\'s ENGINE_URLS.'),
  maxTasks: z.coerce.number().int().min(1).default(50)
    .describe('Tasks pending or running before POST /compute answers 503 "Queue is full". The Core engine\'s MAX_TASKS.'),
  announceRetries: z.coerce.number().int().min(0).default(5)
    .describe('Registration attempts per engine; 0 = no registration at all. The Core engine\'s ENGINE_ANNOUNCE_RETRIES.'),
  announceRetryDelay: seconds.default(3)
    .describe('Seconds between registration attempts. The Core engine\'s ENGINE_ANNOUNCE_RETRY_DELAY.'),
  concurrency: z.coerce.number().int().min(1).default(1)
    .describe('Tasks run at once (the reference runs one). TASK_CONCURRENCY.'),
  callbackRetries: z.coerce.number().int().min(1).default(20)
    .describe('Attempts of the PATCH to a task\'s callback_url while the engine is unreachable or answers 5xx/408/429. CALLBACK_RETRIES.'),
  callbackRetryDelay: seconds.default(0.5)
    .describe('Seconds before the second callback attempt; doubles per attempt. CALLBACK_RETRY_DELAY.'),
  callbackRetryMaxDelay: seconds.default(30)
    .describe('Longest wait between callback attempts, in seconds. CALLBACK_RETRY_MAX_DELAY.'),
  taskTimeout: z.coerce.number().min(0).default(0)
    .describe('Seconds `process` may run before its task fails and context.signal aborts; 0 = no limit. TASK_TIMEOUT.'),
  heartbeatInterval: seconds.default(20)
    .describe('Seconds between POST {engine}/services/{slug}/ping; 0 = none. Keep it well inside the engine\'s 30 s + 20 s. HEARTBEAT_INTERVAL.'),
  maxPendingCallbacks: z.coerce.number().int().min(1).optional()
    .describe('Ended tasks whose callback is still being retried before POST /compute answers 503; default maxTasks. MAX_PENDING_CALLBACKS.'),
  requestTimeout: limitSeconds.default(30)
    .describe('Seconds a request (headers and body) may take to arrive; slower ones get 408. REQUEST_TIMEOUT.'),
  headersTimeout: limitSeconds.default(10)
    .describe('Seconds the headers of a request may take to arrive. HEADERS_TIMEOUT.'),
  keepAliveTimeout: limitSeconds.default(5)
    .describe('Seconds an idle kept-alive connection stays open. KEEP_ALIVE_TIMEOUT.'),
  outboundAllow: z.preprocess(listText, z.array(z.string().min(1), 'must be a JSON list of hosts/networks, e.g. ["engine.example.com", "10.0.0.0/8"]')).optional()
    .describe('Hosts, *.suffixes, host:port, addresses and networks a task\'s callback_url and s3_host may point at (JSON list or commas); unset = anywhere; others get 403. OUTBOUND_ALLOW_LIST.'),
  maxBodyBytes: z.coerce.number().int().min(1024).default(1024 * 1024)
    .describe('Largest request body accepted; larger ones get 413. MAX_BODY_BYTES.'),
  authToken: z.string().min(1).optional()
    .describe('When set, POST /compute and GET /tasks/{id}/status need Authorization: Bearer <token>; a secret reference env:NAME, file:PATH or pass:NAME. SERVICE_AUTH_TOKEN.'),
});

/** The section: key "task" in settings files, SWITCHYARD_TASK_{KEY} and the names task services have always read. */
export const taskSettingsSection = defineSection('task', schema, {
  port: 'SERVICE_PORT',
  host: 'SERVICE_HOST',
  serviceUrl: 'SERVICE_URL',
  engineUrls: 'ENGINE_URLS',
  maxTasks: 'MAX_TASKS',
  announceRetries: 'ENGINE_ANNOUNCE_RETRIES',
  announceRetryDelay: 'ENGINE_ANNOUNCE_RETRY_DELAY',
  concurrency: 'TASK_CONCURRENCY',
  callbackRetries: 'CALLBACK_RETRIES',
  callbackRetryDelay: 'CALLBACK_RETRY_DELAY',
  callbackRetryMaxDelay: 'CALLBACK_RETRY_MAX_DELAY',
  taskTimeout: 'TASK_TIMEOUT',
  heartbeatInterval: 'HEARTBEAT_INTERVAL',
  maxPendingCallbacks: 'MAX_PENDING_CALLBACKS',
  requestTimeout: 'REQUEST_TIMEOUT',
  headersTimeout: 'HEADERS_TIMEOUT',
  keepAliveTimeout: 'KEEP_ALIVE_TIMEOUT',
  outboundAllow: 'OUTBOUND_ALLOW_LIST',
  maxBodyBytes: 'MAX_BODY_BYTES',
  authToken: 'SERVICE_AUTH_TOKEN',
});

/** The resolved section, as the settings system hands it to the runner. */
export type TaskSettings = z.output<typeof schema>;

/** What a task service runs with: the settings in the units the code uses, secrets resolved. */
export interface TaskServiceOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The URL sent to the engine; default http://localhost:{port as bound}. */
  readonly serviceUrl?: string;
  /** Engines to register with; [] when ENGINE_ANNOUNCE_RETRIES is 0. */
  readonly engineUrls: readonly string[];
  readonly maxTasks: number;
  readonly maxPendingCallbacks: number;
  readonly concurrency: number;
  readonly announceRetry: RetryPolicy;
  /** 0 = no heartbeat. */
  readonly heartbeatMs: number;
  readonly callbackRetry: RetryPolicy;
  /** Per callback attempt. */
  readonly callbackTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Unset = anywhere (the wire's default). */
  readonly outboundAllow?: readonly string[];
  /** The bearer token itself (resolved from its reference). */
  readonly authToken?: string;
  /** 0 = no limit. */
  readonly taskTimeoutMs: number;
}

/** The options a service runs with, from its resolved settings; resolves the auth token reference. */
export async function taskServiceOptions(s: TaskSettings): Promise<TaskServiceOptions> {
  return {
    host: s.host,
    port: s.port,
    ...(s.serviceUrl ? { serviceUrl: s.serviceUrl } : {}),
    // ENGINE_ANNOUNCE_RETRIES=0 means no announcing at all, as in the reference.
    engineUrls: s.announceRetries === 0 ? [] : s.engineUrls,
    maxTasks: s.maxTasks,
    maxPendingCallbacks: s.maxPendingCallbacks ?? s.maxTasks,
    concurrency: s.concurrency,
    announceRetry: retryPolicy({ maxAttempts: Math.max(1, s.announceRetries), initialDelayMs: s.announceRetryDelay * 1000, maxDelayMs: s.announceRetryDelay * 1000, factor: 1, jitter: 0 }),
    heartbeatMs: s.heartbeatInterval * 1000,
    callbackRetry: retryPolicy({
      maxAttempts: s.callbackRetries, initialDelayMs: s.callbackRetryDelay * 1000,
      maxDelayMs: Math.max(s.callbackRetryDelay, s.callbackRetryMaxDelay) * 1000, factor: 2, jitter: 0.5,
    }),
    callbackTimeoutMs: 10_000,
    bodyLimitBytes: s.maxBodyBytes,
    requestTimeoutMs: s.requestTimeout * 1000,
    headersTimeoutMs: s.headersTimeout * 1000,
    keepAliveTimeoutMs: s.keepAliveTimeout * 1000,
    ...(s.outboundAllow && s.outboundAllow.length > 0 ? { outboundAllow: s.outboundAllow } : {}),
    ...(s.authToken ? { authToken: (await resolveSecret(s.authToken)).reveal() } : {}),
    taskTimeoutMs: s.taskTimeout * 1000,
  };
}
