// How every generator of docs/reference/ ends: write the page, or with --check exit 1 when
// the page on disk is not what it would write (the docs test and `npm run docs -- --check`).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** `file` is absolute; `name` is how messages call it. */
export function writeGenerated(file, name, text, argv = process.argv) {
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing: not current
    }
    if (current !== text) {
      console.error(`${name} is not current: run \`npm run docs\``);
      process.exit(1);
    }
    return;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${name}`);
}
