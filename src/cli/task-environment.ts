// What a task service runs on, from settings: the fastify HTTP server and one S3 object
// store per distinct S3 settings its tasks arrive with (credentials from the task itself).

import type { Logger } from '../observability/logger.js';
import type { Registry } from 'prom-client';
import { createTaskMetrics } from '../observability/task-metrics.js';
import type { TaskS3Settings, TaskServiceEnvironment } from '../models/task/mod.js';
import { S3ObjectStore } from '../storage/s3/mod.js';
import { startHttpServer } from '../transports/http/mod.js';
import { readTaskSettings, taskServiceSettings } from './task-settings.js';

/** An S3 store for a task's settings: s3_host is the endpoint URL (with scheme), as boto's endpoint_url. */
export function openTaskStore(s3: TaskS3Settings): S3ObjectStore {
  return new S3ObjectStore({ endpoint: s3.host, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
}

export async function taskEnvironment(flags: Record<string, unknown>, logger: Logger, registry?: Registry, env: NodeJS.ProcessEnv = process.env): Promise<TaskServiceEnvironment> {
  return {
    serve: startHttpServer, openStore: openTaskStore, logger,
    settings: await taskServiceSettings(readTaskSettings(flags, env)),
    ...(registry ? { metrics: createTaskMetrics(registry) } : {}),
  };
}
