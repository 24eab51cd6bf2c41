// Starts the API services among the loaded definitions on one bus made from the bus
// configuration (default: the embedded memory bus), each module's setup run before start.

import { loadBusConfig, parseBusConfig } from '../config/bus-config.js';
import type { ApiServiceDefinition } from '../models/api/api-service.js';
import type { Logger } from '../observability/logger.js';
import type { Stoppable } from '../runtime/lifecycle.js';
import { busFromConfig } from './bus-environment.js';
import type { ServiceDefinition } from './load-services.js';

export interface ApiServicesOptions {
  readonly busConfig?: string | undefined;
  readonly serviceName?: string | undefined;
  readonly processName?: string | undefined;
  readonly logger: Logger;
}

export async function startApiServices(definitions: readonly ServiceDefinition[], options: ApiServicesOptions): Promise<Stoppable[]> {
  const services = definitions.filter((d): d is ApiServiceDefinition => d.kind === 'api-service');
  if (services.length === 0) return [];
  const config = options.busConfig ? await loadBusConfig(options.busConfig) : parseBusConfig({}, 'defaults');
  const apis = Object.assign({}, ...services.map((s) => s.apis));
  const bus = busFromConfig(config, {
    apis,
    logger: options.logger,
    ...(options.serviceName ? { serviceName: options.serviceName } : {}),
    ...(options.processName ? { processName: options.processName } : {}),
  });
  for (const service of services) await service.setup(bus);
  await bus.start();
  return [bus];
}
