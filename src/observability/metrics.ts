// Prometheus metrics for the worker model, on a registry of their own (never prom-client's
// global one), so tests and several services in one process do not collide. Several services
// may share one registry: every series carries `service` and `queue` labels.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { errors } from '../errors.js';

/** Why a message was dead-lettered; a small fixed set so the label stays low-cardinality. */
export const deadLetterReasonKinds = ['bad_id', 'no_route', 'error', 'max_attempts'] as const;
export type DeadLetterReasonKind = (typeof deadLetterReasonKinds)[number];

/** Histogram buckets in seconds, from 0.5 ms to 30 s. */
export const processDurationBuckets: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export const metricNames = {
  consumed: 'switchyard_messages_consumed_total',
  succeeded: 'switchyard_messages_succeeded_total',
  failed: 'switchyard_messages_failed_total',
  retried: 'switchyard_messages_retried_total',
  deadLettered: 'switchyard_messages_dead_lettered_total',
  processDuration: 'switchyard_process_duration_seconds',
} as const;

type QueueLabel = 'service' | 'queue';
type DeadLetterLabel = QueueLabel | 'reason_kind';

/** The metrics of one service's one inbound queue, with the labels filled in. */
export interface QueueMetrics {
  consumed(): void;
  succeeded(): void;
  failed(): void;
  retried(): void;
  /** An unknown kind is counted as "error", to keep the label set fixed. */
  deadLettered(kind: DeadLetterReasonKind): void;
  observeDuration(seconds: number): void;
  /** Starts timing one message; call the result when done, it records and returns seconds. */
  startTimer(): () => number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly consumed: Counter<QueueLabel>;
  readonly succeeded: Counter<QueueLabel>;
  readonly failed: Counter<QueueLabel>;
  readonly retried: Counter<QueueLabel>;
  readonly deadLettered: Counter<DeadLetterLabel>;
  readonly processDuration: Histogram<QueueLabel>;
  forQueue(service: string, queue: string): QueueMetrics;
  /** The registry in Prometheus text format. */
  text(): Promise<string>;
}

export interface MetricsOptions {
  /** Register on this registry instead of a new one; metrics already on it are reused. */
  registry?: Registry;
  /** Also collect Node's default process metrics (cpu, memory, event loop, gc). Default false. */
  defaultMetrics?: boolean;
}

const defaultMetricsOn = new WeakSet<Registry>();

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => {
    const existing = registry.getSingleMetric(name);
    if (existing) {
      if (!(existing instanceof Counter)) throw new errors.SY_ERR_SETTINGS(`metric ${name} is already registered with another type`);
      return existing as Counter<L>;
    }
    return new Counter<L>({ name, help, labelNames, registers });
  };

  const consumed = counter(metricNames.consumed, 'Messages taken from an inbound queue.', ['service', 'queue']);
  const succeeded = counter(metricNames.succeeded, 'Messages processed, their results published, and acked.', ['service', 'queue']);
  const failed = counter(metricNames.failed, 'Messages whose processing failed (each failure counts, retried or not).', ['service', 'queue']);
  const retried = counter(metricNames.retried, 'Messages handed back to their queue to be tried again.', ['service', 'queue']);
  const deadLettered = counter(metricNames.deadLettered, 'Messages moved to the dead-letter queue, by kind of reason.', [
    'service', 'queue', 'reason_kind',
  ]);

  let processDuration: Histogram<QueueLabel>;
  const existingHistogram = registry.getSingleMetric(metricNames.processDuration);
  if (existingHistogram) {
    if (!(existingHistogram instanceof Histogram)) {
      throw new errors.SY_ERR_SETTINGS(`metric ${metricNames.processDuration} is already registered with another type`);
    }
    processDuration = existingHistogram as Histogram<QueueLabel>;
  } else {
    processDuration = new Histogram<QueueLabel>({
      name: metricNames.processDuration,
      help: 'Time from taking a message to settling it, in seconds.',
      labelNames: ['service', 'queue'],
      buckets: [...processDurationBuckets],
      registers,
    });
  }

  if (options.defaultMetrics && !defaultMetricsOn.has(registry)) {
    defaultMetricsOn.add(registry);
    if (!registry.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics({ register: registry });
  }

  const forQueue = (service: string, queue: string): QueueMetrics => {
    const labels = { service, queue };
    return {
      consumed: () => consumed.inc(labels),
      succeeded: () => succeeded.inc(labels),
      failed: () => failed.inc(labels),
      retried: () => retried.inc(labels),
      deadLettered: (kind) => {
        const reason_kind = (deadLetterReasonKinds as readonly string[]).includes(kind) ? kind : 'error';
        deadLettered.inc({ ...labels, reason_kind });
      },
      observeDuration: (seconds) => processDuration.observe(labels, seconds),
      startTimer: () => processDuration.startTimer(labels),
    };
  };

  return {
    registry, consumed, succeeded, failed, retried, deadLettered, processDuration, forQueue,
    text: () => registry.metrics(),
  };
}

/** What GET /health and GET /ready report (the runtime's health, structurally). */
export interface HealthReport {
  readonly status: 'ok' | 'starting' | 'stopping' | 'failed';
  readonly components: readonly unknown[];
}

export interface MetricsServerOptions {
  registry: Registry;
  /**
   * Also serve GET /health (200 while the process runs, with the report) and GET /ready (200
   * when status is "ok", 503 otherwise), for orchestrators' probes.
   */
  health?: () => HealthReport;
  /** 0 picks a free port; the chosen one is in the result. */
  port: number;
  /** Default 127.0.0.1; use 0.0.0.0 to be scraped from other hosts. */
  host?: string;
}

export interface MetricsServer {
  /** The server's base URL, e.g. http://127.0.0.1:9464; scrape `${url}/metrics`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections; safe to call more than once. */
  close(): Promise<void>;
}

/** Serves `GET /metrics` from the registry (and /health, /ready with `health`); every other path is 404. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, port } = options;
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new errors.SY_ERR_SETTINGS(`metrics port ${JSON.stringify(port)} is not valid; use an integer from 0 to 65535 (0 picks a free port)`);
  }

  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const health = options.health;
    const known = pathname === '/metrics' || (health !== undefined && (pathname === '/health' || pathname === '/ready'));
    if (!known) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found; metrics are at /metrics${health ? ', health at /health and /ready' : ''}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
      return;
    }
    if (health && pathname !== '/metrics') {
      const report = health();
      const body = JSON.stringify(report);
      const status = pathname === '/ready' && report.status !== 'ok' ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      reject(Object.assign(
        new errors.SY_ERR_SETTINGS(`the metrics server cannot listen on ${host}:${port}: ${err.message}`),
        { cause: err },
      ));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
