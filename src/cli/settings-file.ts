// A settings file (--settings or SWITCHYARD_SETTINGS): YAML or JSON, a mapping of
// top-level (process) settings and one mapping per model section. Keys that settings files
// have always held at the top level but that now belong to a model's section (the worker's
// staging and queue defaults, the API's bus settings) are moved there, so old files keep
// working.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { errors } from '../errors.js';

/** Flat keys that belong to a model's section now: key → section. */
export const LEGACY_FLAT_KEYS: Readonly<Record<string, string>> = {
  stagingDir: 'worker',
  stagingMemoryBytes: 'worker',
  queueDurable: 'worker',
  queueArguments: 'worker',
  busConfig: 'api',
  serviceName: 'api',
  processName: 'api',
};

export function readSettingsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`cannot read settings file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`settings file ${file} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new errors.SY_ERR_SETTINGS(`settings file ${file} must hold a mapping of setting: value`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const section = LEGACY_FLAT_KEYS[key];
    if (section) {
      const into = (out[section] ??= {}) as Record<string, unknown>;
      if (into[key] === undefined) into[key] = value;
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof out[key] === 'object' && out[key] !== null) {
      Object.assign(out[key] as Record<string, unknown>, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}
