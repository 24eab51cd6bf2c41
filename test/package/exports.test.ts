// Every subpath docs/getting-started.md documents is exported by package.json and importable
// by the package's name from the built package, and every exported subpath is documented;
// each model's face offers its define-function.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
const guide = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8');

/** `switchyardjs/...` in backticks anywhere in the guide's "What the package offers" section. */
function documented(): Set<string> {
  const section = guide.slice(guide.indexOf('## What the package offers'), guide.indexOf('\n## ', guide.indexOf('## What the package offers') + 5));
  return new Set([...section.matchAll(/`(switchyardjs(?:\/[a-z0-9/]+)?)`/g)].map((m) => m[1]!));
}

const FACES: Record<string, string[]> = {
  switchyardjs: ['worker', 'errors', 'createLogger'],
  'switchyardjs/worker': ['worker', 'startWorker'],
  'switchyardjs/api': ['defineApi', 'apiService', 'createBus', 'z'],
  'switchyardjs/api/testing': [],
  'switchyardjs/service': ['service', 'replyer', 'requester', 'publisher', 'subscriber', 't'],
  'switchyardjs/task': ['taskService'],
  'switchyardjs/provider': ['defineProvider', 'stream', 'coordinatorClient'],
};

describe('the package\'s public subpaths', () => {
  it('is named switchyardjs (switchyard on npm is another package) and keeps the switchyard command', () => {
    assert.equal(pkg.name, 'switchyardjs');
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: object }).bin), ['switchyard']);
  });

  it('documents exactly the subpaths package.json exports', () => {
    const exported = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
    assert.deepEqual([...documented()].sort(), exported.sort());
  });

  it('imports every documented subpath from the built package, each face with its define-functions', async () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run `npm run build` first');
    for (const subpath of documented()) {
      const mod = (await import(subpath)) as Record<string, unknown>;
      assert.ok(Object.keys(mod).length > 0, `${subpath} exports something`);
      for (const name of FACES[subpath] ?? []) assert.equal(typeof mod[name] === 'undefined', false, `${subpath} exports ${name}`);
    }
  });

  it('keeps the old ./models/* subpaths as aliases of the faces', async () => {
    for (const model of ['api', 'service', 'task', 'provider']) {
      assert.equal(await import(`switchyardjs/models/${model}`), await import(`switchyardjs/${model}`), `switchyardjs/models/${model} is switchyardjs/${model}`);
    }
  });
});
