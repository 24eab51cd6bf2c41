// The process's own settings: the top-level section of the one settings system (no key in
// a settings file, SWITCHYARD_{KEY} in the environment). Where configuration comes from,
// which transport and store the queue-based models use, where state lives, logs, metrics,
// the dashboard. Each model's own settings are its section (models/<model>/settings.ts).

import { z } from 'zod';
import { defineSection } from '../config/settings/settings.js';
import { levelNames } from '../observability/levels.js';

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

export { processFlags } from './process-flags.js';
