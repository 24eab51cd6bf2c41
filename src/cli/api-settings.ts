// The api section for the bus tools (schema, inspect, shell): the same resolution `run` and
// `dev` make (cli/system.ts) with the API model alone: flags --bus-config, --service-name,
// --process-name; the documented SWITCHYARD_BUS_CONFIG / _SERVICE_NAME / _PROCESS_NAME /
// _REMOTE_TRACES; SWITCHYARD_API_* and Lightbus's LIGHTBUS_*; the settings file's api
// section (or its old top-level keys); the bus config; the section's defaults.

import type { ApiModelSettings } from '../models/api/settings.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { ModelKind } from '../observability/observer.js';
import type { ModelRunner } from '../runtime/model.js';
import { loadRunner } from './models.js';
import { resolveSystemSettings } from './system.js';

export async function apiSettingsFromCli(flags: Record<string, unknown>, options: { env?: NodeJS.ProcessEnv; cwd?: string; logger?: Logger } = {}): Promise<ApiModelSettings> {
  const runners = new Map<ModelKind, ModelRunner>([['api', await loadRunner('api')]]);
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const { sections } = await resolveSystemSettings(runners, flags, options.env ?? process.env, options.cwd ?? process.cwd(), {}, () => logger);
  return sections.get('api') as ApiModelSettings;
}
