// Telling the engine how a task ended: PATCH callback_url with the TaskUpdate. The
// reference service tries once and forgets; here the PATCH is retried with the retry
// policy's backoff while the engine is unreachable or answers 5xx/408/429, so a restart of
// the engine does not lose results. A 4xx answer is final (the engine refused the update).

import { sleepUnlessAborted } from '../../runtime/retry.js';
import { SwitchyardError, errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { backoffMs, shouldRetry, type RetryPolicy } from '../../runtime/retry.js';
import { httpCall } from '../../transports/http/http-client.js';
import type { TaskUpdate } from './wire.js';

export interface CallbackOptions {
  readonly url: string;
  readonly update: TaskUpdate;
  readonly retry: RetryPolicy;
  readonly log: Logger;
  /** Once aborted (the service is stopping), waits end early: one last try, then give up. */
  readonly stopping: AbortSignal;
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export type CallbackOutcome = { delivered: true; attempts: number } | { delivered: false; attempts: number; error: SwitchyardError };

export async function deliverCallback(options: CallbackOptions): Promise<CallbackOutcome> {
  const { url, update, retry, log, stopping } = options;
  for (let attempt = 1; ; attempt++) {
    let why: string;
    let retryable: boolean;
    try {
      const res = await httpCall(url, { method: 'PATCH', json: update, timeoutMs: options.timeoutMs ?? 10_000, ...(options.headers ? { headers: options.headers } : {}) });
      if (res.status >= 200 && res.status < 300) return { delivered: true, attempts: attempt };
      why = `the engine answered ${res.status}${res.text ? `: ${res.text.slice(0, 300)}` : ''}`;
      retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    } catch (err) {
      why = `the engine is unreachable (${(err as Error).message})`;
      retryable = true;
    }
    const lastTry = stopping.aborted;
    if (!retryable || !shouldRetry(retry, attempt) || lastTry) {
      const reason = !retryable ? why : `${why}; gave up after ${attempt} attempt(s)${lastTry ? ' because the service is stopping' : ''}`;
      return { delivered: false, attempts: attempt, error: new errors.SY_ERR_TASK_CALLBACK(url, reason) };
    }
    const delay = backoffMs(retry, attempt);
    log.warn({ attempt, retryInMs: delay, reason: why }, 'task callback failed; retrying');
    await sleepUnlessAborted(delay, stopping);
  }
}
