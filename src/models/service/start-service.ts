// Running one service outside `switchyard run`/`dev` (tests, embedding in a program of your
// own): the same component the runner makes, on a socket factory you give, started at once.
// Its events go to `observer` when given; nothing else watches it.

import { createLogger, type Logger } from '../../observability/logger.js';
import { silentEmitter, type Observer } from '../../observability/observer.js';
import type { SocketFactory } from '../../transports/sockets.js';
import { ServiceComponent, type RunningService } from './component.js';
import type { Addresses, Config, FlatAddresses, ServiceDefinition } from './definition.js';

export interface ServiceEnvironment {
  readonly sockets: SocketFactory;
  /** addresses.json's content: nested (0.0.3) or flat (0.0.19+, connections only). */
  readonly addresses?: Addresses | FlatAddresses;
  /** The config file merged with extra CLI pairs, before setupConfig and validation. */
  readonly config?: Config;
  readonly logger?: Logger;
  /** Main mode (-m): run `main`, then stop. */
  readonly mainMode?: boolean;
  /** For logs and events; default the definition's name, or "service". */
  readonly name?: string;
  /** The observer stream its events go to (received, handled, failed, rejected, sent, called). */
  readonly observer?: Observer;
  /** Per receiving socket; default the socket factory's. */
  readonly maxMessageSize?: number;
}

export async function startService(definition: ServiceDefinition, env: ServiceEnvironment): Promise<RunningService> {
  const name = env.name ?? definition.name ?? 'service';
  const component = new ServiceComponent({
    definition, name, sockets: env.sockets, transport: env.sockets.name,
    logger: env.logger ?? createLogger({ level: 'silent' }),
    emitter: env.observer ? env.observer.for({ model: 'service', service: name, transport: env.sockets.name }) : silentEmitter,
    ...(env.addresses ? { addresses: env.addresses } : {}),
    ...(env.config ? { config: env.config } : {}),
    ...(env.mainMode ? { mainMode: true } : {}),
    ...(env.maxMessageSize !== undefined ? { maxMessageSize: env.maxMessageSize } : {}),
  });
  await component.start();
  return component;
}
