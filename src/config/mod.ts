// The public face of the config layer (package export "switchyardjs/config"): where a
// service's queues, buckets and endpoints come from, and how secret references resolve.

export type {
  CaseValue, ConfigSource, ObjectStorageEndpoint, OutboundCase, QueueConfig, RabbitMqEndpoint,
} from './config-source.js';
export { CASE_RULE, caseKey, caseToJson } from './case-value.js';
export {
  MapConfigSource, RESERVED_SERVICE_NAMES, bucketOf, loadSysMap, parseSysMap, queueConfigOf, queueDeclarationOf,
  type QueueDeclaration, type SysMap, type SysMapService,
} from './sysmap.js';
export { startConfigServer, type ConfigServer, type ConfigServerOptions } from './config-server.js';
export { HttpConfigSource, configUrl, type HttpConfigSourceOptions } from './config-client.js';
export { Secret, resolveEndpointSecret, resolveSecret, resolveSecretOrPassEntry, type ResolveSecretOptions } from './secrets.js';
