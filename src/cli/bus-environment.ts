// Makes a bus from the bus configuration: one transport object per distinct server (the
// memory transport once per process, so every bus of the process shares it), per-API
// settings in milliseconds, names with their placeholders expanded.

import { errors } from '../errors.js';
import { expandName, settingsOfApi, transportOfApi, type BusConfig, type TransportSelector } from '../config/bus-config.js';
import { createBus, installMetricsPlugin, installStatePlugin, type TypedBus } from '../models/api/mod.js';
import type { AnyApi, ApiSettings } from '../models/api/mod.js';
import type { Logger } from '../observability/logger.js';
import type { BusTransport } from '../transports/bus/bus-transport.js';
import { BusOverTransport } from '../transports/bus/bus-over-transport.js';
import { MemoryTransport } from '../transports/memory/mod.js';
import { RedisBusTransport } from '../transports/redis/bus/mod.js';

let processMemoryBus: BusOverTransport | undefined;

function transportFor(selector: TransportSelector, cache: Map<string, BusTransport>, logger: Logger): BusTransport {
  if ('memory' in selector) return (processMemoryBus ??= new BusOverTransport(new MemoryTransport()));
  const r = selector.redis;
  const key = JSON.stringify(r);
  let t = cache.get(key);
  if (!t) {
    t = new RedisBusTransport({ url: r.url, logger, streamUse: r.stream_use, maxStreamLength: r.max_stream_length, resultTtlS: r.result_ttl });
    cache.set(key, t);
  }
  return t;
}

function apiSettings(config: BusConfig, api: string): Partial<ApiSettings> {
  const c = settingsOfApi(config, api);
  const validate = typeof c.validate === 'boolean' ? { outgoing: c.validate, incoming: c.validate } : c.validate;
  return { rpcTimeoutMs: c.rpc_timeout * 1000, eventFireTimeoutMs: c.event_fire_timeout * 1000, validate, strictValidation: c.strict_validation };
}

function checkOneTransportPerApi(config: BusConfig): void {
  for (const [api, c] of Object.entries(config.apis)) {
    const given = [c.event_transport, c.rpc_transport, c.result_transport].filter(Boolean).map((s) => JSON.stringify(s));
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

export function busFromConfig<const A extends Record<string, AnyApi> = {}>(config: BusConfig, options: BusFromConfigOptions<A>): TypedBus<A> {
  checkOneTransportPerApi(config);
  const cache = new Map<string, BusTransport>();
  const schemaSelector = config.bus.schema.transport ?? transportOfApi(config, 'default');
  const named = Object.keys(config.apis).filter((a) => a !== 'default');
  const perApi: Record<string, BusTransport> = {};
  for (const api of [...named, ...Object.values(options.apis ?? {}).map((a) => a.name)]) perApi[api] = transportFor(transportOfApi(config, api), cache, options.logger);
  const fallback = config.apis.default ? transportFor(transportOfApi(config, 'default'), cache, options.logger) : transportFor(schemaSelector, cache, options.logger);
  const bus = createBus({
    apis: options.apis ?? ({} as A),
    transport: { default: fallback, apis: perApi },
    serviceName: options.serviceName ?? expandName(config.service_name),
    processName: options.processName ?? expandName(config.process_name),
    logger: options.logger,
    settings: config.apis.default ? apiSettings(config, 'default') : {},
    apiSettings: Object.fromEntries(named.map((api) => [api, apiSettings(config, api)])),
    schemaTtlS: config.bus.schema.ttl,
  });
  const { internal_state: state, internal_metrics: metrics } = config.plugins;
  if (state?.enabled) installStatePlugin(bus, { pingEnabled: state.ping_enabled, pingIntervalS: state.ping_interval, metricsEnabled: metrics?.enabled ?? false });
  if (metrics?.enabled) installMetricsPlugin(bus);
  return bus;
}
