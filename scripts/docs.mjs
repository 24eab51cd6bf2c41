#!/usr/bin/env node
// `npm run docs`: builds, then runs every generator of docs/reference/ (scripts/gen-*-doc.mjs:
// the CLI reference, the configuration reference, the errors reference, and any added later).
//   npm run docs               regenerate
//   npm run docs -- --check    fail if a generated file is not current

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
let failed = 0;
for (const script of readdirSync(resolve(root, 'scripts')).filter((f) => /^gen-.*-doc\.mjs$/.test(f)).sort()) {
  const child = spawnSync(process.execPath, [resolve(root, 'scripts', script), ...args], { cwd: root, stdio: 'inherit' });
  if (child.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
