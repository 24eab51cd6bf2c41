// What `switchyard --help` and a memory-only worker load, read from the child process itself
// (module-trace.mjs: every resolved ES module and require's cache), so that a static import
// of a heavy adapter anywhere on those paths fails here — no timing involved. The figures
// (time, RSS) are measured by `npm run bench -- cli-startup`.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_INDEX, killAll, requireBuild, ROOT, runCli, start, tempDir, waitFor } from '../cli/cli-helpers.js';
import { importAdapter } from '../../src/adapter-package.js';

const TRACE_PRELOAD = resolve(ROOT, 'test', 'package', 'module-trace.mjs');
/** Packages neither `--help` nor a memory-only worker may load. */
const HEAVY = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@smithy/', 'fastify', '@fastify/swagger', '@fastify/swagger-ui', 'amqplib', 'ioredis', 'zeromq'];

function packagesIn(trace: string): Set<string> {
  const found = new Set<string>();
  for (const m of trace.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)) found.add(m[1]!);
  return found;
}

function heavyIn(found: Set<string>): string[] {
  return [...found].filter((p) => HEAVY.some((h) => (h.endsWith('/') ? p.startsWith(h) : p === h))).sort();
}

const traceEnv = (file: string) => ({ SWITCHYARD_MODULE_TRACE: file, NODE_OPTIONS: `--import ${pathToFileURL(TRACE_PRELOAD).href}` });

describe('lazy loading', () => {
  after(killAll);

  it('switchyard --help loads commander and none of the adapters', async () => {
    requireBuild();
    const dir = await tempDir('sy-trace-');
    try {
      const trace = join(dir.dir, 'help.trace');
      const r = await runCli(['--help'], { env: traceEnv(trace) });
      assert.equal(r.code, 0, r.stderr);
      for (const command of ['run', 'dev', 'send', 'service', 'provider', 'dashboard']) assert.match(r.stdout, new RegExp(`\\n  ${command}\\b`), `--help lists ${command}`);
      const found = packagesIn(readFileSync(trace, 'utf8'));
      assert.ok(found.has('commander'), `the trace saw the CLI's modules: ${[...found].join(', ')}`);
      assert.deepEqual(heavyIn(found), [], 'packages --help must not load');
      // Nor any model's runner or face: the help needs the models' flag lists only.
      assert.doesNotMatch(readFileSync(trace, 'utf8'), /dist\/models\/\w+\/(mod|runner)\.js/);
    } finally {
      await dir.remove();
    }
  });

  it('a memory-only worker (switchyard run, memory transport, fs store) loads none of the adapters', async () => {
    requireBuild();
    const dir = await tempDir('sy-trace-');
    try {
      const trace = join(dir.dir, 'worker.trace');
      writeFileSync(join(dir.dir, 'upper.mjs'), `import { worker } from ${JSON.stringify(pathToFileURL(DIST_INDEX).href)};\nexport default worker('upper', async (id) => [[id, true]]);\n`);
      writeFileSync(join(dir.dir, 'sysmap.yaml'), 'services:\n  upper:\n    in: upper-in\n    out:\n      - { case: true, queues: [upper-out] }\n');
      const cli = start(['run', join(dir.dir, 'upper.mjs'), '--map', join(dir.dir, 'sysmap.yaml'), '--state-dir', join(dir.dir, 'state'), '--storage-dir', join(dir.dir, 'storage')], {
        cwd: dir.dir,
        env: traceEnv(trace),
      });
      await waitFor(() => `the worker to start; stdout: ${cli.stdout()} stderr: ${cli.stderr()}`, () => /running; SIGINT or SIGTERM stops|switchyard send/.test(cli.stdout() + cli.stderr()) || cli.hasExited(), 20_000);
      assert.equal(cli.hasExited(), false, cli.stderr());
      cli.kill('SIGTERM');
      await cli.exited;
      const text = readFileSync(trace, 'utf8');
      const found = packagesIn(text);
      assert.match(text, /dist\/models\/worker\//, 'the trace saw the worker model');
      assert.deepEqual(heavyIn(found), [], 'packages a memory-only worker must not load');
      // Nor the other models' runners (the API's scheduler, the task model's HTTP service).
      assert.doesNotMatch(text, /dist\/models\/task\/(runner|task-service-component)\.js|dist\/models\/api\/runner\.js/);
    } finally {
      await dir.remove();
    }
  });

  it('an adapter whose package is missing fails with SY_ERR_ADAPTER_MISSING naming the npm install', async () => {
    await assert.rejects(
      importAdapter('amqp', ['sy-no-such-package'], () => import('sy-no-such-package' as string)),
      (err: Error & { code?: string }) => err.code === 'SY_ERR_ADAPTER_MISSING' && err.message.includes('npm install sy-no-such-package'),
    );
    // A missing file inside an installed package is a different fault and keeps its own error.
    await assert.rejects(importAdapter('x', ['sy-no-such-package'], () => import('./no-such-file.js' as string)), (err: Error & { code?: string }) => err.code === 'ERR_MODULE_NOT_FOUND');
  });
});
