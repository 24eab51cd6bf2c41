#!/usr/bin/env node
// Writes docs/reference/configuration.md from the zod settings sections: every model's
// section as its runner offers it (`runner.settings` of src/models/<model>/*runner.ts,
// found by listing the folders, so a model whose section lands later is picked up), and
// the process settings every command shares. For each key: type, default, the
// SWITCHYARD_{SECTION}_{KEY} variable, the original system's variable, and the key's
// `.describe()` text. Reads the build (dist/), so run `npm run build` first.
//   node scripts/gen-config-doc.mjs           write the file
//   node scripts/gen-config-doc.mjs --check   exit 1 if the file is not what it would write

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeGenerated } from './docs/write-generated.mjs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CONFIG_DOC = 'docs/reference/configuration.md';

const load = (file) => import(pathToFileURL(resolve(root, file)).href);

/** The model runners in dist/models/<model>/, by listing src/models/ (runner.ts, else *-runner.ts). */
async function runners() {
  const found = [];
  for (const model of readdirSync(resolve(root, 'src/models'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const files = readdirSync(resolve(root, 'src/models', model)).filter((f) => /(^|-)runner\.ts$/.test(f)).sort((a, b) => (a === 'runner.ts' ? -1 : b === 'runner.ts' ? 1 : a.localeCompare(b)));
    for (const file of files) {
      const built = `dist/models/${model}/${file.replace(/\.ts$/, '.js')}`;
      if (!existsSync(resolve(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
      for (const value of Object.values(await load(built))) {
        if (value && typeof value === 'object' && typeof value.model === 'string' && value.settings?.schema?.shape) found.push({ model, file: `src/models/${model}/${file}`, runner: value });
      }
    }
  }
  const seen = new Set();
  return found.filter(({ runner }) => !seen.has(runner.settings) && seen.add(runner.settings));
}

/** SWITCHYARD_{SECTION}_{KEY}, from the settings system itself. */
async function envNaming() {
  const { envNameOf } = await load('dist/config/settings/settings.js');
  return envNameOf;
}

/** The process settings every command reads (flags, SWITCHYARD_*, --settings): the settings system's top-level section. */
async function processSettings() {
  const file = 'dist/cli/process-settings.js';
  if (!existsSync(resolve(root, file))) return undefined;
  const section = (await load(file)).processSettingsSection;
  return section?.schema?.shape ? { schema: section.schema, comments: new Map() } : undefined;
}

/** `/** text *\/` comments written right above `key:` lines of a source file: key → text (for schemas without .describe()). */
function docComments(file) {
  const comments = new Map();
  let text = '';
  try {
    text = readFileSync(resolve(root, file), 'utf8');
  } catch {
    return comments;
  }
  for (const m of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*(\w+):/g)) {
    comments.set(m[2], m[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '').trim()).filter(Boolean).join(' '));
  }
  return comments;
}

const def = (s) => s?._zod?.def ?? s?.def ?? {};

/** Peels optional/default/pipe wrappers; returns the inner schema and the default, if any. */
function unwrap(schema) {
  let s = schema;
  let dflt;
  let hasDefault = false;
  for (let i = 0; i < 20; i++) {
    const d = def(s);
    if (d.type === 'default' || d.type === 'prefault') {
      if (!hasDefault) {
        const v = d.defaultValue;
        dflt = typeof v === 'function' ? v() : v;
        hasDefault = true;
      }
      s = d.innerType;
    } else if (d.type === 'optional' || d.type === 'nullable' || d.type === 'readonly' || d.type === 'catch' || d.type === 'nonoptional') {
      s = d.innerType;
    } else if (d.type === 'pipe') {
      // z.preprocess(fn, T) is pipe(transform, T): the type is T's; T.transform(fn) is pipe(T, transform): T's.
      s = def(d.in).type === 'transform' ? d.out : d.in;
    } else break;
  }
  return { inner: s, dflt, hasDefault };
}

function typeOf(schema) {
  const { inner } = unwrap(schema);
  const d = def(inner);
  switch (d.type) {
    case 'string': return 'string';
    case 'number': return inner.isInt || (d.checks ?? []).some((c) => /int/.test(def(c).format ?? c?._zod?.def?.format ?? '')) || /int/.test(d.format ?? '') ? 'integer' : 'number';
    case 'int': return 'integer';
    case 'boolean': return 'boolean';
    case 'bigint': return 'bigint';
    case 'enum': return (Array.isArray(inner.options) ? inner.options : Object.values(d.entries ?? {})).map((v) => JSON.stringify(v)).join(' \\| ');
    case 'literal': return (d.values ?? []).map((v) => JSON.stringify(v)).join(' \\| ');
    case 'array': return `list of ${typeOf(d.element)}`;
    case 'record': return `mapping of ${typeOf(d.valueType)}`;
    case 'object': return 'mapping';
    case 'union': return [...new Set(d.options.map(typeOf))].join(' or ');
    default: return d.type ?? 'any';
  }
}

const descriptionOf = (schema) => {
  for (let s = schema, i = 0; s && i < 20; i++) {
    if (s.description) return s.description;
    const d = def(s);
    s = d.innerType ?? (d.type === 'pipe' ? (def(d.in).type === 'transform' ? d.out : d.in) : undefined);
  }
  return '';
};

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;');
const code = (text) => `\`${String(text).replace(/`/g, "'")}\``;

function defaultText(schema) {
  const { dflt, hasDefault } = unwrap(schema);
  if (!hasDefault) return '—';
  return code(typeof dflt === 'string' ? dflt : JSON.stringify(dflt, (_, v) => (typeof v === 'bigint' ? `${v}` : v)));
}

/** Rows for a key, and for the keys of a mapping (or of each entry of a mapping of mappings) under it. */
function rows(key, schema, env, original, comment = '') {
  const out = [[key, typeOf(schema), defaultText(schema), env, original, descriptionOf(schema) || comment]];
  const { inner } = unwrap(schema);
  const d = def(inner);
  const nested = d.type === 'object' ? { prefix: `${key}.`, shape: d.shape } : d.type === 'record' && def(unwrap(d.valueType).inner).type === 'object' ? { prefix: `${key}.{name}.`, shape: def(unwrap(d.valueType).inner).shape } : undefined;
  if (nested) for (const [k, s] of Object.entries(nested.shape)) out.push(...rows(`${nested.prefix}${k}`, s, '', '', ''));
  return out;
}

function table(sectionRows) {
  return [
    '| key | type | default | environment | original\'s name | what it does |',
    '|---|---|---|---|---|---|',
    ...sectionRows.map(([key, type, dflt, env, original, text]) => `| ${code(key)} | ${type} | ${dflt} | ${env ? code(env) : ''} | ${original ? code(original) : ''} | ${cell(text)} |`),
  ];
}

export async function renderConfigReference() {
  const envNameOf = await envNaming();
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated by scripts/gen-config-doc.mjs from the zod settings sections; do not edit: run `npm run docs`. -->',
    '',
    'Every setting, by section. How the layers combine (flags > environment > settings file > the',
    'originals\' own files > defaults), secret references and the error a mistake gets:',
    '[../configuration.md](../configuration.md). A section\'s keys go in a settings file under the',
    'section\'s name (`task:`, `api:`, …) and in the environment as `SWITCHYARD_{SECTION}_{KEY}`; where',
    'the original system has its own variable, that name works too (ours wins when both are set).',
  ];
  const found = await runners();
  const proc = await processSettings();
  const contents = [];
  if (proc) contents.push(['Process settings (every command)', 'process-settings-every-command']);
  for (const { model, runner } of found) contents.push([`${model}: section "${runner.settings.name}"`, `${model}-section-${runner.settings.name}`]);
  lines.push('', ...contents.map(([title, anchor]) => `- [${title}](#${anchor})`));
  if (proc) {
    lines.push('', '## Process settings (every command)', '', 'Top-level keys of a settings file (`--settings FILE` or `SWITCHYARD_SETTINGS`), read by `switchyard run`, `dev`,', '`send` and `put`; the flag of each is `--` and the key in kebab case (see [cli.md](cli.md)).', '');
    lines.push(...table(Object.entries(proc.schema.shape).flatMap(([key, s]) => rows(key, s, proc.envName ? proc.envName(key) : envNameOf('', key), '', proc.comments.get(key)))));
  }
  for (const { model, file, runner } of found) {
    const section = runner.settings;
    lines.push('', `## ${model}: section "${section.name}"`, '', `The ${model} model's settings (\`${file}\`, \`runner.settings\`); its transport when none is named: \`${runner.defaultTransport ?? '—'}\`.`, '');
    lines.push(...table(Object.entries(section.schema.shape).flatMap(([key, s]) => rows(key, s, envNameOf(section.name, key), section.originalEnv?.[key] ?? ''))));
  }
  return `${lines.join('\n')}\n`;
}

/** Every SWITCHYARD_* name a setting reads (for test/docs/docs.test.ts). */
export async function settingEnvNames() {
  const envNameOf = await envNaming();
  const names = new Set();
  const proc = await processSettings();
  if (proc) for (const key of Object.keys(proc.schema.shape)) names.add(proc.envName ? proc.envName(key) : envNameOf('', key));
  for (const { runner } of await runners()) {
    for (const key of Object.keys(runner.settings.schema.shape)) names.add(envNameOf(runner.settings.name, key));
    // The names a section also reads (the original's, or ours from before the section existed).
    for (const name of Object.values(runner.settings.originalEnv ?? {})) if (name.startsWith('SWITCHYARD_')) names.add(name);
  }
  return names;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = await renderConfigReference();
  writeGenerated(resolve(root, CONFIG_DOC), CONFIG_DOC, text);
  process.exit(0);
}
