#!/usr/bin/env node
// Prints, as one JSON object, what `switchyard <command> --help` prints for every command and
// subcommand (key: the command path, "" for the top level). It calls the same `main` that
// bin/switchyard.js calls, once per command, in one process: spawning the CLI ~25 times
// would cost a second or more each on a busy machine. Run with stdout piped (not a TTY),
// so commander wraps at 80 columns and prints no colours, as `--help | cat` does.
// Used by scripts/gen-cli-doc.mjs and test/docs/docs.test.ts.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const binName = Object.keys(pkg.bin ?? {})[0] ?? 'switchyard';
const bin = resolve(root, pkg.bin?.[binName] ?? 'bin/switchyard.js');
// bin/switchyard.js is `import { main } from '<module>'; await main(process.argv)`: find that module.
const mainModule = /import\s*\{\s*main\s*\}\s*from\s*['"]([^'"]+)['"]/.exec(readFileSync(bin, 'utf8'))?.[1];
if (!mainModule) throw new Error(`${bin} does not import { main } from a module; scripts/docs/cli-help.mjs needs to learn its new shape`);
const { main } = await import(pathToFileURL(resolve(dirname(bin), mainModule)).href);

class Exited extends Error {}

async function helpOf(path) {
  let text = '';
  const write = process.stdout.write;
  const exit = process.exit;
  const exitCode = process.exitCode;
  process.stdout.write = (chunk) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  };
  process.exit = () => {
    throw new Exited();
  };
  try {
    await main([process.execPath, binName, ...path, '--help']);
  } catch (err) {
    if (!(err instanceof Exited)) throw err;
  } finally {
    process.stdout.write = write;
    process.exit = exit;
    process.exitCode = exitCode;
  }
  return text;
}

/** Subcommand names listed under "Commands:" (commander's layout: two spaces, the name, its usage). */
function subcommandsOf(help) {
  const at = help.indexOf('\nCommands:\n');
  if (at < 0) return [];
  const names = [];
  for (const line of help.slice(at + '\nCommands:\n'.length).split('\n')) {
    if (line.trim() === '') break;
    const m = /^ {2}([a-z][\w-]*)(?:\|[\w-]+)?(?=\s|$)/.exec(line);
    if (m && m[1] !== 'help') names.push(m[1]);
  }
  return names;
}

const helps = {};
async function walk(path) {
  const help = await helpOf(path);
  helps[path.join(' ')] = help;
  for (const name of subcommandsOf(help)) await walk([...path, name]);
}
await walk([]);
process.stdout.write(`${JSON.stringify({ bin: binName, helps })}\n`);
process.exit(0);
