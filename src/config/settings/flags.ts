// Command-line flags of a settings section: each model (and the process) lists the flags
// it documents, with the section key each one sets. The CLI adds them to its commands and
// turns the values given into the settings system's flag layer, spelled as typed, so a bad
// value is reported as "task.port (from flag --port): ...".

import { flagLayer, type Layer } from './settings.js';
import { attributeOf, type FlagSpec } from './flag-spec.js';

export { addFlags, attributeOf, type FlagSpec } from './flag-spec.js';

/** The values commander parsed for these flags, as a flag layer of `section`. */
export function flagLayerOf(section: string, specs: readonly FlagSpec[], values: Record<string, unknown>): Layer {
  const set: Record<string, unknown> = {};
  const spelled = new Map<string, string>();
  for (const spec of specs) {
    for (const option of [spec.option, ...(spec.alias ? [spec.alias] : [])]) {
      const value = values[attributeOf(option)];
      if (value === undefined) continue;
      set[spec.key] = value;
      spelled.set(spec.key, option.split(/[ ,]+/).find((p) => p.startsWith('--'))!);
    }
  }
  return flagLayer({ [section]: set }, (_s, key) => spelled.get(key) ?? key);
}
