// Where the api section's values come from besides the generic layers (flags, SWITCHYARD_API_*
// and Lightbus's variables, settings files): the Lightbus bus config the strongest layer
// names (api.busConfig), read as the weakest layer; and the names Switchyard documented
// before the section existed (SWITCHYARD_BUS_CONFIG, SWITCHYARD_SERVICE_NAME,
// SWITCHYARD_PROCESS_NAME, SWITCHYARD_REMOTE_TRACES), which keep working.

import { resolveSettings, type Layer } from '../../config/settings/settings.js';
import type { Logger } from '../../observability/logger.js';
import { loadBusConfigLayer, logUnusedSettings } from './lightbus-config-file.js';
import { apiSettingsSection, type ApiModelSettings } from './settings.js';

const DOCUMENTED_ENV: Readonly<Record<string, string>> = {
  busConfig: 'SWITCHYARD_BUS_CONFIG',
  serviceName: 'SWITCHYARD_SERVICE_NAME',
  processName: 'SWITCHYARD_PROCESS_NAME',
  remoteTraces: 'SWITCHYARD_REMOTE_TRACES',
};

/** The documented SWITCHYARD_* names of api keys, as a layer (put it just above envLayer). */
export function documentedEnvLayer(env: NodeJS.ProcessEnv): Layer {
  const api: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(DOCUMENTED_ENV)) if (env[name] !== undefined && env[name] !== '') api[key] = env[name];
  return { source: 'environment variable', values: Object.keys(api).length > 0 ? { api } : {}, spelling: (_s, key) => DOCUMENTED_ENV[key] ?? key };
}

/** The bus config location the strongest layer gives, if any. */
function busConfigOf(layers: readonly Layer[]): string | undefined {
  for (const layer of layers) {
    const value = layer.values.api?.busConfig;
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/**
 * `layers` (strongest first) plus, as the weakest, the bus config they name; its Lightbus
 * settings without effect here are logged once through `logger`.
 */
export async function withBusConfigLayer(layers: readonly Layer[], logger?: Logger): Promise<Layer[]> {
  const location = busConfigOf(layers);
  if (location === undefined) return [...layers];
  const layer = await loadBusConfigLayer(location);
  if (logger) logUnusedSettings(layer, logger);
  return [...layers, layer];
}

/** The api section from `layers` (strongest first) and the bus config they name. */
export async function resolveApiSettings(layers: readonly Layer[], logger?: Logger): Promise<ApiModelSettings> {
  return resolveSettings([apiSettingsSection] as const, await withBusConfigLayer(layers, logger)).api;
}
