// A .ts service in a folder without "type": "module" (issue 15): Node loads it as CommonJS.
// A service-model module there runs like any other (`switchyard service` failed with a
// misleading "exports no service"), and a module that really exports none says what to add
// to package.json.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadServiceDefinition } from '../../src/cli/commands/service.js';
import { loadServices } from '../../src/cli/load-services.js';
import { requireBuild, ROOT, runCli } from './cli-helpers.js';

const SRC = resolve('src');
const dirs: string[] = [];
function folder(packageJson: string | undefined, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-cjs-'));
  dirs.push(dir);
  if (packageJson !== undefined) writeFileSync(join(dir, 'package.json'), packageJson);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const workerModule = `import { worker } from ${JSON.stringify(join(SRC, 'models/worker/mod.ts'))};
export default worker('upper', async (id) => [[id, true]]);
`;
const helloModule = `import { service } from ${JSON.stringify(join(ROOT, 'dist/models/service/mod.js'))};
export default service({ name: 'hello', main: async () => { console.log('main ran'); } });
`;
const emptyModule = `export const answer = 42;\n`;

describe('a .ts service in a folder without "type": "module"', () => {
  // Through the built CLI, as a user runs it (the test runner's own tsx loader would load
  // the file as ESM whatever package.json says).
  for (const [what, pkg] of [['no package.json', undefined], ['"type": "commonjs"', '{"name":"mine","type":"commonjs"}']] as const) {
    it(`switchyard service runs a service-model module (${what})`, async () => {
      requireBuild();
      const dir = folder(pkg, { 'hello.ts': helloModule });
      const result = await runCli(['service', '-s', 'hello.ts', '-m', '-cl', 'warn'], { cwd: dir, timeoutMs: 30_000 });
      assert.equal(result.stderr, '');
      assert.equal(result.stdout.trim(), 'main ran');
      assert.equal(result.code, 0);
    });
  }

  it('loads a worker module', async () => {
    const dir = folder('{"type":"commonjs"}', { 'upper.ts': workerModule });
    assert.equal((await loadServices(join(dir, 'upper.ts'))).length, 1);
  });

  it('a module exporting no service says to add "type": "module" to the package.json it found', async () => {
    const dir = folder('{"name":"mine"}', { 'empty.ts': emptyModule });
    const pkg = join(dir, 'package.json');
    for (const load of [() => loadServices(join(dir, 'empty.ts')), () => loadServiceDefinition(join(dir, 'empty.ts'))]) {
      await assert.rejects(load(), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'SY_ERR_MODULE');
        assert.match(e.message, /it exports no service; add/);
        assert.ok(e.message.includes(`Note: ${pkg} has no "type": "module", so Node loads this .ts file as CommonJS; Switchyard is ESM-only: add "type": "module" to ${pkg}`), e.message);
        return true;
      });
    }
  });

  it('and says nothing of the kind in a "type": "module" folder', async () => {
    const dir = folder('{"type":"module"}', { 'empty.ts': emptyModule });
    await assert.rejects(loadServices(join(dir, 'empty.ts')), (e: Error) => !e.message.includes('CommonJS'));
  });
});
