// Makes a bus from the bus configuration: one transport object per distinct server (the
// memory transport once per process, so every bus of the process shares it), per-API
// settings in milliseconds, names with their placeholders expanded.

import { errors } from '../errors.js';
import { UNUSED_SETTINGS, expandName, serverOf, settingsOfApi, transportOfApi, transportsOfApi, type ApiTransports, type BusConfig, type TransportSelector } from '../config/bus-config.js';
import { createBus, installMetricsPlugin, installStatePlugin, type TypedBus } from '../models/api/mod.js';
import type { AnyApi, ApiSettings, ListenerSettings } from '../models/api/mod.js';
import type { Logger } from '../observability/logger.js';
import type { BusTransport } from '../transports/bus/bus-transport.js';
import { BusOverTransport } from '../transports/bus/bus-over-transport.js';
import { MemoryTransport } from '../transports/memory/mod.js';
import { RedisBusTransport, type RedisBusOptions } from '../transports/redis/bus/mod.js';

let processMemoryBus: BusOverTransport | undefined;

/** One API's Redis settings, from its event, rpc and result transports (one server). */
function redisOptionsOf(t: ApiTransports, fallback: TransportSelector): Omit<RedisBusOptions, 'logger'> | undefined {
  const event = t.event?.redis ?? undefined;
  const rpc = t.rpc?.redis ?? undefined;
  const result = t.result?.redis ?? undefined;
  const url = (event ?? rpc ?? result ?? (t.event || t.rpc || t.result ? undefined : fallback.redis))?.url;
  if (url === undefined) return undefined;
  return {
    url,
    ...(event ? { streamUse: event.stream_use, maxStreamLength: event.max_stream_length } : {}),
    ...(result ? { resultTtlS: result.result_ttl } : {}),
    ...(rpc?.rpc_timeout !== undefined ? { rpcExpiryS: rpc.rpc_timeout } : {}),
  };
}

function transportFor(t: ApiTransports, fallback: TransportSelector, cache: Map<string, BusTransport>, logger: Logger): BusTransport {
  const options = redisOptionsOf(t, fallback);
  if (!options) return (processMemoryBus ??= new BusOverTransport(new MemoryTransport()));
  const key = JSON.stringify(options);
  let transport = cache.get(key);
  if (!transport) {
    transport = new RedisBusTransport({ ...options, logger });
    cache.set(key, transport);
  }
  return transport;
}

/** Listener defaults of one API from its event transport: batch_size and acknowledgement_timeout. */
function listenerDefaultsOf(t: ApiTransports): Partial<ListenerSettings> {
  const event = t.event?.redis;
  return event ? { prefetch: event.batch_size, reclaimIdleMs: event.acknowledgement_timeout * 1000 } : {};
}

function apiSettings(config: BusConfig, api: string): Partial<ApiSettings> {
  const c = settingsOfApi(config, api);
  const validate = typeof c.validate === 'boolean' ? { outgoing: c.validate, incoming: c.validate } : c.validate;
  return { rpcTimeoutMs: c.rpc_timeout * 1000, eventFireTimeoutMs: c.event_fire_timeout * 1000, validate, strictValidation: c.strict_validation };
}

function checkOneTransportPerApi(config: BusConfig): void {
  for (const [api, c] of Object.entries(config.apis)) {
    const given = [c.event_transport, c.rpc_transport, c.result_transport].filter((s) => s != null).map((s) => serverOf(s!));
    if (new Set(given).size > 1) {
      throw new errors.SY_ERR_BUS_CONFIG(`apis.${api}`, ['event_transport, rpc_transport and result_transport name different transports; Switchyard carries one API on one transport: make them equal']);
    }
  }
}

export interface BusFromConfigOptions<A extends Record<string, AnyApi>> {
  readonly apis?: A;
  readonly logger: Logger;
  readonly serviceName?: string;
  readonly processName?: string;
}

/** Configs whose unused settings were logged: once per config, however many buses it makes. */
const told = new WeakSet<BusConfig>();

export function busFromConfig<const A extends Record<string, AnyApi> = {}>(config: BusConfig, options: BusFromConfigOptions<A>): TypedBus<A> {
  checkOneTransportPerApi(config);
  if (config.unused && config.unused.length > 0 && !told.has(config)) {
    told.add(config);
    options.logger.info(
      { settings: config.unused, why: Object.fromEntries(config.unused.map((path) => [path, UNUSED_SETTINGS[path.replace(/^apis\.[^.]+\./, 'apis.*.')]])) },
      `the bus configuration has ${config.unused.length} Lightbus setting(s) that Switchyard accepts and does not use: ${config.unused.join(', ')}`,
    );
  }
  const cache = new Map<string, BusTransport>();
  const schemaSelector = config.bus.schema.transport ?? transportOfApi(config, 'default');
  const named = Object.keys(config.apis).filter((a) => a !== 'default');
  const perApi: Record<string, BusTransport> = {};
  for (const api of [...named, ...Object.values(options.apis ?? {}).map((a) => a.name)]) perApi[api] = transportFor(transportsOfApi(config, api), schemaSelector, cache, options.logger);
  const fallback = transportFor(transportsOfApi(config, 'default'), schemaSelector, cache, options.logger);
  const bus = createBus({
    apis: options.apis ?? ({} as A),
    transport: { default: fallback, apis: perApi },
    serviceName: options.serviceName ?? expandName(config.service_name),
    processName: options.processName ?? expandName(config.process_name),
    logger: options.logger,
    settings: config.apis.default ? apiSettings(config, 'default') : {},
    apiSettings: Object.fromEntries(named.map((api) => [api, apiSettings(config, api)])),
    listenerDefaults: listenerDefaultsOf(transportsOfApi(config, 'default')),
    apiListenerDefaults: Object.fromEntries(named.map((api) => [api, listenerDefaultsOf(transportsOfApi(config, api))])),
    schemaTtlS: config.bus.schema.ttl,
  });
  const { internal_state: state, internal_metrics: metrics } = config.plugins;
  if (state?.enabled) installStatePlugin(bus, { pingEnabled: state.ping_enabled, pingIntervalS: state.ping_interval, metricsEnabled: metrics?.enabled ?? false });
  if (metrics?.enabled) installMetricsPlugin(bus);
  return bus;
}
