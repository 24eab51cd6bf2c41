// The task section resolved outside `switchyard run` (embedding a task service in one's own
// program, and tests): the same layers `run` uses for this section, strongest first: the
// flags below, the environment (SWITCHYARD_TASK_*, then the Core engine's names), `.env`
// and `../.env`, the defaults.

import { flagLayerOf } from '../../config/settings/flags.js';
import { TASK_FLAGS } from './flags.js';
import { envLayer, resolveSettings, type Layer } from '../../config/settings/settings.js';
import { dotEnvLayers } from './dot-env.js';
import { taskSettingsSection, type TaskSettings } from './settings.js';

export { TASK_FLAGS } from './flags.js';

/** Commander's values of TASK_FLAGS as the settings system's flag layer. */
export function taskFlagLayer(flags: Record<string, unknown>): Layer {
  return flagLayerOf('task', TASK_FLAGS, flags);
}

/** The task section from flags, environment and the .env files of `cwd`. */
export function resolveTaskSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): TaskSettings {
  const sections = [taskSettingsSection] as const;
  return resolveSettings(sections, [taskFlagLayer(flags), envLayer(sections, env), ...dotEnvLayers(cwd)]).task;
}
