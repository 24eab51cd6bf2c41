// The api section as the CLI's commands resolve it today (the lead folds this into the
// one `run`): flags --bus-config, --service-name, --process-name; the documented
// SWITCHYARD_BUS_CONFIG / _SERVICE_NAME / _PROCESS_NAME / _REMOTE_TRACES; SWITCHYARD_API_*
// and Lightbus's LIGHTBUS_*; the settings file's busConfig, serviceName and processName;
// the bus config; the section's defaults — strongest first.

import { envLayer, flagLayer, type Layer } from '../config/settings/settings.js';
import { apiSettingsSection, type ApiModelSettings } from '../models/api/settings.js';
import { documentedEnvLayer, resolveApiSettings } from '../models/api/settings-sources.js';
import type { Logger } from '../observability/logger.js';
import type { Settings } from './settings.js';

const FLAGS = { busConfig: '--bus-config', serviceName: '--service-name', processName: '--process-name' } as const;
type FlagKey = keyof typeof FLAGS;

/** Commander's values of the API flags as the flag layer. */
export function apiFlagLayer(flags: Record<string, unknown>): Layer {
  const api: Record<string, unknown> = {};
  for (const key of Object.keys(FLAGS) as FlagKey[]) if (flags[key] !== undefined) api[key] = flags[key];
  return flagLayer(Object.keys(api).length > 0 ? { api } : {}, (_s, key) => FLAGS[key as FlagKey] ?? key);
}

/**
 * The settings file's top-level busConfig / serviceName / processName (read by the CLI's
 * settings), for the keys neither a flag nor the environment gave.
 */
function settingsFileLayer(settings: Settings | undefined, flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Layer {
  const file = (flags.settings as string | undefined) ?? env.SWITCHYARD_SETTINGS;
  const api: Record<string, unknown> = {};
  const envNames: Record<FlagKey, string> = { busConfig: 'SWITCHYARD_BUS_CONFIG', serviceName: 'SWITCHYARD_SERVICE_NAME', processName: 'SWITCHYARD_PROCESS_NAME' };
  if (settings && file) {
    for (const key of Object.keys(FLAGS) as FlagKey[]) {
      if (settings[key] !== undefined && flags[key] === undefined && !env[envNames[key]]) api[key] = settings[key];
    }
  }
  return { source: `settings file ${file ?? ''}`.trim(), values: Object.keys(api).length > 0 ? { api } : {} };
}

export function apiSettingsFromCli(flags: Record<string, unknown>, options: { settings?: Settings; env?: NodeJS.ProcessEnv; logger?: Logger } = {}): Promise<ApiModelSettings> {
  const env = options.env ?? process.env;
  return resolveApiSettings(
    [apiFlagLayer(flags), documentedEnvLayer(env), envLayer([apiSettingsSection], env), settingsFileLayer(options.settings, flags, env)],
    options.logger,
  );
}
