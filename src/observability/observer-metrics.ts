// Prometheus metrics of every model, derived from the observer stream: one registry per
// process, every series labelled model, service and transport, plus the input or output it
// is about. Input/output/target names come from configuration (queues, RPCs, addresses,
// routes, socket names), never from what a peer sends, so label sets stay bounded.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Observer, ObserverEvent } from './observer.js';

/** Histogram buckets in seconds, from 0.5 ms to 30 s. */
export const durationBuckets: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const observerMetricNames = {
  received: 'switchyard_received_total',
  handled: 'switchyard_handled_total',
  failed: 'switchyard_failed_total',
  retried: 'switchyard_retried_total',
  deadLettered: 'switchyard_dead_lettered_total',
  rejected: 'switchyard_rejected_total',
  inFlight: 'switchyard_in_flight',
  duration: 'switchyard_handle_duration_seconds',
  sent: 'switchyard_sent_total',
  calls: 'switchyard_calls_total',
  callDuration: 'switchyard_call_duration_seconds',
  up: 'switchyard_component_ready',
} as const;

const SOURCE = ['model', 'service', 'transport'] as const;
type Source = (typeof SOURCE)[number];

export interface ObserverMetrics {
  readonly registry: Registry;
  /** Stops deriving metrics (the series stay in the registry). */
  detach(): void;
}

export interface ObserverMetricsOptions {
  /** Register here instead of on a new registry. */
  readonly registry?: Registry;
  /** Also collect Node's process metrics (cpu, memory, event loop, gc). Default true. */
  readonly processMetrics?: boolean;
}

/** Derives the metrics from `observer` from now on. */
export function observerMetrics(observer: Observer, options: ObserverMetricsOptions = {}): ObserverMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, extra: readonly L[]) =>
    new Counter<Source | L>({ name, help, labelNames: [...SOURCE, ...extra], registers });
  const received = counter(observerMetricNames.received, 'Units of work (messages, calls, events, requests, tasks) that arrived.', ['input']);
  const handled = counter(observerMetricNames.handled, 'Units of work handled, with everything they caused done.', ['input']);
  const failed = counter(observerMetricNames.failed, 'Handlings that failed (each failure counts, retried or not).', ['input']);
  const retried = counter(observerMetricNames.retried, 'Failed units of work handed back to be tried again.', ['input']);
  const deadLettered = counter(observerMetricNames.deadLettered, 'Units of work set aside for good, by kind of reason.', ['input', 'reason_kind']);
  const rejected = counter(observerMetricNames.rejected, 'Input refused before it became a unit of work (unreadable, over a limit).', ['input']);
  const sent = counter(observerMetricNames.sent, 'Messages sent on an output (results, events, publications).', ['output']);
  const calls = counter(observerMetricNames.calls, 'Outbound requests that got an answer or failed.', ['target', 'outcome']);
  const inFlight = new Gauge<Source | 'input'>({ name: observerMetricNames.inFlight, help: 'Units of work arrived and not yet handled, failed or set aside.', labelNames: [...SOURCE, 'input'], registers });
  const up = new Gauge<Source>({ name: observerMetricNames.up, help: '1 while the component is ready, 0 otherwise.', labelNames: [...SOURCE], registers });
  const duration = new Histogram<Source | 'input' | 'outcome'>({
    name: observerMetricNames.duration, help: 'Time to handle one unit of work, in seconds.',
    labelNames: [...SOURCE, 'input', 'outcome'], buckets: [...durationBuckets], registers,
  });
  const callDuration = new Histogram<Source | 'target'>({
    name: observerMetricNames.callDuration, help: 'Time from sending a request to its answer, in seconds.',
    labelNames: [...SOURCE, 'target'], buckets: [...durationBuckets], registers,
  });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const onEvent = (e: ObserverEvent) => {
    const source = { model: e.model, service: e.service, transport: e.transport };
    switch (e.type) {
      case 'state':
        up.set(source, e.state === 'ready' ? 1 : 0);
        break;
      case 'received':
        received.inc({ ...source, input: e.input });
        inFlight.inc({ ...source, input: e.input });
        break;
      case 'handled':
        handled.inc({ ...source, input: e.input });
        inFlight.dec({ ...source, input: e.input });
        duration.observe({ ...source, input: e.input, outcome: 'ok' }, e.durationMs / 1000);
        for (const p of e.produced ?? []) sent.inc({ ...source, output: p.output });
        break;
      case 'failed':
        failed.inc({ ...source, input: e.input });
        inFlight.dec({ ...source, input: e.input });
        duration.observe({ ...source, input: e.input, outcome: 'error' }, e.durationMs / 1000);
        if (e.retryInMs !== undefined) retried.inc({ ...source, input: e.input });
        break;
      case 'dead-lettered':
        deadLettered.inc({ ...source, input: e.input, reason_kind: e.reasonKind });
        // A unit set aside after it arrived leaves the in-flight count; one refused before
        // it became a unit (no id) never entered it.
        if (e.id !== undefined) inFlight.dec({ ...source, input: e.input });
        break;
      case 'rejected':
        rejected.inc({ ...source, input: e.input });
        break;
      case 'sent':
        sent.inc({ ...source, output: e.output });
        break;
      case 'called':
        calls.inc({ ...source, target: e.target, outcome: e.error ? 'error' : 'ok' });
        callDuration.observe({ ...source, target: e.target }, e.durationMs / 1000);
        break;
    }
  };
  const detach = observer.listen(onEvent);
  return { registry, detach };
}
