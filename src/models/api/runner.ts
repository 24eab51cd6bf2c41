// The API model's runner: what `switchyard run` and `dev` call with the apiService(...)
// definitions of the modules they load. Every API service of a process shares ONE bus (one
// Lightbus "service": one service name, one process name in every listener group), made
// from the "api" settings section on the transport the registry opens, with each
// definition's setup run on it before it starts. The bus is the component: the runtime
// starts it (schemas stored, calls served, listeners running, onStart hooks, schedules) and
// stops it (schedules, listeners and calls drain, onStop hooks); the registry closes the
// transport after.
//
// Which transport: the section's `transport` (from SWITCHYARD_API_TRANSPORT, a settings
// file or the bus config's transports) when it names one, else ctx.transport ("memory",
// the embedded default, unless the caller chose another).

import type { ModelRunner } from '../../runtime/model.js';
import type { Component } from '../../runtime/runtime.js';
import type { Edge } from '../../observability/observer.js';
import { createLogger } from '../../observability/logger.js';
import { TransportRegistry } from '../../runtime/registry.js';
import type { TypedBus } from './api-client.js';
import type { ApiServiceDefinition } from './api-service.js';
import type { AnyApi } from './define.js';
import { API_FLAGS } from './flags.js';
import { API_NEEDS, openBus } from './bus-from-settings.js';
import { warnIfGeneratedName } from './generated-name-warning.js';
import { loadBusConfigLayer, logUnusedSettings } from './lightbus-config-file.js';
import { documentedEnvLayer } from './settings-sources.js';
import { apiSettingsSection, type ApiModelSettings } from './settings.js';

/** Every API the definitions use, by key (later definitions win a key, as one bus has one client per key). */
function apisOf(definitions: readonly ApiServiceDefinition[]): Record<string, AnyApi> {
  return Object.assign({}, ...definitions.map((d) => d.apis)) as Record<string, AnyApi>;
}

/** The transport the section names, else the one the caller chose. */
export function apiTransportOf(settings: ApiModelSettings, chosen: string): string {
  return settings.transport ?? chosen;
}

/** Runs each definition's setup on `bus`, in order. */
async function setUp(bus: TypedBus<Record<string, AnyApi>>, definitions: readonly ApiServiceDefinition[]): Promise<void> {
  for (const d of definitions) await d.setup(bus);
}

export const runner: ModelRunner<ApiServiceDefinition, ApiModelSettings> = {
  model: 'api',
  settings: apiSettingsSection,
  flags: API_FLAGS,
  needs: API_NEEDS,
  defaultTransport: 'memory',
  // On the process's transport (memory, redis://) when it carries a bus; else the embedded default.
  sharesProcessTransport: true,
  envLayers: (env) => [documentedEnvLayer(env)],
  // The Lightbus bus config the other layers name, weakest of all.
  async originalLayers(first, { logger }) {
    if (!first.busConfig) return [];
    const layer = await loadBusConfigLayer(first.busConfig);
    logUnusedSettings(layer, logger);
    return [layer];
  },

  async components(definitions, ctx): Promise<Component[]> {
    if (definitions.length === 0) return [];
    const bus = await openBus({
      settings: ctx.settings,
      transport: apiTransportOf(ctx.settings, ctx.transport),
      transports: ctx.transports,
      logger: ctx.logger,
      observer: ctx.observer,
      apis: apisOf(definitions),
    });
    await setUp(bus, definitions);
    warnIfGeneratedName(ctx.logger, ctx.settings.serviceName, bus.serviceName, bus.describe().listeners.map((l) => l.name));
    return [bus];
  },

  /**
   * The edges without running anything: each setup runs on a bus over a private in-process
   * transport that is never started (setups only register what the bus serves and listens to).
   */
  async edges(definitions, ctx) {
    if (definitions.length === 0) return [];
    const transports = new TransportRegistry({ logger: createLogger({ level: 'silent' }) });
    try {
      const apis = Object.fromEntries(Object.entries(ctx.settings.apis).map(([name, { transport: _, ...entry }]) => [name, entry]));
      const bus = await openBus({ settings: { ...ctx.settings, apis }, transport: 'memory', transports, logger: ctx.logger, apis: apisOf(definitions) });
      await setUp(bus, definitions);
      const { inputs, outputs } = bus.edges();
      return [{ service: bus.serviceName, inputs: inputs as Edge[], outputs: outputs as Edge[] }];
    } finally {
      await transports.close();
    }
  },
};
