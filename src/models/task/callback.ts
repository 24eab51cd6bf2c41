// Telling the engine how a task ended: PATCH callback_url with the TaskUpdate. The
// reference service tries once and forgets; here the PATCH is retried with the retry
// policy's backoff while the engine is unreachable or answers 5xx/408/429, so a restart of
// the engine does not lose results. A 4xx answer is final (the engine refused the update).
// The URL is the peer's: at most CALLBACK_REPLY_CAP_BYTES of its reply are read (only its
// start is ever shown), the rest is discarded unread. Every attempt is reported as a call
// to "engine-callback".

import { sleepUnlessAborted } from '../../runtime/retry.js';
import { SwitchyardError, errors } from '../../errors.js';
import type { LimitedWarn } from '../../observability/warn-limiter.js';
import type { HttpFacet } from '../../runtime/registry.js';
import { backoffMs, shouldRetry, type RetryPolicy } from '../../runtime/retry.js';
import { httpFailureReason } from '../../transports/http/http-client.js';
import type { TaskEvents } from './task-events.js';
import type { TaskUpdate } from './wire.js';

/** Most bytes of a callback reply read: the engine answers with the task's JSON; only 300 characters are ever shown. */
export const CALLBACK_REPLY_CAP_BYTES = 16 * 1024;

export interface CallbackOptions {
  /** Outbound HTTP, from the transport. */
  readonly call: HttpFacet['call'];
  readonly events: TaskEvents;
  readonly taskId: string;
  readonly url: string;
  readonly update: TaskUpdate;
  readonly retry: RetryPolicy;
  /** Retry warnings go through the service's rate limiter (many failing callbacks are one kind). */
  readonly warn: LimitedWarn;
  /** Fields for each warning, e.g. the task id. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Once aborted (the service is stopping), waits end early: one last try, then give up. */
  readonly stopping: AbortSignal;
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export type CallbackOutcome = { delivered: true; attempts: number } | { delivered: false; attempts: number; error: SwitchyardError };

export async function deliverCallback(options: CallbackOptions): Promise<CallbackOutcome> {
  const { url, update, retry, warn, stopping } = options;
  for (let attempt = 1; ; attempt++) {
    let why: string;
    let retryable: boolean;
    const started = performance.now();
    try {
      const res = await options.call(url, {
        method: 'PATCH', json: update, timeoutMs: options.timeoutMs ?? 10_000, maxResponseBytes: CALLBACK_REPLY_CAP_BYTES,
        ...(options.headers ? { headers: options.headers } : {}),
      });
      if (res.status >= 200 && res.status < 300) {
        options.events.called('engine-callback', options.taskId, performance.now() - started);
        return { delivered: true, attempts: attempt };
      }
      why = `the engine answered ${res.status}${res.text ? `: ${res.text.slice(0, 300)}` : ''}`;
      retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    } catch (err) {
      why = `the engine is unreachable (${httpFailureReason(err)})`;
      retryable = true;
    }
    options.events.called('engine-callback', options.taskId, performance.now() - started, why);
    const lastTry = stopping.aborted;
    if (!retryable || !shouldRetry(retry, attempt) || lastTry) {
      const reason = !retryable ? why : `${why}; gave up after ${attempt} attempt(s)${lastTry ? ' because the service is stopping' : ''}`;
      // The URL came in the task: cut in messages, as a peer may make it long.
      return { delivered: false, attempts: attempt, error: new errors.SY_ERR_TASK_CALLBACK(url.length > 300 ? `${url.slice(0, 300)}…` : url, reason) };
    }
    const delay = backoffMs(retry, attempt);
    warn('task-callback-retry', { ...options.fields, attempt, retryInMs: delay, reason: why }, 'task callback failed; retrying');
    await sleepUnlessAborted(delay, stopping);
  }
}
