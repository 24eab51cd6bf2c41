// A bus service a module exports for `switchyard run`: which APIs it uses and what it
// serves and listens to, set up on the bus the API model's runner makes (runner.ts).

import type { AnyApi } from './define.js';
import type { TypedBus } from './api-client.js';
import { markDefinition, type Marked } from '../../runtime/model.js';
import { checkApiMap } from './api-map-check.js';

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
export function apiService<const A extends Record<string, AnyApi>>(apis: A, setup: (bus: TypedBus<A>) => void | Promise<void>): ApiServiceDefinition<A> & Marked {
  checkApiMap('apiService(apis, setup)', apis);
  // Marked for the runtime (`modelOf` says "api"); `kind` stays for the checks that read it.
  return Object.freeze(markDefinition({ kind: 'api-service' as const, apis, setup }, 'api'));
}

export function isApiServiceDefinition(value: unknown): value is ApiServiceDefinition {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'api-service';
}
