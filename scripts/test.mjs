#!/usr/bin/env node
// Runs every test file under test/ with node's test runner and tsx's loader. Node 20's
// runner does not glob TypeScript files itself, so the list is made here.
// Usage: node scripts/test.mjs [filter...]   (filters match against the file path)

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const filters = process.argv.slice(2);
const files = find('test')
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// Test files mostly wait on servers and child processes, so several run at once even on two
// cores (node's default is one fewer than the cores: one file at a time on a 2-core CI).
// Each file starts its own servers on ports of its own, so files do not share state.
const concurrency = Number(process.env.SWITCHYARD_TEST_CONCURRENCY ?? 3);
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
