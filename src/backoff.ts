// THE backoff: exponential delays with jitter, so a crowd of failing things does not come
// back in lockstep. Pure arithmetic at the bottom of the layers (beside the error
// catalogue), so that transports reconnecting, stores retrying and the runtime retrying
// messages all wait by the same rule.

import { errors } from './errors.js';

export interface RetryPolicy {
  /** Deliveries in all, the first included; after the last failure the message is dead-lettered. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  /** 0 = exact delays, 1 = anywhere between half and the full delay. */
  readonly jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...overrides };
  const problems: string[] = [];
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) problems.push(`retry.maxAttempts must be an integer ≥ 1, got ${policy.maxAttempts}`);
  if (!(policy.initialDelayMs >= 0)) problems.push(`retry.initialDelayMs must be ≥ 0, got ${policy.initialDelayMs}`);
  if (!(policy.maxDelayMs >= policy.initialDelayMs)) problems.push(`retry.maxDelayMs must be ≥ retry.initialDelayMs, got ${policy.maxDelayMs}`);
  if (!(policy.factor >= 1)) problems.push(`retry.factor must be ≥ 1, got ${policy.factor}`);
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) problems.push(`retry.jitter must be between 0 and 1, got ${policy.jitter}`);
  if (problems.length > 0) throw new errors.SY_ERR_SETTINGS(problems.join('; '));
  return policy;
}

/** How long to wait before the try after `attempt` (1-based). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - policy.jitter * 0.5 * random()));
}
