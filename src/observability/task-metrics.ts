// Prometheus metrics of task services (the task model), on a given registry (the one
// `--metrics-port` serves), labelled by service slug.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { processDurationBuckets } from './metrics.js';

export const taskMetricNames = {
  received: 'switchyard_tasks_received_total',
  rejected: 'switchyard_tasks_rejected_total',
  ended: 'switchyard_tasks_ended_total',
  inFlight: 'switchyard_tasks_in_flight',
  duration: 'switchyard_task_duration_seconds',
  callbacks: 'switchyard_task_callbacks_total',
} as const;

/** What a task service reports; see src/models/task/task-runner.ts. */
export interface TaskMetrics {
  received(service: string): void;
  /**
   * POST /compute refused: "full" (MAX_TASKS), "untold" (too many ended tasks whose engine
   * has not been told yet, MAX_PENDING_CALLBACKS), "duplicate", or "outbound" (callback_url
   * or s3_host outside the allow-list).
   */
  rejected(service: string, reason: 'full' | 'untold' | 'duplicate' | 'outbound'): void;
  ended(service: string, status: 'finished' | 'error', seconds: number): void;
  inFlight(service: string, n: number): void;
  callback(service: string, outcome: 'delivered' | 'abandoned'): void;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createTaskMetrics(registry: Registry): TaskMetrics {
  const registers = [registry];
  const received = reuse(registry, taskMetricNames.received, () => new Counter({ name: taskMetricNames.received, help: 'Tasks accepted by POST /compute.', labelNames: ['service'], registers }));
  const rejected = reuse(registry, taskMetricNames.rejected, () => new Counter({ name: taskMetricNames.rejected, help: 'Tasks refused by POST /compute (queue full, callbacks backlog, duplicate id, outbound address not allowed).', labelNames: ['service', 'reason'], registers }));
  const ended = reuse(registry, taskMetricNames.ended, () => new Counter({ name: taskMetricNames.ended, help: 'Tasks ended, by final status.', labelNames: ['service', 'status'], registers }));
  const inFlight = reuse(registry, taskMetricNames.inFlight, () => new Gauge({ name: taskMetricNames.inFlight, help: 'Tasks pending or running (what MAX_TASKS bounds).', labelNames: ['service'], registers }));
  const duration = reuse(registry, taskMetricNames.duration, () => new Histogram({ name: taskMetricNames.duration, help: 'Time from fetching to the end of saving, in seconds.', labelNames: ['service', 'status'], buckets: [...processDurationBuckets], registers }));
  const callbacks = reuse(registry, taskMetricNames.callbacks, () => new Counter({ name: taskMetricNames.callbacks, help: 'Task callbacks to the engine, delivered or abandoned after retries.', labelNames: ['service', 'outcome'], registers }));
  return {
    received: (service) => received.inc({ service }),
    rejected: (service, reason) => rejected.inc({ service, reason }),
    ended: (service, status, seconds) => {
      ended.inc({ service, status });
      duration.observe({ service, status }, seconds);
    },
    inFlight: (service, n) => inFlight.set({ service }, n),
    callback: (service, outcome) => callbacks.inc({ service, outcome }),
  };
}
