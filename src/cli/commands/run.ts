// `switchyard run <module...>`: start the services the modules export on the transport,
// store and configuration the settings name, until SIGINT/SIGTERM.

import { isInstance } from '../../runtime/instances.js';
import { stopAll, stopOnSignals, type Stoppable } from '../../runtime/lifecycle.js';
import { createMetrics, startMetricsServer } from '../../observability/metrics.js';
import type { Logger } from '../../observability/logger.js';
import { workerLogListener, workerMetricsListener } from '../../models/worker/worker-observers.js';
import { createStore, createTransport, lazyConfigSource } from '../environment.js';
import { MemoryTransport } from '../../transports/memory/mod.js';
import { openInbox } from '../inbox.js';
import { loadServices } from '../load-services.js';
import { queueDefaultsOf, type Settings } from '../settings.js';
import { startServices } from '../start-services.js';
import { runApiServices, startApiServicesBeside } from './run-api-services.js';
import { runTaskService } from './run-task-service.js';

export interface RunOptions {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly out: (line: string) => void;
  /** The command's flags, for task-service settings (--port, --engine-url, ...). */
  readonly flags?: Record<string, unknown>;
}

export async function run(modules: readonly string[], options: RunOptions): Promise<number> {
  const { settings, logger } = options;
  const definitions = (await Promise.all(modules.map((m) => loadServices(m)))).flat();
  // API services alone need no system map, queues or storage: only a bus.
  if (definitions.every((d) => d.kind === 'api-service')) return runApiServices(definitions, { settings, logger, flags: options.flags ?? {} });
  if (definitions.some((d) => d.kind === 'task')) return runTaskService(definitions, options);
  const configSource = lazyConfigSource(settings);
  const config = await configSource();
  const transport = await createTransport(settings, configSource, logger);
  const store = await createStore(settings, configSource);
  const metrics = createMetrics();
  const running: Stoppable[] = [];
  try {
    await transport.start();
    running.push({ stop: () => transport.close() }, { stop: async () => store.close?.() });
    if (transport instanceof MemoryTransport) {
      // In-process queues end with the process: say what is dropped, never drop it silently.
      running.push({
        stop: async () => {
          const { waiting, delayed } = transport.activity();
          if (waiting + delayed > 0) logger.warn({ waiting, delayed }, 'memory transport: messages still queued are discarded as the process ends');
        },
      });
    }
    if (settings.metricsPort !== undefined) {
      const server = await startMetricsServer({ registry: metrics.registry, port: settings.metricsPort });
      running.push({ stop: () => server.close() });
      logger.info({ url: `${server.url}/metrics` }, 'metrics served');
    }
    running.push(...(await startApiServicesBeside(definitions, { settings, logger, flags: options.flags ?? {}, registry: metrics.registry })));
    const listeners = [workerLogListener(logger), workerMetricsListener(metrics)];
    const queueDefaults = queueDefaultsOf(settings);
    running.push(...(await startServices(definitions, {
      transport, store, config, logger, listeners, stagingMemoryBytes: settings.stagingMemoryBytes,
      ...(settings.stagingDir ? { stagingRoot: settings.stagingDir } : {}),
      ...(queueDefaults ? { queueDefaults } : {}),
    })));
    if (transport instanceof MemoryTransport) {
      const inbox = await openInbox(transport, settings.stateDir);
      running.push(inbox);
      logger.info({ inbox: inbox.url }, 'memory transport: send work with `switchyard send <queue> <id...>` from this folder');
    }
  } catch (err) {
    await stopAll(running).catch(() => undefined);
    throw err;
  }
  return runUntilSignal(running, logger, 'no new messages; finishing the ones in flight', 'unacked messages will be redelivered');
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

