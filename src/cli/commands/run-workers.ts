// `switchyard run` for modules exporting workers: the worker model's runner on the one
// Runtime until SIGINT/SIGTERM, on the transport, store and configuration the settings name.
// The transport comes from the registry in its vocabulary: "memory?…" (the embedded
// default, with the settings' queue bounds) or the broker's amqp:// URL (from the settings,
// or the configuration service's GET /rabbitmq). Logs and metrics are derived from the
// observer stream. API services exported beside the workers run on their own bus.

import type { Registry } from 'prom-client';
import { runner as workerRunner } from '../../models/worker/runner.js';
import { isWorkerDefinition, type WorkerDefinition } from '../../models/worker/worker.js';
import type { WorkerSettings } from '../../models/worker/settings.js';
import { startMetricsServer } from '../../observability/metrics.js';
import { observerLog } from '../../observability/observer-log.js';
import { observerMetrics } from '../../observability/observer-metrics.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { RunContext } from '../../runtime/model.js';
import { TransportRegistry } from '../../runtime/registry.js';
import { Runtime } from '../../runtime/runtime.js';
import { memorySpec } from '../../transports/memory/memory-url.js';
import { MemoryTransport } from '../../transports/memory/mod.js';
import { amqpUrl, createStore, lazyConfigSource } from '../environment.js';
import { openInbox } from '../inbox.js';
import type { ServiceDefinition } from '../load-services.js';
import { memoryTransportOptionsOf } from '../settings.js';
import { resolveWorkerSettings } from '../worker-settings.js';
import { startApiServicesBeside } from './run-api-services.js';
import type { RunOptions } from './run.js';

export async function runWorkers(definitions: readonly ServiceDefinition[], { settings, logger, flags = {} }: RunOptions): Promise<number> {
  const workers = definitions.filter((d): d is WorkerDefinition => isWorkerDefinition(d));
  const workerSettings = resolveWorkerSettings(flags);
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const log = observerLog(runtime.observer, logger, { handledAt: (model) => (model === workerRunner.model ? workerRunner.logHandledAt : undefined) ?? 'debug' });
  runtime.addResource({ name: 'log', stop: async () => log.flush() });
  try {
    const configSource = lazyConfigSource(settings);
    // The configuration first: a missing map or service fails before anything connects.
    await configSource();
    let store: Promise<ObjectStore> | undefined;
    const objectStore = () => (store ??= createStore(settings, configSource));
    runtime.addResource({ name: 'object store', stop: async () => void (store && (await (await store.catch(() => undefined))?.close?.())) });
    const transport = settings.transport === 'memory' ? memorySpec(memoryTransportOptionsOf(settings)) : await amqpUrl(settings, configSource);
    let registry: Registry | undefined;
    if (settings.metricsPort !== undefined) {
      const metrics = observerMetrics(runtime.observer);
      registry = metrics.registry;
      const server = await startMetricsServer({ registry, port: settings.metricsPort, health: () => runtime.health() });
      runtime.addResource({ name: 'metrics server', stop: () => server.close() });
      logger.info({ url: `${server.url}/metrics` }, 'metrics served');
    }
    // API services exported beside the workers: on a Runtime of their own (their model's runner), stopped with this one.
    for (const api of await startApiServicesBeside(definitions, { settings, logger, flags, ...(registry ? { registry } : {}) })) {
      runtime.addResource({ name: 'api services', stop: () => api.stop() });
    }
    const ctx: RunContext<WorkerSettings> = {
      logger, observer: runtime.observer, transports, settings: workerSettings, transport, stateDir: settings.stateDir,
      configSource, objectStore,
    };
    for (const component of await workerRunner.components(workers, ctx)) await runtime.add(component);
    await runtime.start();
    const queues = (await transports.open(transport, workerRunner.model, workerRunner.needs)).queues;
    if (queues instanceof MemoryTransport) {
      // In-process queues end with the process: say what is dropped, never drop it silently.
      runtime.addResource({
        name: 'memory queues check',
        stop: async () => {
          const { waiting, delayed } = queues.activity();
          if (waiting + delayed > 0) logger.warn({ waiting, delayed }, 'memory transport: messages still queued are discarded as the process ends');
        },
      });
      const inbox = await openInbox(queues, settings.stateDir);
      runtime.addResource({ name: 'inbox', stop: () => inbox.stop() });
      logger.info({ inbox: inbox.url }, 'memory transport: send work with `switchyard send <queue> <id...>` from this folder');
    }
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    log.detach();
    throw err;
  }
  return runtime.untilSignal();
}
