// A bus made the way the API model's runner makes one, from a Lightbus bus configuration
// (already parsed) read as a layer of the api settings section, on transports of a
// registry that the caller closes (or `close()` here, which also stops the bus).

import { resolveSettings } from '../../src/config/settings/settings.js';
import { busConfigLayer } from '../../src/models/api/lightbus-config-file.js';
import { openBus } from '../../src/models/api/bus-from-settings.js';
import { apiSettingsSection, type ApiModelSettings } from '../../src/models/api/settings.js';
import type { AnyApi, TypedBus } from '../../src/models/api/mod.js';
import type { Logger } from '../../src/observability/logger.js';
import type { Observer } from '../../src/observability/observer.js';
import { TransportRegistry } from '../../src/runtime/registry.js';

export function settingsFromBusConfig(data: unknown, source = 'test'): ApiModelSettings {
  return resolveSettings([apiSettingsSection] as const, [busConfigLayer(data, source)]).api;
}

export interface ConfiguredBus<A extends Record<string, AnyApi>> {
  readonly bus: TypedBus<A>;
  readonly settings: ApiModelSettings;
  /** Stops the bus and closes the registry's transports. */
  close(): Promise<void>;
}

export async function busFromConfig<const A extends Record<string, AnyApi> = {}>(
  data: unknown,
  options: { apis?: A; logger: Logger; serviceName?: string; registry?: TransportRegistry; observer?: Observer },
): Promise<ConfiguredBus<A>> {
  const settings = settingsFromBusConfig(data);
  const registry = options.registry ?? new TransportRegistry({ logger: options.logger });
  const bus = await openBus({
    settings, transport: settings.transport ?? 'memory', transports: registry, logger: options.logger,
    ...(options.apis ? { apis: options.apis } : {}), ...(options.serviceName ? { serviceName: options.serviceName } : {}), ...(options.observer ? { observer: options.observer } : {}),
  });
  return {
    bus, settings,
    close: async () => {
      await bus.stop();
      if (!options.registry) await registry.close();
    },
  };
}
