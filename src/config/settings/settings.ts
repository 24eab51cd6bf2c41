// THE one settings system. Every model and every transport declares its settings as a zod
// section; sections compose into one schema; values come from layers with one precedence,
// strongest first:
//
//   flags  >  environment variables  >  settings file  >  the originals' own files  >  defaults
//
// ("the originals' own files": a Lightbus bus config, service_framework's addresses and
// config files, a Core-engine .env, a provider's JSON config: sources read into sections,
// not systems of their own). Each value keeps where it came from, so a mistake is reported
// once, in one shape: SY_ERR_SETTINGS naming the key, its source and what is allowed.
// Secret references (pass:/env:/file:) stay strings here; config/secrets.ts resolves them,
// in one place, when a component needs the value.

import { z } from 'zod';
import { errors } from '../../errors.js';

/** A model's or transport's settings: a name (its key in files, its env prefix) and a zod object. */
export interface SettingsSection<S extends z.ZodObject = z.ZodObject> {
  /** Key in a settings file ("" for top-level process settings) and part of env names. */
  readonly name: string;
  readonly schema: S;
  /**
   * Environment variables the original system reads, by key (e.g. task: port ← SERVICE_PORT).
   * Read besides SWITCHYARD_{SECTION}_{KEY}; ours wins when both are set.
   */
  readonly originalEnv?: Readonly<Partial<Record<keyof z.infer<S> & string, string>>>;
}

export function defineSection<const N extends string, S extends z.ZodObject>(name: N, schema: S, originalEnv?: SettingsSection<S>['originalEnv']): SettingsSection<S> & { readonly name: N } {
  return originalEnv ? { name, schema, originalEnv } : { name, schema };
}

/** Values from one source, by section then key, with a description of the source. */
export interface Layer {
  /** "flag", "environment variable", "settings file a.yaml", ".env file", "bus config b.yaml", ... */
  readonly source: string;
  /** section name ("" = top level) → key → value */
  readonly values: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** How one key is spelled in this source, for messages (e.g. "--socket-dir", "SERVICE_PORT"). */
  spelling?(section: string, key: string): string;
}

export type SettingsOf<Sections extends readonly SettingsSection[]> = {
  [S in Sections[number] as S['name']]: z.output<S['schema']>;
};

/** SWITCHYARD_{SECTION}_{KEY}: SWITCHYARD_PROVIDER_SOCKET_DIR, SWITCHYARD_LOG_LEVEL. */
export function envNameOf(section: string, key: string): string {
  const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c}`).replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return ['SWITCHYARD', section ? snake(section) : '', snake(key)].filter(Boolean).join('_');
}

/** --{section}-{key} in kebab case, as commander spells flags (top level: --{key}). */
export function flagNameOf(section: string, key: string): string {
  const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, '-');
  return `--${section ? `${kebab(section)}-` : ''}${kebab(key)}`;
}

/** Keys of a section's schema. */
function keysOf(section: SettingsSection): string[] {
  return Object.keys(section.schema.shape);
}

/** The environment as a layer: SWITCHYARD_* names, then the originals' names for keys not set by ours. */
export function envLayer(sections: readonly SettingsSection[], env: NodeJS.ProcessEnv): Layer {
  const values: Record<string, Record<string, unknown>> = {};
  const spelled = new Map<string, string>();
  for (const section of sections) {
    for (const key of keysOf(section)) {
      const ours = envNameOf(section.name, key);
      const original = section.originalEnv?.[key];
      const name = env[ours] !== undefined && env[ours] !== '' ? ours : original !== undefined && env[original] !== undefined && env[original] !== '' ? original : undefined;
      if (name === undefined) continue;
      (values[section.name] ??= {})[key] = env[name];
      spelled.set(`${section.name}.${key}`, name);
    }
  }
  return { source: 'environment variable', values, spelling: (s, k) => spelled.get(`${s}.${k}`) ?? envNameOf(s, k) };
}

/** A settings file's parsed content as a layer: top-level keys, and one mapping per section. */
export function fileLayer(sections: readonly SettingsSection[], data: Record<string, unknown>, file: string): Layer {
  const named = new Set(sections.map((s) => s.name).filter(Boolean));
  const top: Record<string, unknown> = {};
  const values: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(data)) {
    if (named.has(key)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new errors.SY_ERR_SETTINGS(`${key} (from settings file ${file}): must be a mapping of ${key} settings`);
      }
      values[key] = value as Record<string, unknown>;
    } else {
      top[key] = value;
    }
  }
  if (Object.keys(top).length > 0) values[''] = top;
  return { source: `settings file ${file}`, values };
}

/**
 * Merges the layers (later ones weaker: pass them strongest first) and checks each section
 * against its schema. Throws one SY_ERR_SETTINGS listing every problem with its key and source.
 */
export function resolveSettings<const Sections extends readonly SettingsSection[]>(sections: Sections, layers: readonly Layer[]): SettingsOf<Sections> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const known = new Set(sections.map((s) => s.name));
  for (const layer of layers) {
    for (const name of Object.keys(layer.values)) {
      if (known.has(name)) continue;
      const keys = Object.keys(layer.values[name] ?? {});
      if (name === '') problems.push(`unknown setting(s) ${keys.join(', ')} (from ${layer.source}); known sections: ${[...known].filter(Boolean).join(', ')}`);
      else problems.push(`unknown settings section "${name}" (from ${layer.source}); known: ${[...known].filter(Boolean).join(', ')}`);
    }
  }
  for (const section of sections) {
    const merged: Record<string, unknown> = {};
    const origin: Record<string, string> = {};
    for (const layer of [...layers].reverse()) {
      for (const [key, value] of Object.entries(layer.values[section.name] ?? {})) {
        if (value === undefined) continue;
        merged[key] = value;
        const spelled = layer.spelling?.(section.name, key);
        origin[key] = spelled ? `${layer.source} ${spelled}` : layer.source;
      }
    }
    const parsed = section.schema.strict().safeParse(merged);
    if (parsed.success) {
      out[section.name] = parsed.data;
      continue;
    }
    const prefix = section.name ? `${section.name}.` : '';
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const from = [...new Set(issue.keys.map((k) => origin[k]).filter(Boolean))].join(', ');
        problems.push(`unknown setting(s) ${issue.keys.map((k) => prefix + k).join(', ')}${from ? ` (from ${from})` : ''}; known: ${keysOf(section).map((k) => prefix + k).join(', ')}`);
        continue;
      }
      const key = String(issue.path[0] ?? '');
      const path = issue.path.map(String).join('.');
      problems.push(`${prefix}${path}${origin[key] ? ` (from ${origin[key]})` : ''}: ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new errors.SY_ERR_SETTINGS(problems.join('; '));
  return out as SettingsOf<Sections>;
}

/**
 * Command-line values as a layer. The CLI knows which flag feeds which section key (an
 * original's spelling such as `--socket_dir` included) and says how each was spelled.
 */
export function flagLayer(values: Record<string, Record<string, unknown>>, spelling: (section: string, key: string) => string = flagNameOf): Layer {
  return { source: 'flag', values, spelling };
}
