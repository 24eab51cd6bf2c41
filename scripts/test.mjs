#!/usr/bin/env node
// Runs every test file under test/ with node's test runner and tsx's loader. Node 20's
// runner does not glob TypeScript files itself, so the list is made here.
// Usage: node scripts/test.mjs [filter...]   (filters match against the file path)

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
// Test files mostly wait on servers and child processes, so two run at once even on two
// cores (node's default is one fewer than the cores: one file at a time on a 2-core CI).
// Each file starts its own servers on ports of its own, so files do not share state.
const concurrency = Number(process.env.SWITCHYARD_TEST_CONCURRENCY ?? 2);
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

// A test file that never ends (a handle left open, an await that never settles) would hold
// the whole run until CI's own limit with no name on it: past FILE_LIMIT_MS its process is
// killed, which node's runner reports as that file failing. Linux only (reads /proc).
const FILE_LIMIT_MS = Number(process.env.SWITCHYARD_TEST_FILE_LIMIT_MS ?? 600_000);
const firstSeen = new Map();
const watchdog = setInterval(() => {
  let entries;
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return clearInterval(watchdog);
  }
  const now = Date.now();
  for (const pid of entries) {
    let stat, cmdline;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    // Fields after the command name in parentheses: state, then the parent's pid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const file = cmdline.find((a) => a.endsWith('.test.ts'));
    if (ppid !== child.pid || !file) continue;
    const key = `${pid} ${file}`;
    if (!firstSeen.has(key)) firstSeen.set(key, now);
    else if (now - firstSeen.get(key) > FILE_LIMIT_MS) {
      console.error(`✖ ${relative('.', file)} still running after ${Math.round(FILE_LIMIT_MS / 1000)} s (pid ${pid}): killed; a test file that does not end leaves something open`);
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
      firstSeen.delete(key);
    }
  }
}, 5_000);
watchdog.unref();
