// Serves one task service: the HTTP routes, the task queue (at most MAX_TASKS tasks pending
// or running, `concurrency` of them running at once; the reference runs one at a time),
// each task's run, its callback, and the link to each engine (registration, heartbeat, the
// sleeping status on shutdown: engine-link.ts). The HTTP server and the object stores are
// handed in (a model imports neither fastify nor an S3 client).
//
// A task is known (GET /tasks/{id}/status answers) from POST /compute until the engine has
// been told how it ended; then it is forgotten and answers 404, as in the reference.
//
// What is held is bounded: tasks pending or running (MAX_TASKS), and ended tasks whose
// callback is still being retried (MAX_PENDING_CALLBACKS, default MAX_TASKS). An ended task
// keeps only its callback URL, its TaskUpdate and its credentials for redaction; the body
// it arrived with is let go. While MAX_PENDING_CALLBACKS ended tasks wait for the engine,
// POST /compute answers 503 "Queue is full", as when MAX_TASKS are in flight: an engine
// that cannot take callbacks gets no new tasks to lose.

import { setMaxListeners } from 'node:events';
import type { Logger } from '../../observability/logger.js';
import type { TaskMetrics } from '../../observability/task-metrics.js';
import { warnLimiter } from '../../observability/warn-limiter.js';
import { outboundAllowList } from '../../runtime/outbound-allow-list.js';
import { retryPolicy, type RetryPolicy } from '../../runtime/retry.js';
import type { RunningHttpServer, ServeHttp } from '../../transports/http/http-types.js';
import { errors, SwitchyardError } from '../../errors.js';
import { deliverCallback } from './callback.js';
import { linkEngine } from './engine-link.js';
import type { RegistrationOutcome } from './registration.js';
import { runTask } from './run-task.js';
import { StorePool, type OpenStore } from './store-pool.js';
import { taskRoutes, type SubmitResult } from './task-routes.js';
import type { TaskServiceDefinition } from './task-service.js';
import { TaskState } from './task-status.js';
import type { ServiceRegistration, ServiceTask, TaskStatus, TaskUpdate } from './wire.js';

export interface TaskServiceSettings {
  /** Address to bind (SERVICE_HOST); default 127.0.0.1. */
  readonly host: string;
  /** SERVICE_PORT; default 9090; 0 picks a free port. */
  readonly port: number;
  /** The URL sent to the engine (SERVICE_URL); default http://localhost:{port}. */
  readonly serviceUrl?: string;
  /** ENGINE_URLS. */
  readonly engineUrls: readonly string[];
  /** MAX_TASKS: tasks pending or running before POST /compute answers 503. */
  readonly maxTasks: number;
  /**
   * MAX_PENDING_CALLBACKS: ended tasks whose engine has not been told yet (callback being
   * retried) before POST /compute answers 503; default MAX_TASKS.
   */
  readonly maxPendingCallbacks?: number;
  /** Tasks running at once (TASK_CONCURRENCY); default 1, as the reference. */
  readonly concurrency: number;
  /** ENGINE_ANNOUNCE_RETRIES (attempts per engine) and ENGINE_ANNOUNCE_RETRY_DELAY. */
  readonly announceRetry: RetryPolicy;
  /** HEARTBEAT_INTERVAL: POST {engine}/services/{slug}/ping this often; 0 = none. Default 20 s, as the reference. */
  readonly heartbeatMs: number;
  readonly callbackRetry: RetryPolicy;
  /** Largest accepted request body (MAX_BODY_BYTES). */
  readonly bodyLimitBytes: number;
  /** REQUEST_TIMEOUT: a request (headers and body) must arrive within this; default 30 s. */
  readonly requestTimeoutMs: number;
  /** HEADERS_TIMEOUT: the headers must arrive within this; default 10 s. */
  readonly headersTimeoutMs: number;
  /** KEEP_ALIVE_TIMEOUT: an idle kept-alive connection is closed after this; default 5 s (uvicorn's). */
  readonly keepAliveTimeoutMs: number;
  /**
   * OUTBOUND_ALLOW_LIST: hosts, *.suffixes, host:port, addresses and networks a task's
   * callback_url and s3_host may point at; unset = anywhere (the wire's default).
   */
  readonly outboundAllow?: readonly string[];
  /** When set, /compute and /tasks/{id}/status need `Authorization: Bearer <token>`. */
  readonly authToken?: string;
  /** Per callback attempt; default 10 s. */
  readonly callbackTimeoutMs?: number;
  /** Longest `process` may run before its task fails (TASK_TIMEOUT); 0 = no limit (the default, as the reference). */
  readonly taskTimeoutMs?: number;
}

