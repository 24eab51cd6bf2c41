// The one retry policy of messages: bounded attempts, waiting by THE backoff (../backoff.ts)
// between them.

export { backoffMs, DEFAULT_RETRY, retryPolicy, type RetryPolicy } from '../backoff.js';
import type { RetryPolicy } from '../backoff.js';

/** Whether a message that failed on `attempt` gets another try. */
export function shouldRetry(policy: RetryPolicy, attempt: number): boolean {
  return attempt < policy.maxAttempts;
}

/** Waits `ms`, or less if `signal` aborts first (a stopping service ends its waits early). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
