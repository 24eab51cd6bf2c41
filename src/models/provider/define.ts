// What a module exports for `switchyard provider run`: the task registrations, without the
// configuration, which the command builds from the config file, flags and environment (the
// original's Provider interface: RegisterTasks(server)).

import type { Provider } from './provider.js';

const MARK = Symbol.for('switchyard.provider-definition');

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
  const definition = { kind: 'provider' as const, defaultServiceName: typeof a === 'string' ? a : undefined, registerTasks: register };
  Object.defineProperty(definition, MARK, { value: true });
  return definition;
}

export function isProviderDefinition(value: unknown): value is ProviderDefinition {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[MARK] === true;
}
