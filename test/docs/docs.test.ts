// The documentation must not promise what does not exist. Fails when README.md or a page
// under docs/ (or bench/RESULTS.md) names a `switchyard` command or flag the CLI's --help
// does not know, an SY_ERR_ code missing from src/errors.ts, an import specifier that is not
// a package export, a SWITCHYARD_* variable that is neither a setting nor read by the code,
// or a relative link (file or heading) that does not resolve — and when a generated
// reference (docs/reference/cli.md, configuration.md) is not what `npm run docs` writes.
// Needs the build (`npm run build`), as the CLI reference is the built CLI's help.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { anchors, codePieces, commandLines, expandBraces, links, type CodePiece } from './markdown.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []));
  return [resolve(root, 'README.md'), ...walk(resolve(root, 'docs')), resolve(root, 'bench/RESULTS.md')].filter((f) => existsSync(f));
}

interface Doc {
  readonly file: string;
  readonly text: string;
  readonly code: CodePiece[];
}

// The generators are plain .mjs scripts (npm run docs runs them without a loader).
type CliGen = { helpOfEveryCommand(): { bin: string; helps: Record<string, string> }; renderCliReference(h: unknown): string; CLI_DOC: string };
type ConfigGen = { renderConfigReference(): Promise<string>; settingEnvNames(): Promise<Set<string>>; CONFIG_DOC: string };

let docs: Doc[];
let bin: string;
let helps: Record<string, string>;
let cliGen: CliGen;
let configGen: ConfigGen;

before(async () => {
  assert.ok(existsSync(resolve(root, 'dist/cli/main.js')), 'dist/ is missing: run `npm run build` first (the CLI reference is the built CLI\'s --help)');
  cliGen = (await import(pathToFileURL(resolve(root, 'scripts/gen-cli-doc.mjs')).href)) as CliGen;
  configGen = (await import(pathToFileURL(resolve(root, 'scripts/gen-config-doc.mjs')).href)) as ConfigGen;
  ({ bin, helps } = cliGen.helpOfEveryCommand());
  docs = markdownFiles().map((file) => {
    const text = readFileSync(file, 'utf8');
    return { file: relative(root, file), text, code: codePieces(text) };
  });
});

const where = (doc: Doc, line: number) => `${doc.file}:${line}`;

/** Every --flag a command's help mentions (options and examples), and -h/--help. */
function flagsOf(path: string): Set<string> {
  return new Set(['--help', ...(helps[path] ?? '').match(/--[a-z][\w-]*/g) ?? []]);
}

test('every `switchyard <command>` and its --flags in the docs are known to the CLI\'s help', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const doc of docs) {
    for (const piece of doc.code) {
      for (const cmd of commandLines(piece)) {
        let path = '';
        let i = 0;
        for (; i < cmd.tokens.length; i++) {
          const word = cmd.tokens[i]!;
          const next = path ? `${path} ${word}` : word;
          if (helps[next] !== undefined) {
            path = next;
            continue;
          }
          // A word where a subcommand is expected, and the command has subcommands: not one of them.
          if (/^[a-z][a-z-]*$/.test(word) && (path === '' || /\nCommands:\n/.test(helps[path] ?? ''))) {
            problems.push(`${where(doc, cmd.line)}: \`${bin} ${[path, word].filter(Boolean).join(' ')}\` is not a command (in: ${cmd.source})`);
          }
          break;
        }
        checked++;
        const known = flagsOf(path);
        // Commands that pass any other --key value on (service_framework's extra config arguments) say so in their help.
        const passesOthers = /--key value/.test(helps[path] ?? '');
        for (const token of cmd.tokens.slice(i)) {
          // `[--flag]` in a usage line is a flag too.
          const flag = /^\[?(--[a-z][\w-]*)/.exec(token)?.[1];
          if (!flag || passesOthers) continue;
          if (known.has(flag) || known.has(flag.replace(/_/g, '-'))) continue;
          problems.push(`${where(doc, cmd.line)}: \`${bin}${path ? ` ${path}` : ''}\` has no flag ${flag} (in: ${cmd.source})`);
        }
      }
    }
  }
  assert.ok(checked > 20, `only ${checked} command lines found: the parser is broken`);
  assert.deepEqual(problems, []);
});

