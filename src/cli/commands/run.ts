// `switchyard run <module...>`: start the services the modules export on the transport,
// store and configuration the settings name, until SIGINT/SIGTERM.

import { isInstance } from '../../runtime/instances.js';
import { stopAll, stopOnSignals, type Stoppable } from '../../runtime/lifecycle.js';
import type { Logger } from '../../observability/logger.js';
import { loadServices } from '../load-services.js';
import type { Settings } from '../settings.js';
import { startApiServices } from '../start-api-services.js';
import { runTaskService } from './run-task-service.js';
import { runWorkers } from './run-workers.js';

export interface RunOptions {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly out: (line: string) => void;
  /** The command's flags, for the models' settings sections (--port, --engine-url, --staging-dir, ...). */
  readonly flags?: Record<string, unknown>;
}

export async function run(modules: readonly string[], options: RunOptions): Promise<number> {
  const { settings, logger } = options;
  const definitions = (await Promise.all(modules.map((m) => loadServices(m)))).flat();
  // API services alone need no system map, queues or storage: only a bus.
  if (definitions.every((d) => d.kind === 'api-service')) return runApiServicesOnly(definitions, settings, logger);
  if (definitions.some((d) => d.kind === 'task')) return runTaskService(definitions, options);
  return runWorkers(definitions, options);
}

/** Runs until SIGINT/SIGTERM, then stops everything (a second signal exits at once). */
async function runUntilSignal(running: Stoppable[], logger: Logger, draining: string, abandoned: string): Promise<number> {
  await stopOnSignals(
    { stop: () => stopAll(running) },
    {
      onFirstSignal: (signal) => logger.info({ signal }, `stopping: ${draining} (signal again to exit at once)`),
      onSecondSignal: (signal) => logger.warn({ signal }, `second signal: exiting now; ${abandoned}`),
      ...(isInstance() ? { signals: ['SIGTERM'] as const } : {}),
    },
  ).stopped;
  return 0;
}

const apiServiceOptions = (settings: Settings, logger: Logger) => ({ busConfig: settings.busConfig, serviceName: settings.serviceName, processName: settings.processName, logger });

async function runApiServicesOnly(definitions: Parameters<typeof startApiServices>[0], settings: Settings, logger: Logger): Promise<number> {
  const running = await startApiServices(definitions, apiServiceOptions(settings, logger));
  return runUntilSignal(running, logger, 'listeners finish the events in flight', 'unacked events are reclaimed by other members');
}
