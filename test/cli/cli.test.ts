// Exit codes and messages of the `switchyard` command: 0 ok, 2 usage or configuration.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIST_INDEX, UPPER_MAP, killAll, requireBuild, runCli, tempDir } from './cli-helpers.js';

const T = { timeout: 30_000 };

const MAP = UPPER_MAP;

describe('switchyard CLI: help and exit codes', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    requireBuild();
    tmp = await tempDir();
    await writeFile(join(tmp.dir, 'sysmap.yaml'), MAP);
    // A module that loads: settings are checked once the modules say which models run.
    await writeFile(join(tmp.dir, 'x.mts'), `import { worker } from ${JSON.stringify(DIST_INDEX)};\nexport default worker('upper', (id) => [[id, true]]);\n`);
  });
  after(async () => {
    killAll();
    await tmp?.remove();
  });

  /** Runs in the temp folder, so nothing defaults to the repository's .switchyard. */
  const cli = (args: string[], env?: Record<string, string>) => runCli(args, { cwd: tmp.dir, ...(env ? { env } : {}) });

  for (const command of ['run', 'dev', 'send', 'put', 'config-server']) {
    it(`${command} --help exits 0 and shows examples`, T, async () => {
      const r = await cli([command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: switchyard ${command} `, 'm'));
      assert.match(r.stdout, /^Examples:\n {2}switchyard /m);
      assert.equal(r.stderr, '');
    });
  }

  it('--help on the program lists every command and exits 0', T, async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const command of ['run', 'dev', 'send', 'put', 'config-server']) assert.match(r.stdout, new RegExp(`^ {2}${command} `, 'm'));
  });

  it('an unknown command exits 2', T, async () => {
    const r = await cli(['bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'bogus'/);
    assert.match(r.stderr, /--help/);
  });

  it('no command at all exits 2 with the usage', T, async () => {
    const r = await cli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: switchyard/);
  });

  for (const [args, missing] of [
    [['run'], 'module'],
    [['send', 'upper-in'], 'id'],
    [['put', 'src', '1'], 'file'],
    [['dev'], 'dir'],
  ] as const) {
    it(`${args.join(' ')} (missing <${missing}>) exits 2`, T, async () => {
      const r = await cli([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`missing required argument '${missing}'`));
    });
  }

  it('config-server without --map exits 2', T, async () => {
    const r = await cli(['config-server']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--map/);
  });

  it('an invalid option value (--log-level nonsense) exits 2', T, async () => {
    const r = await cli(['run', 'x.mts', '--log-level', 'nonsense']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--log-level/);
  });

  it('run with a nonexistent module exits 2 with SY_ERR_MODULE', T, async () => {
    const r = await cli(['run', 'no-such-worker.ts', '--map', 'sysmap.yaml', '--state-dir', 'state']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SY_ERR_MODULE: module no-such-worker\.ts cannot be run: no such file/);
  });

  it('run with a module that exports no service exits 2 and says what to export', T, async () => {
    await writeFile(join(tmp.dir, 'nothing.ts'), 'export const answer: number = 42;\n');
    const r = await cli(['run', 'nothing.ts', '--map', 'sysmap.yaml', '--state-dir', 'state']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SY_ERR_MODULE: module nothing\.ts cannot be run: it exports no service/);
    assert.match(r.stderr, /export default worker\(/);
  });

  it('run with a module that fails to import exits 2 with SY_ERR_MODULE and the cause', T, async () => {
    await writeFile(join(tmp.dir, 'throws.mts'), 'throw new Error("boom at import");\nexport {};\n');
    const r = await cli(['run', 'throws.mts', '--map', 'sysmap.yaml', '--state-dir', 'state']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SY_ERR_MODULE: module throws\.mts cannot be run: importing it failed: boom at import/);
  });

  it('run without --map or --config-host exits 2 naming both', T, async () => {
    const mod = join(tmp.dir, 'ok.mts');
    await writeFile(mod, `import { worker } from ${JSON.stringify(DIST_INDEX)};\nexport default worker('upper', (id) => [[id, true]]);\n`);
    const r = await cli(['run', 'ok.mts', '--state-dir', 'state']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SY_ERR_SETTINGS/);
    assert.match(r.stderr, /--map/);
    assert.match(r.stderr, /--config-host/);
  });

  it('config-server with a bad map exits 2 and names every problem', T, async () => {
    await writeFile(join(tmp.dir, 'bad.yaml'), [
      'services:',
      '  a:',
      '    in: a-in',
      '    out:',
      '      - { case: 1.5, queues: [x] }',
      '      - { case: 2, queues: [] }',
      '',
    ].join('\n'));
    const r = await cli(['config-server', '--map', 'bad.yaml', '--port', '0']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '', 'nothing may be served from a bad map');
    assert.match(r.stderr, /SY_ERR_SYSMAP_INVALID: system map bad\.yaml is not valid/);
    assert.match(r.stderr, /services\.a\.out\[0\]\.case: 1\.5 is a float/);
    assert.match(r.stderr, /services\.a\.out\[1\]\.queues: is an empty list/);
  });

  it('config-server with a bad --port exits 2', T, async () => {
    const r = await cli(['config-server', '--map', 'sysmap.yaml', '--port', 'abc']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port must be 0-65535, got abc/);
  });

  it('dev with a bad --timeout exits 2', T, async () => {
    const r = await cli(['dev', 'examples', '--timeout', '-5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--timeout must be a positive number/);
  });

  for (const id of ['abc', '-1', '18446744073709551616', '1.5']) {
    it(`send with the bad id ${JSON.stringify(id)} exits 2 before looking for a process`, T, async () => {
      const r = await cli(['send', 'upper-in', '1', id, '--state-dir', 'state']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`SY_ERR_USAGE: cannot send ${JSON.stringify(id).replace(/[.]/g, '\\.')}: SY_ERR_BAD_ID`));
      assert.doesNotMatch(r.stderr, /SY_ERR_NO_LOCAL_BROKER/);
    });
  }

  it('send with no running process exits 2 and says to start `switchyard dev` or `run`', T, async () => {
    const r = await cli(['send', 'upper-in', '1', '--state-dir', 'nobody-home']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SY_ERR_NO_LOCAL_BROKER: no switchyard process runs the embedded broker of nobody-home/);
    assert.match(r.stderr, /start `switchyard run` or `switchyard dev`/);
  });

  it('send with a stale broker socket (its process is gone) exits 2 the same way', T, async () => {
    const state = join(tmp.dir, 'stale');
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'broker.sock'), ''); // what a killed host leaves: nobody accepts on it
    const r = await cli(['send', 'upper-in', '1', '--state-dir', state]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SY_ERR_NO_LOCAL_BROKER/);
  });

  it('an invalid SWITCHYARD_LOG_LEVEL exits 2 naming the environment variable', T, async () => {
    const r = await cli(['run', 'x.mts'], { SWITCHYARD_LOG_LEVEL: 'nonsense' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SY_ERR_SETTINGS/);
    assert.match(r.stderr, /environment variable SWITCHYARD_LOG_LEVEL/);
  });

  it('a settings file with an unknown key exits 2 naming the key', T, async () => {
    await writeFile(join(tmp.dir, 'settings.yaml'), 'logLevel: info\nlogLevle: debug\n');
    const r = await cli(['run', 'x.mts', '--settings', 'settings.yaml']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /SY_ERR_SETTINGS: invalid settings: unknown setting\(s\) logLevle/);
  });

  it('a bad value in the settings file exits 2 naming the file', T, async () => {
    await writeFile(join(tmp.dir, 'settings-bad.yaml'), 'metricsPort: 70000\n');
    const r = await cli(['run', 'x.mts'], { SWITCHYARD_SETTINGS: 'settings-bad.yaml' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /metricsPort \(from settings file settings-bad\.yaml\)/);
  });

  it('a missing settings file exits 2', T, async () => {
    const r = await cli(['run', 'x.mts', '--settings', 'no-such-settings.yaml']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot read settings file no-such-settings\.yaml: ENOENT/);
  });
});
