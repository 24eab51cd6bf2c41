// How long `switchyard --help` takes and how much memory a memory-only worker holds, against
// a bare `node` doing nothing (the floor no CLI can go under). Whole processes, as a user
// starts them; runs alternate so machine noise hits both alike. Targets (issue 15): --help
// under 300 ms, a memory worker under 70 MB RSS.
//   npm run bench -- cli-startup [rounds]
// What these commands load is asserted (not timed) by test/package/lazy-loading.test.ts.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 7);
const BIN = resolve('bin/switchyard.js');
const DIST_INDEX = pathToFileURL(resolve('dist/index.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'sy-bench-startup-'));
writeFileSync(join(dir, 'upper.mjs'), `import { worker } from '${DIST_INDEX}';\nexport default worker('upper', async (id) => [[id, true]]);\n`);
writeFileSync(join(dir, 'upper.ts'), `import { worker } from '${DIST_INDEX}';\nexport default worker('upper', async (id: bigint) => [[id, true]]);\n`);
writeFileSync(join(dir, 'sysmap.yaml'), 'services:\n  upper:\n    in: upper-in\n    out:\n      - { case: true, queues: [upper-out] }\n');

/** Wall time of one whole process, ms. */
function timed(args: string[]): Promise<number> {
  return new Promise((ok, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    child.once('error', fail);
    child.once('close', (code) => (code === 0 ? ok(performance.now() - started) : fail(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

/** Peak RSS (VmHWM, MB) of a process once `ready` says it is up; then it is stopped. */
function peakRss(args: string[], ready: RegExp | 'now'): Promise<number> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`not ready after 20 s: ${out}`)), 20_000);
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      let mb = NaN;
      try {
        const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        mb = Number(kb) / 1024;
      } catch (e) {
        err ??= e as Error;
      }
      child.kill('SIGTERM');
      child.once('close', () => (err ? fail(err) : ok(mb)));
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready !== 'now' && ready.test(out)) setTimeout(() => finish(), 500);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    if (ready === 'now') setTimeout(() => finish(), 1_000);
  });
}

const worker = (file: string) => [BIN, 'run', join(dir, file), '--map', join(dir, 'sysmap.yaml'), '--state-dir', join(dir, 'state'), '--storage-dir', join(dir, 'storage')];
const READY = /running; SIGINT or SIGTERM stops|switchyard send/;

try {
  const help = await alternate(ROUNDS, { ours: () => timed([BIN, '--help']), baseline: () => timed(['-e', '0']) });
  printResult({ bench: 'cli-startup', case: 'help-wall', against: 'node-e-0', unit: 'ms', ours: median(help.ours), baseline: median(help.baseline), lowerIsBetter: true });
  const idle = ['-e', 'setTimeout(() => {}, 60_000)'];
  const js = await alternate(Math.min(ROUNDS, 5), { ours: () => peakRss(worker('upper.mjs'), READY), baseline: () => peakRss(idle, 'now') });
  printResult({ bench: 'cli-startup', case: 'memory-worker-js-rss', against: 'node-idle', unit: 'MB', ours: median(js.ours), baseline: median(js.baseline), lowerIsBetter: true });
  // A .ts module goes through tsx, whose loader runs on a thread of its own (Node 20): its cost is shown apart.
  const ts = await alternate(Math.min(ROUNDS, 3), { ours: () => peakRss(worker('upper.ts'), READY), baseline: () => peakRss(idle, 'now') });
  printResult({ bench: 'cli-startup', case: 'memory-worker-ts-rss', against: 'node-idle', unit: 'MB', ours: median(ts.ours), baseline: median(ts.baseline), lowerIsBetter: true });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
