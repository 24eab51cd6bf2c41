// What a module exports for `switchyard provider run` (and `switchyard run`): the task
// registrations, without the settings, which come from the settings system (flags, the
// environment, the Go provider's config file). The original's Provider interface:
// RegisterTasks(server).

import { markDefinition, modelOf } from '../../runtime/model.js';
import type { Provider } from './provider.js';

export interface ProviderDefinition {
  readonly kind: 'provider';
  /** Name used when no service_name is configured. */
  readonly defaultServiceName: string | undefined;
  registerTasks(server: Provider): void | Promise<void>;
}

/** `export default defineProvider((p) => { p.registerTask('CPUInfo', handler) })`, optionally with a default service name first. */
export function defineProvider(register: (server: Provider) => void | Promise<void>): ProviderDefinition;
export function defineProvider(defaultServiceName: string, register: (server: Provider) => void | Promise<void>): ProviderDefinition;
export function defineProvider(a: string | ((server: Provider) => void | Promise<void>), b?: (server: Provider) => void | Promise<void>): ProviderDefinition {
  const register = typeof a === 'function' ? a : b!;
  return markDefinition({ kind: 'provider' as const, defaultServiceName: typeof a === 'string' ? a : undefined, registerTasks: register }, 'provider');
}

export function isProviderDefinition(value: unknown): value is ProviderDefinition {
  return modelOf(value) === 'provider';
}
