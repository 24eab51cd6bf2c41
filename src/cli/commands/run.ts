// `switchyard run <module...>`: one process for any mix of models. The modules' definitions
// are sorted by model, every present model's settings section is resolved with the
// process's (cli/system.ts), each runner makes its components on the transports the
// registry opens, and one Runtime starts them and stops them on SIGINT/SIGTERM. On the
// embedded default the process hosts (or joins) the state folder's broker, so `switchyard
// send` and other `run` processes of the folder reach the same queues.

import type { Logger } from '../../observability/logger.js';
import { loadDefinitions } from '../definitions.js';
import type { ProcessSettings } from '../process-settings.js';
import { buildSystem, requireDefinitions, type System } from '../system.js';
import { startSystemDashboard } from '../system-dashboard.js';

export interface RunOptions {
  /** Commander's values of the command's flags (process flags and every model's). */
  readonly flags: Record<string, unknown>;
  readonly logger: (settings: ProcessSettings) => Logger;
  readonly out: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export async function run(modules: readonly string[], options: RunOptions): Promise<number> {
  const definitions = await loadDefinitions(modules);
  requireDefinitions(definitions, modules.join(' '));
  const system = await buildSystem({
    definitions,
    flags: options.flags,
    logger: options.logger,
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const { logger } = system;
  await startOrClose(system, async () => {
    if (system.settings.dashboardPort === undefined) return;
    logger.info({ url: await startSystemDashboard(system, system.settings.dashboardPort) }, 'dashboard served');
  });
  if (system.metricsUrl) logger.info({ url: system.metricsUrl }, 'metrics served');
  logger.info({ models: [...definitions.keys()], services: system.runtime.health().components.map((c) => c.service) }, 'running; SIGINT or SIGTERM stops');
  return system.runtime.untilSignal();
}

/** Runs `before` (e.g. a dashboard that must see every "ready"), starts the system; on failure closes what it opened and rethrows. */
export async function startOrClose(system: System, before?: () => Promise<void>): Promise<void> {
  try {
    await before?.();
    await system.runtime.start();
  } catch (err) {
    await system.runtime.stop().catch(() => undefined);
    throw err;
  }
}
