// `switchyard run` for a module exporting a task service: an HTTP service for a Core engine,
// with its settings from SERVICE_PORT, ENGINE_URLS, ... (or flags), until SIGINT/SIGTERM.
// It needs no transport, store or configuration service: each task brings its own S3
// settings. Task services run in a process of their own (an engine knows one by its URL).

import { errors } from '../../errors.js';
import { stopAll, stopOnSignals, type Stoppable } from '../../runtime/lifecycle.js';
import { createMetrics, startMetricsServer } from '../../observability/metrics.js';
import type { ServiceDefinition } from '../load-services.js';
import { startServices } from '../start-services.js';
import { taskEnvironment } from '../task-environment.js';
import type { RunOptions } from './run.js';

export async function runTaskService(definitions: readonly ServiceDefinition[], { settings, logger, flags = {} }: RunOptions): Promise<number> {
  const tasks = definitions.filter((d) => d.kind === 'task');
  const others = definitions.filter((d) => d.kind !== 'task');
  if (tasks.length > 1 || others.length > 0) {
    const names = definitions
      .map((d) => (d.kind === 'task' ? `${d.slug} (task service)` : d.kind === 'api-service' ? `${Object.values(d.apis).map((a) => a.name).join('+')} (api service)` : `${d.name} (${d.kind})`))
      .join(', ');
    throw new errors.SY_ERR_USAGE(`one task service per process, and nothing else beside it (an engine knows a service by its URL), got ${names}; run each in its own process with its own SERVICE_PORT`);
  }
  const metrics = createMetrics();
  const running: Stoppable[] = [];
  try {
    if (settings.metricsPort !== undefined) {
      const server = await startMetricsServer({ registry: metrics.registry, port: settings.metricsPort });
      running.push({ stop: () => server.close() });
      logger.info({ url: `${server.url}/metrics` }, 'metrics served');
    }
    running.push(...(await startServices(tasks, { task: await taskEnvironment(flags, logger, metrics.registry) })));
  } catch (err) {
    await stopAll(running).catch(() => undefined);
    throw err;
  }
  await stopOnSignals(
    { stop: () => stopAll(running) },
    {
      onFirstSignal: (signal) => logger.info({ signal }, 'stopping: no new tasks; finishing the accepted ones (signal again to exit at once)'),
      onSecondSignal: (signal) => logger.warn({ signal }, 'second signal: exiting now; tasks in flight are lost (the engine sees no callback for them)'),
    },
  ).stopped;
  return 0;
}
