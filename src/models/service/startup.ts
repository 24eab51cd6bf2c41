// A service's start-up before any socket opens (SPECS.md §2.5, steps 2-5), in the original's
// order: the config (setupConfig, then validation against the config model), the addresses
// (setupAddresses gets the file as it is; nested or flat), the connection and state models
// (setupConnections, setupStates), their checks, and main mode's rules. The result is the
// plan the sockets are opened from (wiring.ts).

import { errors } from '../../errors.js';
import { describeProblems, problemsOf } from '../../schema/validate.js';
import { normalizeAddresses } from './addresses.js';
import type { Addresses, Config, ConnectionModels, FlatAddresses, ServiceDefinition, StateModels } from './definition.js';
import { checkModels } from './model-check.js';
import { argsProblems } from './type-grammar.js';

export interface ServicePlan {
  readonly config: Config;
  /** Normalized to the nested shape. */
  readonly addresses: Addresses;
  readonly connections: ConnectionModels;
  readonly states: StateModels;
}

export interface StartupInput {
  /** The addresses file's content, as read (nested or flat). */
  readonly addresses?: Addresses | FlatAddresses | Record<string, unknown>;
  /** The config file with the extra pairs over it, as read. */
  readonly config?: Config;
  readonly mainMode?: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Step 2: setupConfig, then validation against the config model. A service without a config
 * model gets {} and refuses a non-empty config, as the original does.
 */
export async function setupServiceConfig(definition: ServiceDefinition, raw: Config, where: string): Promise<Config> {
  const model = definition.config;
  if (model === undefined) {
    if (Object.keys(raw).length > 0) {
      throw new errors.SY_ERR_SERVICE_DEFINITION(where, `a config was given (keys ${Object.keys(raw).map((k) => JSON.stringify(k)).join(', ')}) but the service declares no config model; add config: { required: {...}, optional: {...} } to it`);
    }
    return {};
  }
  let config: unknown = { ...raw };
  if (definition.setupConfig) {
    config = await definition.setupConfig(config as Config);
    if (!isPlainObject(config)) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupConfig must return the config object');
  }
  const schema = model as { safeParse?: (v: unknown) => { success: boolean; data?: unknown; error?: unknown } };
  if (typeof schema.safeParse === 'function') {
    const r = schema.safeParse(config);
    if (!r.success) throw new errors.SY_ERR_VALIDATION('config', describeProblems(problemsOf(r.error as never, config)));
    return r.data as Config;
  }
  const grammar = model as { required?: Record<string, unknown>; optional?: Record<string, unknown> };
  const problems = argsProblems(config, grammar.required, grammar.optional);
  if (problems.length > 0) throw new errors.SY_ERR_VALIDATION('config', describeProblems(problems));
  return config as Config;
}

/** Steps 2-5 and main mode's rules: everything checked before a socket opens. */
export async function planService(definition: ServiceDefinition, input: StartupInput, where: string): Promise<ServicePlan> {
  const config = await setupServiceConfig(definition, input.config ?? {}, where);

  let rawAddresses = (input.addresses ?? {}) as Addresses | FlatAddresses;
  if (definition.setupAddresses && Object.keys(rawAddresses).length > 0) {
    rawAddresses = await definition.setupAddresses(rawAddresses, config);
    if (!isPlainObject(rawAddresses)) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupAddresses must return the addresses object');
  }
  const addresses = normalizeAddresses(rawAddresses);

  let connections: ConnectionModels = definition.connections ?? {};
  if (definition.setupConnections) {
    connections = await definition.setupConnections(connections, config);
    if (!isPlainObject(connections)) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupConnections must return the connection models');
  }
  let states: StateModels = definition.states ?? {};
  if (definition.setupStates) {
    states = await definition.setupStates(states, config);
    if (!isPlainObject(states)) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupStates must return the state models');
  }
  checkModels(where, connections, states);

  if (input.mainMode) {
    if (typeof definition.main !== 'function') throw new errors.SY_ERR_SERVICE_MAIN_MODE(`service ${where} has no main function; add main(toSend, config) or run without -m`);
    const inStates = Object.keys(states.in ?? {});
    if (inStates.length > 0) throw new errors.SY_ERR_SERVICE_MAIN_MODE(`inbound states (${inStates.join(', ')}) are not allowed, as in the original; remove them or run without -m`);
  }
  return { config, addresses, connections, states };
}
