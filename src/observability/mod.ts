// Observability: the logger and the metrics.

export {
  createLogger, validateLevel, levelNames, secretFields, redactPaths, REDACTED,
} from './logger.js';
export type { Logger, LoggerOptions, LevelName, DestinationStream } from './logger.js';
export {
  createMetrics, startMetricsServer, deadLetterReasonKinds, processDurationBuckets, metricNames,
} from './metrics.js';
export type {
  Metrics, MetricsOptions, QueueMetrics, DeadLetterReasonKind, MetricsServer, MetricsServerOptions,
} from './metrics.js';
