// The process's own settings: the top-level section of the one settings system (no key in
// a settings file, SWITCHYARD_{KEY} in the environment). Where configuration comes from,
// which transport and store the queue-based models use, where state lives, logs, metrics,
// the dashboard. Each model's own settings are its section (models/<model>/settings.ts).

import { z } from 'zod';
import { defineSection } from '../config/settings/settings.js';
import type { FlagSpec } from '../config/settings/flags.js';
import { levelNames } from '../observability/logger.js';

const port = z.coerce.number().int().min(0).max(65535);

const schema = z.object({
  configHost: z.string().min(1).optional()
    .describe('Configuration service (slingshot\'s sys-map service): a URL, or a bare host meaning https://{host}.'),
  rabbitmqConfigUrl: z.string().url().optional()
    .describe('Where GET /rabbitmq is asked; default {configHost}/rabbitmq.'),
  objectStorageConfigUrl: z.string().url().optional()
    .describe('Where GET /object-storage is asked; default {configHost}/object-storage.'),
  configMaxResponseBytes: z.coerce.number().int().min(1).optional()
    .describe('Most bytes of one configuration-service answer read (default 1 MiB); a longer one is refused.'),
  map: z.string().min(1).optional()
    .describe('A system-map file read in-process instead of asking a configuration service.'),
  transport: z.string().regex(/^(memory(\?.*)?|amqp|amqps?:\/\/.+|rediss?:\/\/.+)$/, 'must be memory, amqp, amqp://…, amqps://… or redis://…').default('memory')
    .describe('The transport of the worker and API models: memory (the embedded default, shared by the processes of one state folder), amqp (RabbitMQ at amqpUrl or from the configuration service), amqp://…, or redis://….'),
  amqpUrl: z.string().regex(/^amqps?:\/\//, 'must start with amqp:// or amqps://').optional()
    .describe('RabbitMQ URL without the password (amqp://user@host:port/vhost); default: from the configuration service\'s /rabbitmq.'),
  amqpPassword: z.string().min(1).optional()
    .describe('Secret reference (pass:NAME, env:NAME, file:PATH) for the password amqpUrl leaves out.'),
  memoryQueueMaxLength: z.coerce.number().int().min(1).optional()
    .describe('Memory transport: messages one queue holds before senders wait (or are refused). Default 100000.'),
  memoryQueueMaxBytes: z.coerce.number().int().min(1).optional()
    .describe('Memory transport: body bytes one queue holds before senders wait (or are refused). Default 64 MiB.'),
  memoryQueueOverflow: z.enum(['back-pressure', 'reject-publish']).optional()
    .describe('Memory transport, past the bound: back-pressure (senders wait, the default) or reject-publish (refused).'),
  storage: z.enum(['fs', 's3']).default('fs')
    .describe('Object store: fs (a local folder, the default) or s3.'),
  s3Endpoint: z.string().url().optional()
    .describe('S3 endpoint URL; default: https://{host} from the configuration service\'s /object-storage.'),
  s3Region: z.string().min(1).default('garage')
    .describe('S3 region.'),
  s3AccessKey: z.string().min(1).optional()
    .describe('Secret reference for the S3 access key, with s3Endpoint.'),
  s3SecretKey: z.string().min(1).optional()
    .describe('Secret reference for the S3 secret key, with s3Endpoint.'),
  storageDir: z.string().min(1).optional()
    .describe('Folder of the fs object store; default {stateDir}/storage.'),
  stateDir: z.string().min(1).default('.switchyard')
    .describe('Where a running process keeps what other local commands need (the embedded broker\'s socket, fs storage).'),
  logLevel: z.enum(levelNames).default('info')
    .describe('Log level.'),
  metricsPort: port.optional()
    .describe('Serve Prometheus metrics of every model at GET /metrics, and /health and /ready, on 127.0.0.1:PORT (0 picks a free port).'),
  dashboardPort: port.optional()
    .describe('Serve the live dashboard on 127.0.0.1:PORT (0 picks a free port).'),
  tracing: z.union([
    z.boolean(),
    z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
  ], { error: 'must be true or false' }).default(false)
    .describe('Trace across hops with OpenTelemetry: spans per send, process, call and event, the context carried in message headers, HTTP headers and Lightbus-ignored fields (docs/tracing.md). Needs an SDK registered by the user; off by default, and off costs nothing.'),
});

/** The top-level section: SWITCHYARD_CONFIG_HOST, SWITCHYARD_LOG_LEVEL, …; no key in a settings file. */
export const processSettingsSection = defineSection('', schema);
export type ProcessSettings = z.output<typeof schema>;

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