test('every flag written alone in the docs (`--flag`) belongs to some command', () => {
  const all = new Set(Object.keys(helps).flatMap((p) => [...flagsOf(p)]));
  const problems: string[] = [];
  for (const doc of docs) {
    for (const piece of doc.code) {
      if (piece.fenced) continue;
      const flag = /^(--[a-z][\w-]*)(?:[ =]\S*)?$/.exec(piece.text)?.[1];
      if (flag && !all.has(flag) && !all.has(flag.replace(/_/g, '-'))) problems.push(`${where(doc, piece.line)}: no command has ${flag}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every SY_ERR_ code in the docs exists in src/errors.ts', () => {
  const catalogue = readFileSync(resolve(root, 'src/errors.ts'), 'utf8');
  const problems: string[] = [];
  for (const doc of docs) {
    doc.text.split('\n').forEach((line, i) => {
      for (const [code] of line.matchAll(/SY_ERR_[A-Z0-9_]*[A-Z0-9]/g)) {
        if (!new RegExp(`\\b${code}\\b`).test(catalogue)) problems.push(`${where(doc, i + 1)}: ${code} is not in src/errors.ts`);
      }
    });
  }
  assert.deepEqual(problems, []);
});

test('every import of the package in the docs is one of its exports', () => {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  // The package's npm name is switchyardjs (`switchyard` on npm is someone else's); until
  // package.json says so, its current name is accepted too.
  const names = new Set([pkg.name, 'switchyardjs']);
  const subpaths = Object.keys(pkg.exports);
  const exported = (sub: string) => subpaths.some((k) => (k.includes('*') ? new RegExp(`^${k.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace('\\*', '.+')}$`).test(sub) : k === sub));
  const problems: string[] = [];
  let checked = 0;
  for (const doc of docs) {
    for (const piece of doc.code) {
      const specifiers = [
        ...[...piece.text.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2] ?? m[3]!),
        // Inline: `switchyardjs` or a subpath; a bare `switchyard` is the command, not an import.
        ...(!piece.fenced && /^(switchyardjs(\/[\w./{},-]+)?|switchyard\/[\w./{},-]+)$/.test(piece.text) ? expandBraces(piece.text) : []),
      ];
      for (const spec of specifiers) {
        const m = /^(switchyard(?:js)?)(\/.*)?$/.exec(spec);
        if (!m) continue;
        checked++;
        if (!names.has(m[1]!)) {
          problems.push(`${where(doc, piece.line)}: '${spec}' uses the old name ${m[1]}; the package is ${pkg.name}`);
          continue;
        }
        const sub = m[2] ? `.${m[2]}` : '.';
        if (!exported(sub)) problems.push(`${where(doc, piece.line)}: '${spec}' is not exported (package.json exports: ${subpaths.join(', ')})`);
      }
    }
  }
  assert.ok(checked > 10, `only ${checked} imports found: the parser is broken`);
  assert.deepEqual(problems, []);
});

/** SWITCHYARD_* names the code reads: env.X, env['X'], or a whole string literal 'X' in src/, scripts/, bench/. */
function variablesReadByCode(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name === 'node_modules' ? [] : walk(join(dir, e.name))) : /\.(ts|mts|mjs|js)$/.test(e.name) ? [join(dir, e.name)] : []));
  for (const dir of ['src', 'scripts', 'bench', 'bin']) {
    if (!existsSync(resolve(root, dir))) continue;
    for (const file of walk(resolve(root, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\benv\??\.(SWITCHYARD_\w+)|\benv\[\s*['"`](SWITCHYARD_\w+)['"`]\s*\]|['"`](SWITCHYARD_\w+)['"`]/g)) names.add((m[1] ?? m[2] ?? m[3])!);
    }
  }
  return names;
}

test('every SWITCHYARD_* variable in the docs is a setting or a variable the code reads', async () => {
  const known = new Set([...(await configGen.settingEnvNames()), ...variablesReadByCode()]);
  // Variables the CLI's help documents (computed names, e.g. the provider's SWITCHYARD_PROVIDER_*).
  for (const help of Object.values(helps)) for (const [name] of help.matchAll(/SWITCHYARD_[A-Z0-9_]*[A-Z0-9]/g)) known.add(name);
  const problems: string[] = [];
  for (const doc of docs) {
    doc.text.split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/SWITCHYARD_[A-Z0-9_]*([*{])?/g)) {
        const name = m[0].replace(/[*{]$/, '');
        if (m[1]) {
          // A family (SWITCHYARD_API_*, SWITCHYARD_{SECTION}_{KEY}): some known name must start so.
          if (![...known].some((k) => k.startsWith(name))) problems.push(`${where(doc, i + 1)}: no variable starts with ${name}`);
        } else if (name !== 'SWITCHYARD_' && !known.has(name.replace(/_+$/, ''))) {
          problems.push(`${where(doc, i + 1)}: ${name} is neither a setting nor read by the code`);
        }
      }
    });
  }
  assert.deepEqual(problems, []);
});

test('every relative link in the docs resolves to a file (and a heading, when it names one)', () => {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (file: string) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchors(readFileSync(file, 'utf8')));
    return anchorCache.get(file)!;
  };
  for (const doc of docs) {
    for (const { target, line } of links(doc.text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const file = pathPart === '' ? resolve(root, doc.file) : resolve(root, dirname(doc.file), decodeURI(pathPart));
      if (!existsSync(file)) {
        problems.push(`${where(doc, line)}: ${target} does not exist`);
        continue;
      }
      if (anchor && statSync(file).isFile() && file.endsWith('.md') && !anchorsOf(file).has(decodeURIComponent(anchor))) {
        problems.push(`${where(doc, line)}: ${target}: ${relative(root, file)} has no heading #${anchor}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('the generated references are current (npm run docs)', async () => {
  const cli = readFileSync(resolve(root, cliGen.CLI_DOC), 'utf8');
  assert.equal(cli, cliGen.renderCliReference({ bin, helps }), `${cliGen.CLI_DOC} is not what the CLI's --help says: run \`npm run docs\``);
  const config = readFileSync(resolve(root, configGen.CONFIG_DOC), 'utf8');
  assert.equal(config, await configGen.renderConfigReference(), `${configGen.CONFIG_DOC} is not what the settings schemas say: run \`npm run docs\``);
});
