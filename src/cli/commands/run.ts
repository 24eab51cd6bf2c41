// `switchyard run <module...>`: start the services the modules export on the transport,
// store and configuration the settings name, until SIGINT/SIGTERM.

import type { Logger } from '../../observability/logger.js';
import { loadServices } from '../load-services.js';
import type { Settings } from '../settings.js';
import { runApiServices } from './run-api-services.js';
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
  if (definitions.every((d) => d.kind === 'api-service')) return runApiServices(definitions, { settings, logger, flags: options.flags ?? {} });
  if (definitions.some((d) => d.kind === 'task')) return runTaskService(definitions, options);
  return runWorkers(definitions, options);
}
