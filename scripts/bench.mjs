#!/usr/bin/env node
// `npm run bench -- NAME` runs bench/NAME.ts; each benchmark ends with its RESULT lines:
// RESULT bench=NAME case=CASE against=BASELINE unit=UNIT ours=N baseline=N ratio=N

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const available = readdirSync('bench').filter((f) => f.endsWith('.ts') && !f.startsWith('_')).map((f) => f.slice(0, -3));
const [name, ...rest] = process.argv.slice(2);
if (!name || !existsSync(`bench/${name}.ts`)) {
  console.error(`usage: npm run bench -- NAME [args]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
// The frameworks compared against live in bench/peers with their own node_modules.
if (!existsSync('bench/peers/node_modules')) {
  const peers = spawnSync('npm', ['ci', '--prefix', 'bench/peers', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (peers.status !== 0) process.exit(peers.status ?? 1);
}
// Benchmarks measure the built package, as users run it (tsx's transform adds costs of its own).
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const child = spawn(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...rest], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
