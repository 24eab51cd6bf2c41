// A bus made from the api settings section, on transports the runtime's registry opens:
// the model's transport for every API without one of its own and for schemas, one more per
// API that names another; per-API settings and listener defaults from the section's `apis`
// entries; names with their placeholders expanded; Lightbus's plugins as the section says.
// The runner (runner.ts) and the bus tools (cli/commands/bus-tools.ts) both make theirs here.

import type { Logger } from '../../observability/logger.js';
import type { Observer } from '../../observability/observer.js';
import type { TransportRegistry } from '../../runtime/registry.js';
import { errors } from '../../errors.js';
import type { BusTransport } from '../../transports/bus/bus-transport.js';
import { createBus, type TypedBus } from './api-client.js';
import type { AnyApi } from './define.js';
import { expandName } from './name-placeholders.js';
import { installMetricsPlugin } from './plugins/metrics-plugin.js';
import { installStatePlugin } from './plugins/state-plugin.js';
import { apiSettingsOf, listenerSettingsOf, type ApiModelSettings } from './settings.js';

/** The capabilities the API model needs of a transport. */
export const API_NEEDS = ['bus'] as const;

export interface OpenBusOptions<A extends Record<string, AnyApi>> {
  readonly settings: ApiModelSettings;
  /** The model's transport, in the registry's vocabulary ("memory", "redis://…"). */
  readonly transport: string;
  readonly transports: TransportRegistry;
  readonly logger: Logger;
  /** The observer stream the bus reports to. */
  readonly observer?: Observer;
  /** The APIs the bus gets typed clients of, by key. */
  readonly apis?: A;
  /** Instead of the settings' service name (the bus tools name themselves). */
  readonly serviceName?: string;
}

async function busOf(transports: TransportRegistry, spec: string): Promise<BusTransport> {
  return (await transports.facet(spec, 'api', API_NEEDS, 'bus')).facet;
}

export async function openBus<const A extends Record<string, AnyApi> = {}>(options: OpenBusOptions<A>): Promise<TypedBus<A>> {
  const { settings } = options;
  const perApi: Record<string, BusTransport> = {};
  for (const [api, entry] of Object.entries(settings.apis)) {
    if (api !== 'default' && entry.transport !== undefined && entry.transport !== options.transport) perApi[api] = await busOf(options.transports, entry.transport);
  }
  const fallback = settings.apis.default;
  const named = Object.entries(settings.apis).filter(([api]) => api !== 'default');
  const bus = createBus({
    apis: options.apis ?? ({} as A),
    transport: { default: await busOf(options.transports, fallback?.transport ?? options.transport), apis: perApi },
    // The registry opened them and closes them after every component stopped.
    closeTransports: false,
    serviceName: options.serviceName ?? expandName(settings.serviceName),
    processName: expandName(settings.processName),
    logger: options.logger,
    ...(options.observer ? { observer: options.observer } : {}),
    settings: fallback ? apiSettingsOf(fallback) : {},
    apiSettings: Object.fromEntries(named.map(([api, entry]) => [api, apiSettingsOf(entry)])),
    listenerDefaults: fallback ? listenerSettingsOf(fallback) : {},
    apiListenerDefaults: Object.fromEntries(named.map(([api, entry]) => [api, listenerSettingsOf(entry)])),
    schemaTtlS: settings.schemaTtl,
    ...(settings.remoteTraces !== undefined ? { remoteTraces: settings.remoteTraces } : {}),
  });
  const { internalState: state, internalMetrics: metrics } = settings.plugins;
  if (state.enabled) installStatePlugin(bus, { pingEnabled: state.pingEnabled, pingIntervalS: state.pingInterval, metricsEnabled: metrics.enabled });
  if (metrics.enabled) installMetricsPlugin(bus);
  return bus;
}
