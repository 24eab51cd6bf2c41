// A bus service a module exports for `switchyard run`: which APIs it uses and what it
// serves and listens to, set up on a bus that the CLI makes from the bus configuration.

import type { AnyApi } from './define.js';
import type { TypedBus } from './api-client.js';

export interface ApiServiceDefinition<A extends Record<string, AnyApi> = Record<string, AnyApi>> {
  readonly kind: 'api-service';
  readonly apis: A;
  /** Registers served APIs, listeners, hooks and schedules; runs before the bus starts. */
  readonly setup: (bus: TypedBus<A>) => void | Promise<void>;
}

/**
 *     export default apiService({ auth }, (bus) => {
 *       bus.serve(auth, { check_password: ... });
 *       bus.auth.user_registered.listen(sendWelcome, { listenerName: 'send_welcome' });
 *     });
 */
export function apiService<const A extends Record<string, AnyApi>>(apis: A, setup: (bus: TypedBus<A>) => void | Promise<void>): ApiServiceDefinition<A> {
  return Object.freeze({ kind: 'api-service', apis, setup });
}

export function isApiServiceDefinition(value: unknown): value is ApiServiceDefinition {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'api-service';
}
