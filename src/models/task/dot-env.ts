// The reference service's own settings files as a source: pydantic-settings reads `.env`
// and `../.env` (the nearer one winning), with the same variable names as the environment.
// Each file becomes one Layer of the settings system, below the environment and a settings
// file, so a mistake in one is reported naming the file and the variable.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errors } from '../../errors.js';
import { envLayer, type Layer } from '../../config/settings/settings.js';
import { taskSettingsSection } from './settings.js';

/**
 * A `.env` file as python-dotenv reads the usual ones: `KEY=value` lines, an optional
 * `export `, # comments, values in single or double quotes (kept verbatim, \n in double
 * quotes a newline). (node:util's parseEnv needs Node 20.12; this works on every Node 20.)
 */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.indexOf(q, 1) > 0) {
      value = value.slice(1, value.indexOf(q, 1));
      if (q === '"') value = value.replace(/\\n/g, '\n');
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[m[1]!] = value;
  }
  return out;
}

/** One `.env` file as a layer of the task section (no values when the file does not exist). */
export function dotEnvLayer(path: string): Layer {
  let variables: Record<string, string> = {};
  if (existsSync(path)) {
    try {
      variables = parseDotEnv(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new errors.SY_ERR_SETTINGS(`cannot read the .env file ${path}: ${(err as Error).message}`);
    }
  }
  const { values, spelling } = envLayer([taskSettingsSection], variables);
  return { source: `.env file ${path}`, values, ...(spelling ? { spelling } : {}) };
}

/** `.env` then `../.env` of `cwd`, strongest first, as pydantic-settings reads them. */
export function dotEnvLayers(cwd: string = process.cwd()): Layer[] {
  return [dotEnvLayer(resolve(cwd, '.env')), dotEnvLayer(resolve(cwd, '..', '.env'))];
}
