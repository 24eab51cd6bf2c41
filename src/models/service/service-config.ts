// The config a service runs with (SPECS.md §2.5, start-up step 2): the JSON file loaded as
// is, merged with the extra `--key value` command-line pairs (values stay strings), then the
// service's setupConfig, then validation against its config model. A service without a
// config model gets {} and refuses a non-empty config, as the original does.

import { errors } from '../../errors.js';
import { describeProblems, problemsOf } from '../../schema/validate.js';
import type { Config, ServiceDefinition } from './definition.js';
import { argsProblems } from './type-grammar.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The original's unknown-argument rule: the extra arguments are `key value` pairs, a leading
 * "--" or "-" is stripped from the key, values stay strings; an odd count is an error.
 */
export function pairsToConfig(extra: readonly string[]): Config {
  if (extra.length % 2 !== 0) {
    throw new errors.SY_ERR_USAGE(`extra arguments come in "--key value" pairs, got ${extra.length} (${extra.map((a) => JSON.stringify(a)).join(' ')}); give every key a value`);
  }
  const out: Config = {};
  for (let i = 0; i < extra.length; i += 2) out[extra[i]!.replace(/^--?/, '')] = extra[i + 1]!;
  return out;
}

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
