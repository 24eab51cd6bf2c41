#!/usr/bin/env node
// Builds the dashboard page into dist/dashboard-page/: esbuild bundles web/dashboard/main.ts
// (with the dagre layout library) into one minified app.js, next to index.html and app.css.
// Part of `npm run build`, so `npm pack` ships the page and it works offline (no CDN).

import { build } from 'esbuild';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'web', 'dashboard');
const out = join(root, 'dist', 'dashboard-page');

await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(src, 'main.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  outfile: join(out, 'app.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(join(src, 'index.html'), join(out, 'index.html'));
await copyFile(join(src, 'app.css'), join(out, 'app.css'));
const { size } = await stat(join(out, 'app.js'));
if (process.argv.includes('--verbose')) console.log(`dist/dashboard-page/app.js: ${(size / 1024).toFixed(1)} KiB`);