export const DEFAULT_TASK_SETTINGS: TaskServiceSettings = {
  host: '127.0.0.1',
  port: 9090,
  engineUrls: ['http://localhost:8080'],
  maxTasks: 50,
  concurrency: 1,
  announceRetry: retryPolicy({ maxAttempts: 5, initialDelayMs: 3000, maxDelayMs: 3000, factor: 1, jitter: 0 }),
  heartbeatMs: 20_000,
  callbackRetry: retryPolicy({ maxAttempts: 20, initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.5 }),
  bodyLimitBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
};

export interface TaskServiceEnvironment {
  readonly serve: ServeHttp;
  /** An object store for the S3 settings a task arrives with. */
  readonly openStore: OpenStore;
  readonly logger: Logger;
  readonly settings?: Partial<TaskServiceSettings>;
  /** Counters and timings for Prometheus (createTaskMetrics); none by default. */
  readonly metrics?: TaskMetrics;
}

export interface TaskActivity {
  /** Tasks accepted and not yet ended (what MAX_TASKS bounds). */
  readonly inFlight: number;
  readonly running: number;
  /** Tasks ended whose engine has not been told yet (what MAX_PENDING_CALLBACKS bounds). */
  readonly callbacksPending: number;
  /** Heartbeats answered 200, all engines together. */
  readonly heartbeats: number;
}

export interface RunningTaskService {
  readonly slug: string;
  /** Where it listens, e.g. http://127.0.0.1:9090. */
  readonly url: string;
  readonly port: number;
  /** Settles once every engine was registered with or given up on. */
  readonly registration: Promise<RegistrationOutcome[]>;
  activity(): TaskActivity;
  /**
   * Stops taking tasks, tells each engine the service is sleeping, stops the server,
   * finishes the tasks accepted, tries their callbacks a last time, and returns.
   */
  stop(): Promise<void>;
}

/** A task from POST /compute until its engine was told; `task` is let go once it ended. */
interface TaskRecord {
  readonly id: string;
  task: ServiceTask | undefined;
  readonly state: TaskState;
}

export function registrationBody(definition: TaskServiceDefinition, serviceUrl: string): ServiceRegistration {
  const field = (f: (typeof definition.dataIn)[number]) => ({ name: f.name, type: [...f.type], ...('format_hint' in f ? { format_hint: f.format_hint } : {}) });
  return {
    name: definition.name,
    slug: definition.slug,
    url: serviceUrl,
    summary: definition.summary,
    description: definition.description,
    status: 'available',
    data_in_fields: definition.dataIn.map(field),
    data_out_fields: definition.dataOut.map(field),
    tags: definition.tags.map((t) => ({ name: t.name, acronym: t.acronym })),
    docs_url: definition.docsUrl,
    has_ai: definition.hasAi,
  };
}

/** Every string a task's credentials could show up as, replaced by ***. */
function redactorFor(task: ServiceTask): (text: string) => string {
  const secrets = [task.s3_secret_access_key, task.s3_access_key_id].filter((s) => s.length >= 3);
  return (text) => secrets.reduce((t, s) => t.split(s).join('***'), text);
}

