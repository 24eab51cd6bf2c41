// Serves one task service: the HTTP routes, the task queue (at most MAX_TASKS tasks pending
// or running, `concurrency` of them running at once; the reference runs one at a time),
// each task's run, its callback, and registration with the engines. The HTTP server and
// the object stores are handed in (a model imports neither fastify nor an S3 client).
//
// A task is known (GET /tasks/{id}/status answers) from POST /compute until the engine has
// been told how it ended; then it is forgotten and answers 404, as in the reference.

import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { TaskMetrics } from '../../observability/task-metrics.js';
import { retryPolicy, type RetryPolicy } from '../../runtime/retry.js';
import type { RunningHttpServer, ServeHttp } from '../../transports/http/http-types.js';
import { deliverCallback } from './callback.js';
import { registerWithEngine, type RegistrationOutcome } from './registration.js';
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
  /** Tasks running at once (TASK_CONCURRENCY); default 1, as the reference. */
  readonly concurrency: number;
  /** ENGINE_ANNOUNCE_RETRIES (attempts per engine) and ENGINE_ANNOUNCE_RETRY_DELAY. */
  readonly announceRetry: RetryPolicy;
  readonly callbackRetry: RetryPolicy;
  /** Largest accepted request body (MAX_BODY_BYTES). */
  readonly bodyLimitBytes: number;
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
  callbackRetry: retryPolicy({ maxAttempts: 20, initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.5 }),
  bodyLimitBytes: 1024 * 1024,
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
  /** Tasks ended whose engine has not been told yet. */
  readonly callbacksPending: number;
}

export interface RunningTaskService {
  readonly slug: string;
  /** Where it listens, e.g. http://127.0.0.1:9090. */
  readonly url: string;
  readonly port: number;
  /** Settles once every engine was registered with or given up on. */
  readonly registration: Promise<RegistrationOutcome[]>;
  activity(): TaskActivity;
  /** Stops taking tasks, finishes those accepted, tries their callbacks a last time, and returns. */
  stop(): Promise<void>;
}

interface TaskRecord {
  readonly id: string;
  readonly task: ServiceTask;
  readonly state: TaskState;
}

export function registrationBody(definition: TaskServiceDefinition, serviceUrl: string): ServiceRegistration {
  return {
    name: definition.name,
    slug: definition.slug,
    url: serviceUrl,
    summary: definition.summary,
    description: definition.description,
    status: 'available',
    data_in_fields: definition.dataIn.map((f) => ({ name: f.name, type: [...f.type] })),
    data_out_fields: definition.dataOut.map((f) => ({ name: f.name, type: [...f.type] })),
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

export async function startTaskService(definition: TaskServiceDefinition, env: TaskServiceEnvironment): Promise<RunningTaskService> {
  const settings: TaskServiceSettings = { ...DEFAULT_TASK_SETTINGS, ...env.settings };
  const log = env.logger.child({ service: definition.slug });
  const pool = new StorePool(env.openStore);
  const known = new Map<string, TaskRecord>();
  const pending: TaskRecord[] = [];
  const stopping = new AbortController();
  const callbacks = new Set<Promise<void>>();
  let inFlight = 0;
  let closing = false;
  let running = 0;
  let drained: (() => void) | undefined;

  const slug = definition.slug;
  const metrics = env.metrics;
  const submit = (task: ServiceTask, id: string): SubmitResult => {
    const refused = closing || inFlight >= settings.maxTasks ? 'full' : known.has(id) ? 'duplicate' : undefined;
    if (refused) {
      metrics?.rejected(slug, refused);
      return refused;
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
    const taskLog = log.child({ task: record.id });
    const redact = redactorFor(record.task);
    let dataOut: string[] = [];
    let lease: ReturnType<StorePool['acquire']> | undefined;
    const started = performance.now();
    try {
      lease = pool.acquire({
        host: record.task.s3_host, region: record.task.s3_region, bucket: record.task.s3_bucket,
        accessKeyId: record.task.s3_access_key_id, secretAccessKey: record.task.s3_secret_access_key,
      });
      dataOut = await runTask({ definition, task: record.task, taskId: record.id, state: record.state, store: lease.store, log: taskLog, redact, timeoutMs: settings.taskTimeoutMs ?? 0 });
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
    else taskLog.warn({ error: record.state.errorMessage }, 'task failed');
    const update: TaskUpdate = {
      service: null, url: null,
      data_out: record.state.status === 'finished' ? dataOut : [],
      status: record.state.status,
      error_message: record.state.status === 'error' ? record.state.errorMessage : null,
    };
    const callback = (async () => {
      try {
        const outcome = await deliverCallback({
          url: record.task.callback_url, update, retry: settings.callbackRetry, log: taskLog, stopping: stopping.signal,
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
    openapi: { title: definition.name, version: '1.0.0', description: definition.description ?? definition.summary, bearerAuth: settings.authToken !== undefined },
    onError: (err, where) => log.error({ err, where }, 'HTTP request failed inside the service'),
  });
  const serviceUrl = settings.serviceUrl ?? `http://localhost:${server.port}`;
  log.info({ url: server.url, docs: `${server.url}/docs`, maxTasks: settings.maxTasks, concurrency: settings.concurrency }, 'task service listening');
  const oggInputs = definition.dataIn.filter((f) => f.type.includes('audio/ogg')).map((f) => f.name);
  if (oggInputs.length > 0) {
    log.warn({ inputs: oggInputs }, 'these inputs accept audio/ogg, but Python\'s mimetypes table (the reference service\'s, used here for parity) maps no key extension to audio/ogg: a key is never taken as audio/ogg');
  }

  // After listen: the engine checks GET {url}/status before it accepts the registration.
  const body = registrationBody(definition, serviceUrl);
  if (settings.engineUrls.length === 0) log.info('no ENGINE_URLS: not registering with any engine');
  const registration = Promise.all(settings.engineUrls.map((engine) => registerWithEngine(engine, body, settings.announceRetry, log, stopping.signal)));

  let stopped: Promise<void> | undefined;
  return {
    slug: definition.slug,
    url: server.url,
    port: server.port,
    registration,
    activity: () => ({ inFlight, running, callbacksPending: callbacks.size }),
    stop: () =>
      (stopped ??= (async () => {
        closing = true;
        log.info({ inFlight }, 'task service stopping: no new tasks; finishing the accepted ones');
        await server.close();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        stopping.abort();
        await Promise.all([...callbacks]);
        await registration;
        await pool.closeAll();
        log.info('task service stopped');
      })()),
  };
}
