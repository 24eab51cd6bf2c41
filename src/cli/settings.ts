// The process settings of the one-shot commands (send, put, queues, dead-letters, ...): the
// process section of the one settings system (cli/process-settings.ts), from (strongest
// first) the flags, SWITCHYARD_* environment variables and the settings file's top-level
// keys. `run` and `dev` resolve it together with every model's section (cli/system.ts).

import { flagLayerOf } from '../config/settings/flags.js';
import { envLayer, fileLayer, resolveSettings, type Layer } from '../config/settings/settings.js';
import { MODEL_KINDS } from '../observability/observer.js';
import { processFlags, processSettingsSection, type ProcessSettings } from './process-settings.js';
import { readSettingsFile } from './settings-file.js';

export type Settings = ProcessSettings;

/** The settings file's top-level (process) keys; the models' sections are theirs to read. */
function processKeysOf(data: Record<string, unknown>): Record<string, unknown> {
  const models = new Set<string>(MODEL_KINDS);
  return Object.fromEntries(Object.entries(data).filter(([key]) => !models.has(key)));
}

export function loadSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ProcessSettings {
  const sections = [processSettingsSection] as const;
  const file = (flags.settings as string | undefined) ?? env.SWITCHYARD_SETTINGS;
  const layers: Layer[] = [flagLayerOf('', processFlags, flags), envLayer(sections, env)];
  if (file) layers.push(fileLayer(sections, processKeysOf(readSettingsFile(file)), file));
  return resolveSettings(sections, layers)[''];
}