/** scheme://host:port of a URL, for messages (never its path, query or user:password). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

export async function startTaskService(definition: TaskServiceDefinition, env: TaskServiceEnvironment): Promise<RunningTaskService> {
  const settings: TaskServiceSettings = { ...DEFAULT_TASK_SETTINGS, ...env.settings };
  const maxPendingCallbacks = settings.maxPendingCallbacks ?? settings.maxTasks;
  const log = env.logger.child({ service: definition.slug });
  const limiter = warnLimiter(log);
  const warn = limiter.warn;
  const allow = outboundAllowList(settings.outboundAllow, 'OUTBOUND_ALLOW_LIST');
  const pool = new StorePool(env.openStore);
  const known = new Map<string, TaskRecord>();
  const pending: TaskRecord[] = [];
  const stopping = new AbortController();
  // Every callback waiting to retry listens to it: at most MAX_TASKS + MAX_PENDING_CALLBACKS.
  setMaxListeners(settings.maxTasks + maxPendingCallbacks + 16, stopping.signal);
  const callbacks = new Set<Promise<void>>();
  let inFlight = 0;
  let closing = false;
  let running = 0;
  let drained: (() => void) | undefined;

  const slug = definition.slug;
  const metrics = env.metrics;

  /** A refusal message when the task's callback_url or s3_host is outside OUTBOUND_ALLOW_LIST. */
  const outboundRefusal = async (task: ServiceTask): Promise<string | undefined> => {
    if (!allow) return undefined;
    try {
      await allow.check(originOf(task.callback_url), 'callback_url');
      await allow.check(originOf(task.s3_host), 's3_host');
      return undefined;
    } catch (err) {
      if (err instanceof SwitchyardError) return err.message;
      throw err;
    }
  };

  const submit = async (task: ServiceTask, id: string): Promise<SubmitResult> => {
    const refusal = await outboundRefusal(task);
    if (refusal) {
      metrics?.rejected(slug, 'outbound');
      warn('task-refused-outbound', { task: id }, refusal);
      return { refused: refusal };
    }
    const reason = closing || inFlight >= settings.maxTasks ? 'full'
      : inFlight + callbacks.size >= settings.maxTasks + maxPendingCallbacks ? 'untold'
      : known.has(id) ? 'duplicate' : undefined;
    if (reason) {
      metrics?.rejected(slug, reason);
      if (reason === 'untold') {
        warn('task-refused-untold', { pendingCallbacks: callbacks.size, maxPendingCallbacks }, 'refused a task (503): ended tasks wait for their callbacks to reach the engine (MAX_PENDING_CALLBACKS); accepting again once callbacks get through');
      } else if (reason === 'full') {
        warn('task-refused-full', { inFlight, maxTasks: settings.maxTasks, closing }, closing ? 'refused a task (503): the service is stopping' : 'refused a task (503): MAX_TASKS tasks are in flight');
      }
      return reason === 'untold' ? 'full' : reason;
    }
    const record: TaskRecord = { id, task, state: new TaskState() };
    known.set(id, record);
    pending.push(record);
    inFlight++;
    metrics?.received(slug);
    metrics?.inFlight(slug, inFlight);
    log.info({ task: id, inputs: task.task.data_in.length, queued: pending.length }, 'task queued');
    pump();
    return 'queued';
  };

  const pump = () => {
    while (running < settings.concurrency && pending.length > 0) {
      const record = pending.shift()!;
      running++;
      void execute(record);
    }
    if (inFlight === 0) drained?.();
  };

  const execute = async (record: TaskRecord) => {
    const task = record.task!;
    const taskLog = log.child({ task: record.id });
    const redact = redactorFor(task);
    let dataOut: string[] = [];
    let lease: ReturnType<StorePool['acquire']> | undefined;
    const started = performance.now();
    try {
      lease = pool.acquire({
        host: task.s3_host, region: task.s3_region, bucket: task.s3_bucket,
        accessKeyId: task.s3_access_key_id, secretAccessKey: task.s3_secret_access_key,
      });
      dataOut = await runTask({ definition, task, taskId: record.id, state: record.state, store: lease.store, log: taskLog, redact, timeoutMs: settings.taskTimeoutMs ?? 0 });
    } catch (err) {
      // Opening the store failed (e.g. settings it refuses): the task ends in error all the same.
      if (!record.state.done) record.state.fail(redact(new errors.SY_ERR_TASK_INPUT(`the task's S3 settings cannot be used: ${(err as Error).message}`).message));
    } finally {
      lease?.release();
      running--;
      inFlight--;
      metrics?.inFlight(slug, inFlight);
      metrics?.ended(slug, record.state.status === 'finished' ? 'finished' : 'error', (performance.now() - started) / 1000);
    }
    if (record.state.status === 'finished') taskLog.info({ dataOut }, 'task finished');
    else warn('task-failed', { task: record.id, error: record.state.errorMessage }, 'task failed');
    const update: TaskUpdate = {
      service: null, url: null,
      data_out: record.state.status === 'finished' ? dataOut : [],
      status: record.state.status,
      error_message: record.state.status === 'error' ? record.state.errorMessage : null,
    };
    // The body the task came with is not needed any more: only what the callback needs is kept.
    const callbackUrl = task.callback_url;
    record.task = undefined;
    const callback = (async () => {
      try {
        const outcome = await deliverCallback({
          url: callbackUrl, update, retry: settings.callbackRetry, warn, fields: { task: record.id }, stopping: stopping.signal,
          ...(settings.callbackTimeoutMs ? { timeoutMs: settings.callbackTimeoutMs } : {}),
        });
        if (outcome.delivered) taskLog.debug({ attempts: outcome.attempts }, 'engine told');
        else taskLog.error({ attempts: outcome.attempts }, redact(outcome.error.message));
        metrics?.callback(slug, outcome.delivered ? 'delivered' : 'abandoned');
      } catch (err) {
        taskLog.error({ err: redact((err as Error).message) }, 'task callback failed unexpectedly');
      } finally {
        known.delete(record.id);
      }
    })();
    callbacks.add(callback);
    void callback.finally(() => callbacks.delete(callback));
    pump();
  };

  const server: RunningHttpServer = await env.serve({
    host: settings.host,
    port: settings.port,
    routes: taskRoutes({ submit, statusOf: (id): TaskStatus | undefined => known.get(id)?.state.status }, settings.authToken),
    bodyLimitBytes: settings.bodyLimitBytes,
    timeouts: { requestMs: settings.requestTimeoutMs, headersMs: settings.headersTimeoutMs, keepAliveMs: settings.keepAliveTimeoutMs },
    openapi: { title: definition.name, version: '1.0.0', description: definition.description ?? definition.summary, bearerAuth: settings.authToken !== undefined },
    onError: (err, where) => log.error({ err, where }, 'HTTP request failed inside the service'),
  });
  const serviceUrl = settings.serviceUrl ?? `http://localhost:${server.port}`;
  log.info({
    url: server.url, docs: `${server.url}/docs`, maxTasks: settings.maxTasks, maxPendingCallbacks, concurrency: settings.concurrency,
    ...(allow ? { outboundAllow: allow.entries } : {}),
  }, 'task service listening');
  const oggInputs = definition.dataIn.filter((f) => f.type.includes('audio/ogg')).map((f) => f.name);
  if (oggInputs.length > 0) {
    log.warn({ inputs: oggInputs }, 'these inputs accept audio/ogg, but Python\'s mimetypes table (the reference service\'s, used here for parity) maps no key extension to audio/ogg: a key is never taken as audio/ogg');
  }
  if (settings.heartbeatMs >= 50_000) {
    log.warn({ heartbeatMs: settings.heartbeatMs }, 'HEARTBEAT_INTERVAL is not inside the engine\'s default 30 s + 20 s: it may mark this service sleeping between heartbeats');
  }

  // After listen: the engine checks GET {url}/status before it accepts the registration.
  const body = registrationBody(definition, serviceUrl);
  if (settings.engineUrls.length === 0) log.info('no ENGINE_URLS: not registering with any engine');
  const links = settings.engineUrls.map((engine) => linkEngine({ engine, body, announceRetry: settings.announceRetry, heartbeatMs: settings.heartbeatMs, log, warn }));
  const registration = Promise.all(links.map((link) => link.registration));

  let stopped: Promise<void> | undefined;
  return {
    slug: definition.slug,
    url: server.url,
    port: server.port,
    registration,
    activity: () => ({ inFlight, running, callbacksPending: callbacks.size, heartbeats: links.reduce((n, l) => n + l.beats(), 0) }),
    stop: () =>
      (stopped ??= (async () => {
        closing = true;
        log.info({ inFlight }, 'task service stopping: no new tasks; telling the engines, then finishing the accepted ones');
        await Promise.all(links.map((link) => link.stop()));
        // Before the server stops, as the reference's graceful shutdown: the engine stops routing tasks here.
        await Promise.all(links.map((link) => link.sleep()));
        await server.close();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        stopping.abort();
        await Promise.all([...callbacks]);
        await pool.closeAll();
        limiter.flush();
        log.info('task service stopped');
      })()),
  };
}
