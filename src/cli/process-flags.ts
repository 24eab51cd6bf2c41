// The process section's flags (cli/process-settings.ts holds its schema), as data: `--help`
// lists them without loading the settings system.

import type { FlagSpec } from '../config/settings/flag-spec.js';
import { levelNames } from '../observability/levels.js';

/** The process flags every command that runs services takes. */
export const processFlags: readonly FlagSpec[] = [
  { option: '--config-host <url>', key: 'configHost', help: 'configuration service, a URL or a host meaning https://host; env SWITCHYARD_CONFIG_HOST' },
  { option: '--rabbitmq-config-url <url>', key: 'rabbitmqConfigUrl', help: 'where to GET the broker endpoint (default {config-host}/rabbitmq)' },
  { option: '--object-storage-config-url <url>', key: 'objectStorageConfigUrl', help: 'where to GET the object-storage endpoint (default {config-host}/object-storage)' },
  { option: '--config-max-response-bytes <n>', key: 'configMaxResponseBytes', help: 'most bytes of one configuration-service answer read (default 1048576)' },
  { option: '--map <file>', key: 'map', help: 'system-map file read in-process instead of a configuration service; env SWITCHYARD_MAP' },
  { option: '--transport <name|url>', key: 'transport', help: 'transport of workers and API services: memory (default), amqp, amqp://…, redis://…; env SWITCHYARD_TRANSPORT' },
  { option: '--amqp-url <url>', key: 'amqpUrl', help: 'RabbitMQ URL without password (default: from the configuration service\'s /rabbitmq); env SWITCHYARD_AMQP_URL' },
  { option: '--amqp-password <ref>', key: 'amqpPassword', help: 'secret reference for its password: pass:NAME, env:NAME or file:PATH; env SWITCHYARD_AMQP_PASSWORD' },
  { option: '--memory-queue-max-length <n>', key: 'memoryQueueMaxLength', help: 'memory transport: messages one queue holds before senders wait (default 100000)' },
  { option: '--memory-queue-max-bytes <n>', key: 'memoryQueueMaxBytes', help: 'memory transport: body bytes one queue holds before senders wait (default 64 MiB)' },
  { option: '--memory-queue-overflow <mode>', key: 'memoryQueueOverflow', help: 'memory transport, past the bound: back-pressure (default) or reject-publish', choices: ['back-pressure', 'reject-publish'] },
  { option: '--storage <name>', key: 'storage', help: 'object store: fs (default) or s3; env SWITCHYARD_STORAGE', choices: ['fs', 's3'] },
  { option: '--s3-endpoint <url>', key: 's3Endpoint', help: 'S3 endpoint (default: https://{host} from the configuration service\'s /object-storage); env SWITCHYARD_S3_ENDPOINT' },
  { option: '--s3-region <region>', key: 's3Region', help: 'S3 region (default garage); env SWITCHYARD_S3_REGION' },
  { option: '--s3-access-key <ref>', key: 's3AccessKey', help: 'secret reference for the access key with --s3-endpoint; env SWITCHYARD_S3_ACCESS_KEY' },
  { option: '--s3-secret-key <ref>', key: 's3SecretKey', help: 'secret reference for the secret key with --s3-endpoint; env SWITCHYARD_S3_SECRET_KEY' },
  { option: '--storage-dir <dir>', key: 'storageDir', help: 'folder of the fs object store (default {state-dir}/storage); env SWITCHYARD_STORAGE_DIR' },
  { option: '--state-dir <dir>', key: 'stateDir', help: 'where this process keeps the embedded broker\'s socket and local storage (default .switchyard)' },
  { option: '--log-level <level>', key: 'logLevel', help: 'log level; env SWITCHYARD_LOG_LEVEL', choices: levelNames },
  { option: '--metrics-port <port>', key: 'metricsPort', help: 'serve Prometheus metrics of every model at GET /metrics (and /health, /ready) on 127.0.0.1:PORT; env SWITCHYARD_METRICS_PORT' },
  { option: '--dashboard-port <port>', key: 'dashboardPort', help: 'serve the live dashboard on 127.0.0.1:PORT (0 picks one); env SWITCHYARD_DASHBOARD_PORT' },
  { option: '--tracing', key: 'tracing', help: 'trace across hops with OpenTelemetry (register an SDK yourself, e.g. node --import ./otel.mjs; docs/tracing.md); env SWITCHYARD_TRACING=true' },
];
