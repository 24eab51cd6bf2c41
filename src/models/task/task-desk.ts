// The task desk of one task service: which tasks it takes (admission), the queue (at most
// MAX_TASKS tasks pending or running, `concurrency` of them running at once; the reference
// runs one at a time), each task's run, and telling the engine how it ended (the callback).
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
//
// On the observer stream (task-events.ts) a task is "received" when queued and ends once
// its callback settled: "handled" (the engine was told it finished), "failed" (the engine
// was told it ended in error) or "dead-lettered" (the callback was given up on).

import { setMaxListeners } from 'node:events';
import { errors, SwitchyardError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { LimitedWarn } from '../../observability/warn-limiter.js';
import type { OutboundAllowList } from '../../runtime/outbound-allow-list.js';
import type { HttpFacet } from '../../runtime/registry.js';
import { deliverCallback } from './callback.js';
import { runTask } from './run-task.js';
import type { TaskServiceOptions } from './settings.js';
import { StorePool, type OpenStore } from './store-pool.js';
import type { TaskEvents, RejectReason, TASK_INPUT, STATUS_INPUT } from './task-events.js';
import type { SubmitResult, TaskDeskPort } from './task-routes.js';
import type { TaskServiceDefinition } from './task-service.js';
import { TaskState } from './task-status.js';
import type { ServiceTask, TaskStatus, TaskUpdate } from './wire.js';

export interface TaskDeskParts {
  readonly definition: TaskServiceDefinition;
  readonly options: TaskServiceOptions;
  readonly log: Logger;
  /** Rate-limited warnings: what peers cause repeatedly (refusals, failing callbacks) is one kind each. */
  readonly warn: LimitedWarn;
  readonly events: TaskEvents;
  /** Outbound HTTP, from the transport. */
  readonly call: HttpFacet['call'];
  /** An object store for the S3 settings a task arrives with. */
  readonly openStore: OpenStore;
  /** OUTBOUND_ALLOW_LIST, when set. */
  readonly allow: OutboundAllowList | undefined;
}

/** A task from POST /compute until its engine was told; `task` is let go once it ended. */
interface TaskRecord {
  readonly id: string;
  task: ServiceTask | undefined;
  readonly state: TaskState;
  /** performance.now() when it was queued. */
  readonly receivedAt: number;
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

export class TaskDesk implements TaskDeskPort {
  readonly #parts: TaskDeskParts;
  readonly #pool: StorePool;
  readonly #known = new Map<string, TaskRecord>();
  readonly #pending: TaskRecord[] = [];
  /** Callbacks being delivered: ended tasks whose engine has not been told yet. */
  readonly #callbacks = new Set<Promise<void>>();
  /** Aborted once the accepted tasks ended: callback retries then make one last try. */
  readonly #stopping = new AbortController();
  #inFlight = 0;
  #running = 0;
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(parts: TaskDeskParts) {
    this.#parts = parts;
    this.#pool = new StorePool(parts.openStore);
    // Every callback waiting to retry listens to it: at most MAX_TASKS + MAX_PENDING_CALLBACKS.
    setMaxListeners(parts.options.maxTasks + parts.options.maxPendingCallbacks + 16, this.#stopping.signal);
  }

  /** Tasks accepted and not yet ended, running now, and ended ones whose engine has not been told (for tests). */
  activity(): { readonly inFlight: number; readonly running: number; readonly callbacksPending: number } {
    return { inFlight: this.#inFlight, running: this.#running, callbacksPending: this.#callbacks.size };
  }

  statusOf(id: string): TaskStatus | undefined {
    return this.#known.get(id)?.state.status;
  }

  refused(input: typeof TASK_INPUT | typeof STATUS_INPUT, reason: RejectReason): void {
    this.#parts.events.rejected(input, reason);
  }

  async submit(task: ServiceTask, id: string): Promise<SubmitResult> {
    const { options, warn, events, log } = this.#parts;
    const refusal = await this.#outboundRefusal(task);
    if (refusal) {
      events.rejected('compute', 'outbound');
      warn('task-refused-outbound', { task: id }, refusal);
      return { refused: refusal };
    }
    const reason: RejectReason | undefined = this.#closing || this.#inFlight >= options.maxTasks ? 'full'
      : this.#inFlight + this.#callbacks.size >= options.maxTasks + options.maxPendingCallbacks ? 'callbacks-pending'
      : this.#known.has(id) ? 'duplicate' : undefined;
    if (reason) {
      events.rejected('compute', reason);
      if (reason === 'callbacks-pending') {
        warn('task-refused-untold', { pendingCallbacks: this.#callbacks.size, maxPendingCallbacks: options.maxPendingCallbacks }, 'refused a task (503): ended tasks wait for their callbacks to reach the engine (MAX_PENDING_CALLBACKS); accepting again once callbacks get through');
      } else if (reason === 'full') {
        warn('task-refused-full', { inFlight: this.#inFlight, maxTasks: options.maxTasks, closing: this.#closing }, this.#closing ? 'refused a task (503): the service is stopping' : 'refused a task (503): MAX_TASKS tasks are in flight');
      }
      return reason === 'duplicate' ? 'duplicate' : 'full';
    }
    const record: TaskRecord = { id, task, state: new TaskState(), receivedAt: performance.now() };
    this.#known.set(id, record);
    this.#pending.push(record);
    this.#inFlight++;
    events.received(id);
    log.info({ task: id, inputs: task.task.data_in.length, queued: this.#pending.length }, 'task queued');
    this.#pump();
    return 'queued';
  }

  /** Takes no more tasks (POST /compute answers 503 from now on). */
  close(): void {
    this.#closing = true;
  }

  /** Waits for the accepted tasks to end, gives each pending callback a last try, closes the stores. */
  async drain(): Promise<void> {
    this.close();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#stopping.abort();
    await Promise.all([...this.#callbacks]);
    await this.#pool.closeAll();
  }

  /** A refusal message when the task's callback_url or s3_host is outside OUTBOUND_ALLOW_LIST. */
  async #outboundRefusal(task: ServiceTask): Promise<string | undefined> {
    const allow = this.#parts.allow;
    if (!allow) return undefined;
    try {
      await allow.check(originOf(task.callback_url), 'callback_url');
      await allow.check(originOf(task.s3_host), 's3_host');
      return undefined;
    } catch (err) {
      if (err instanceof SwitchyardError) return err.message;
      throw err;
    }
  }

  #pump(): void {
    while (this.#running < this.#parts.options.concurrency && this.#pending.length > 0) {
      const record = this.#pending.shift()!;
      this.#running++;
      void this.#execute(record);
    }
    if (this.#inFlight === 0) this.#drained?.();
  }

  async #execute(record: TaskRecord): Promise<void> {
    const { definition, options, log, warn } = this.#parts;
    const task = record.task!;
    const taskLog = log.child({ task: record.id });
    const redact = redactorFor(task);
    let dataOut: string[] = [];
    let lease: ReturnType<StorePool['acquire']> | undefined;
    try {
      lease = this.#pool.acquire({
        host: task.s3_host, region: task.s3_region, bucket: task.s3_bucket,
        accessKeyId: task.s3_access_key_id, secretAccessKey: task.s3_secret_access_key,
      });
      dataOut = await runTask({ definition, task, taskId: record.id, state: record.state, store: lease.store, log: taskLog, redact, timeoutMs: options.taskTimeoutMs });
    } catch (err) {
      // Opening the store failed (e.g. settings it refuses): the task ends in error all the same.
      if (!record.state.done) record.state.fail(redact(new errors.SY_ERR_TASK_INPUT(`the task's S3 settings cannot be used: ${(err as Error).message}`).message));
    } finally {
      lease?.release();
      this.#running--;
      this.#inFlight--;
    }
    const finished = record.state.status === 'finished';
    if (finished) taskLog.info({ dataOut }, 'task finished');
    else warn('task-failed', { task: record.id, error: record.state.errorMessage }, 'task failed');
    const update: TaskUpdate = {
      service: null, url: null,
      data_out: finished ? dataOut : [],
      status: record.state.status,
      error_message: finished ? null : record.state.errorMessage,
    };
    // The body the task came with is not needed any more: only what the callback needs is kept.
    const callbackUrl = task.callback_url;
    record.task = undefined;
    const callback = this.#tell(record, callbackUrl, update, redact, taskLog);
    this.#callbacks.add(callback);
    void callback.finally(() => this.#callbacks.delete(callback));
    this.#pump();
  }

  /** PATCHes the callback (retried), reports how the task ended, then forgets it. */
  async #tell(record: TaskRecord, url: string, update: TaskUpdate, redact: (text: string) => string, taskLog: Logger): Promise<void> {
    const { options, warn, events, call } = this.#parts;
    try {
      const outcome = await deliverCallback({
        call, events, taskId: record.id, url, update, retry: options.callbackRetry, warn, fields: { task: record.id },
        stopping: this.#stopping.signal, timeoutMs: options.callbackTimeoutMs,
      });
      const durationMs = performance.now() - record.receivedAt;
      if (!outcome.delivered) {
        const message = redact(outcome.error.message);
        taskLog.error({ attempts: outcome.attempts }, message);
        events.setAside(record.id, message);
      } else {
        taskLog.debug({ attempts: outcome.attempts }, 'engine told');
        if (update.status === 'finished') events.handled(record.id, durationMs, update.data_out);
        else events.failed(record.id, durationMs, update.error_message ?? 'the task ended in error');
      }
    } catch (err) {
      const message = redact((err as Error).message);
      taskLog.error({ err: message }, 'task callback failed unexpectedly');
      events.setAside(record.id, message);
    } finally {
      this.#known.delete(record.id);
    }
  }
}
