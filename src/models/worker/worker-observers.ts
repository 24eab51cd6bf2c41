// The worker's events turned into log lines and metrics: the one place each is done.

import type { Logger } from '../../observability/logger.js';
import { traceOnce } from '../../observability/trace-once.js';
import { warnLimiter } from '../../observability/warn-limiter.js';
import type { Metrics } from '../../observability/metrics.js';
import type { WorkerListener } from './worker-events.js';

export function workerLogListener(logger: Logger): WorkerListener {
  // A body that is not an id is a publisher's doing, one line each would let any publisher
  // flood the log: those lines are rate-limited per service (suppressed ones counted).
  const peerInput = warnLimiter(logger);
  // A failure that repeats on every attempt: one line each, its stack trace once.
  const trace = traceOnce();
  return (e) => {
    const base = { service: e.service, queue: e.queue };
    switch (e.type) {
      case 'started':
        logger.info({ ...base, outbound: e.outbound }, 'worker started');
        break;
      case 'consumed':
        logger.debug({ ...base, id: e.id.toString(), attempt: e.attempt }, 'message received');
        break;
      case 'succeeded':
        logger.info({
          ...base, id: e.id.toString(), ms: Math.round(e.durationMs * 100) / 100,
          results: e.results.map((r) => ({ id: r.id.toString(), queues: r.queues })),
          uploads: e.uploads.map((u) => `${u.bucket}/${u.key}`),
        }, 'message done');
        break;
      case 'failed':
        logger.warn({ ...base, id: e.id.toString(), attempt: e.attempt, err: trace(e.error), retryInMs: e.retryInMs }, 'message failed');
        break;
      case 'dead-lettered':
        if (e.kind === 'bad_id') peerInput.warn(`bad_id ${e.service}`, { ...base, kind: e.kind, reason: e.reason }, 'message dead-lettered');
        else logger.error({ ...base, id: e.id?.toString(), kind: e.kind, reason: e.reason }, 'message dead-lettered');
        break;
      case 'stopped':
        peerInput.flush();
        logger.info(base, 'worker stopped');
        break;
    }
  };
}

export function workerMetricsListener(metrics: Metrics): WorkerListener {
  return (e) => {
    const labels = { service: e.service, queue: e.queue };
    switch (e.type) {
      case 'consumed':
        metrics.consumed.inc(labels);
        break;
      case 'succeeded':
        metrics.succeeded.inc(labels);
        metrics.processDuration.observe(labels, e.durationMs / 1000);
        break;
      case 'failed':
        metrics.failed.inc(labels);
        metrics.processDuration.observe(labels, e.durationMs / 1000);
        if (e.retryInMs !== undefined) metrics.retried.inc(labels);
        break;
      case 'dead-lettered':
        metrics.deadLettered.inc({ ...labels, reason_kind: e.kind });
        break;
    }
  };
}
