// `switchyard run` for modules exporting apiService(...) definitions: one bus made by the
// API model's runner on the one Runtime, from the "api" settings section (cli/api-settings.ts),
// on the transport the registry opens (memory, the embedded default, unless the settings
// or the bus config name Redis). It stays up until SIGINT/SIGTERM (the Runtime keeps the
// process alive even on the in-process transport), and serves /metrics, /health and /ready
// with --metrics-port. Beside workers (run.ts), the same components run on a Runtime of
// their own whose stop is one more thing `run` stops.

import type { Registry } from 'prom-client';
// The API model's runner is loaded when API services run, not when `run` starts workers.
import type { ApiModelSettings, ApiServiceDefinition } from '../../models/api/mod.js';
import type { Logger } from '../../observability/logger.js';
import { startMetricsServer } from '../../observability/metrics.js';
import { observerMetrics } from '../../observability/observer-metrics.js';
import type { Stoppable } from '../../runtime/lifecycle.js';
import type { RunContext } from '../../runtime/model.js';
import { TransportRegistry } from '../../runtime/registry.js';
import { Runtime } from '../../runtime/runtime.js';
import { apiSettingsFromCli } from '../api-settings.js';
import { createStore, lazyConfigSource } from '../environment.js';
import type { ServiceDefinition } from '../load-services.js';
import type { Settings } from '../settings.js';

export interface ApiRunOptions {
  readonly settings: Settings;
  readonly logger: Logger;
  /** The command's flags (--bus-config, --service-name, --process-name, --settings). */
  readonly flags?: Record<string, unknown>;
}

const isApiService = (d: ServiceDefinition): d is ApiServiceDefinition => d.kind === 'api-service';

/** A Runtime holding the API model's components for `definitions`, not yet started. */
async function apiRuntime(definitions: readonly ServiceDefinition[], { settings, logger, flags = {} }: ApiRunOptions): Promise<Runtime> {
  const [apiSettings, { runner }] = await Promise.all([apiSettingsFromCli(flags, { settings, logger }), import('../../models/api/runner.js')]);
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const configSource = lazyConfigSource(settings);
  const ctx: RunContext<ApiModelSettings> = {
    logger, observer: runtime.observer, transports, settings: apiSettings, transport: runner.defaultTransport, stateDir: settings.stateDir,
    configSource, objectStore: () => createStore(settings, configSource),
  };
  try {
    for (const component of await runner.components(definitions.filter(isApiService), ctx)) await runtime.add(component);
  } catch (err) {
    await transports.close();
    throw err;
  }
  return runtime;
}

/** Runs the API services alone until SIGINT/SIGTERM; metrics and health on --metrics-port. */
export async function runApiServices(definitions: readonly ServiceDefinition[], options: ApiRunOptions): Promise<number> {
  const { settings, logger } = options;
  const runtime = await apiRuntime(definitions, options);
  try {
    if (settings.metricsPort !== undefined) {
      const metrics = observerMetrics(runtime.observer);
      const server = await startMetricsServer({ registry: metrics.registry, port: settings.metricsPort, health: () => runtime.health() });
      runtime.addResource({ name: 'metrics server', stop: () => server.close() });
      logger.info({ url: `${server.url}/metrics` }, 'metrics served');
    }
    await runtime.start();
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  return runtime.untilSignal();
}

/**
 * Starts the API services beside other models run by `run` (workers): their metrics go to
 * `registry` (the process's one, served on --metrics-port). Returns what to stop.
 */
export async function startApiServicesBeside(definitions: readonly ServiceDefinition[], options: ApiRunOptions & { readonly registry?: Registry }): Promise<Stoppable[]> {
  if (!definitions.some(isApiService)) return [];
  const runtime = await apiRuntime(definitions, options);
  if (options.registry) observerMetrics(runtime.observer, { registry: options.registry, processMetrics: false });
  await runtime.start();
  return [{ stop: () => runtime.stop() }];
}
