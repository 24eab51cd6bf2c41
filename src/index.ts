// Switchyard's public face. Adapters for real infrastructure live behind subpath exports
// (switchyardjs/transports/memory, switchyardjs/storage/fs, switchyardjs/config, ...).

export * from './models/worker/mod.js';
// The task model: everything else of it is at switchyardjs/task.
export { taskService } from './models/task/task-service.js';
export type { TaskServiceDefinition } from './models/task/task-service.js';
export type {
  Transport, Capabilities, Capability, Delivery, DeliveryHandler, OutboundMessage, NackOptions,
  Subscription, ConsumeOptions, QueueOptions, Reply, RequestHandler, RequestOptions, Headers,
} from './transports/transport.js';
export { DEAD_LETTER_HEADERS, deadLetterQueueOf, requireCapabilities } from './transports/transport.js';
export type { ObjectStore } from './storage/object-store.js';
export type { ConfigSource, QueueConfig, OutboundCase, CaseValue } from './config/config-source.js';
export { createLogger } from './observability/logger.js';
export type { Logger } from './observability/logger.js';
export { retryPolicy, DEFAULT_RETRY } from './runtime/retry.js';
export type { RetryPolicy } from './runtime/retry.js';
export { SwitchyardError, errors, exitCodeFor } from './errors.js';
export type { ErrorCode } from './errors.js';
