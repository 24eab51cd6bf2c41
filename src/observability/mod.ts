// Observability: the logger, and the metrics and log lines derived from the observer stream.

export {
  createLogger, validateLevel, levelNames, secretFields, redactPaths, REDACTED,
} from './logger.js';
export type { Logger, LoggerOptions, LevelName, DestinationStream } from './logger.js';
export { startMetricsServer } from './metrics.js';
export type { HealthReport, MetricsServer, MetricsServerOptions } from './metrics.js';
export { observerMetrics, observerMetricNames, durationBuckets } from './observer-metrics.js';
export type { ObserverMetrics, ObserverMetricsOptions } from './observer-metrics.js';
export { observerLog } from './observer-log.js';
export type { ObserverLog, ObserverLogOptions } from './observer-log.js';
