// The "worker" settings section as `run` and `dev` resolve it, through the settings system
// (config/settings/settings.ts), from (strongest first) the flags --staging-dir,
// --staging-memory-bytes, --queue-durable, --queue-arguments; the environment
// (SWITCHYARD_WORKER_*, then the names workers have always read: SWITCHYARD_STAGING_DIR, ...);
// the settings file (--settings or SWITCHYARD_SETTINGS: its `worker:` mapping or the same
// keys at the top level); the defaults.

import { envLayer, flagLayer, flagNameOf, resolveSettings, type Layer } from '../config/settings/settings.js';
import { WORKER_SETTING_KEYS, workerFileLayer, workerSettingsSection, type WorkerSettings } from '../models/worker/settings.js';
import { readSettingsFile } from './settings.js';

/** The worker flags given (commander's camelCase values, named as the section's keys) as the flag layer. */
export function workerFlagLayer(flags: Record<string, unknown>): Layer {
  const values: Record<string, unknown> = {};
  for (const key of WORKER_SETTING_KEYS) if (flags[key] !== undefined) values[key] = flags[key];
  // The flags keep the spelling they have always had: --staging-dir, not --worker-staging-dir.
  return flagLayer({ worker: values }, (_section, key) => flagNameOf('', key));
}

/** The worker section from flags, the environment and the settings file they name. */
export function resolveWorkerSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const sections = [workerSettingsSection] as const;
  const file = (flags.settings as string | undefined) ?? env.SWITCHYARD_SETTINGS;
  const layers = [workerFlagLayer(flags), envLayer(sections, env), ...(file ? [workerFileLayer(readSettingsFile(file), file)] : [])];
  return resolveSettings(sections, layers).worker;
}
